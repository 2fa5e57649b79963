"""An official document (公文) as data, and the GB/T 9704-2012 layout numbers.

``OfficialDocument`` holds every element the standard names (版头, 主体, 版记) as plain
values; ``rendering.render_document`` lays it out and ``sealing`` signs it. Nothing here
touches the database: the documents app stores these values in its own models later.

Lengths are in millimetres and font sizes in points unless the name says otherwise.
Chinese font sizes: 2号 = 22 pt, 3号 = 16 pt, 4号 = 14 pt.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass
from enum import StrEnum

# --- Page and text block (GB/T 9704-2012 §5.2) -------------------------------------------
PAGE_WIDTH_MM = 210.0  # A4
PAGE_HEIGHT_MM = 297.0
MARGIN_TOP_MM = 37.0  # 天头: page top edge to text block top edge, 37 ± 1 mm
MARGIN_LEFT_MM = 28.0  # 订口 (binding margin): page left edge to text block, 28 ± 1 mm
BLOCK_WIDTH_MM = 156.0  # 版心 156 × 225 mm (without the page number)
BLOCK_HEIGHT_MM = 225.0
BLOCK_RIGHT_MM = MARGIN_LEFT_MM + BLOCK_WIDTH_MM  # 184 mm from the left page edge
BLOCK_BOTTOM_MM = MARGIN_TOP_MM + BLOCK_HEIGHT_MM  # 262 mm from the top page edge

# --- Body text (§5.2.2, §7.3.3) ---------------------------------------------------------
LINES_PER_PAGE = 22
CHARS_PER_LINE = 28
LINE_PITCH_MM = BLOCK_HEIGHT_MM / LINES_PER_PAGE  # 10.23 mm: 22 lines fill the block
CHAR_PITCH_MM = BLOCK_WIDTH_MM / CHARS_PER_LINE  # 5.57 mm: 28 characters fill a line
BODY_PT = 16.0  # 3号仿宋
TITLE_PT = 22.0  # 2号小标宋
IMPRINT_PT = 14.0  # 4号仿宋 (抄送, 印发)
PAGE_NUMBER_PT = 14.0  # 4号半角宋体阿拉伯数字
PAGE_NUMBER_GAP_MM = 7.0  # 一字线 top edge 7 mm below the text block
PAGE_NUMBER_TEMPLATE = "— {} —"

# --- Header (版头, §7.2) -----------------------------------------------------------------
ISSUER_MARK_OFFSET_MM = 35.0  # 文件/纪要: mark top edge 35 mm below the text block top
ISSUER_MARK_HEIGHT_MM = 18.0  # character height (the standard: at most 22 × 15 mm)
ISSUER_MARK_MAX_CHAR_WIDTH_MM = 15.0
RULE_BELOW_NUMBER_MM = 4.0  # red separator 4 mm below the document number
RULE_WIDTH_MM = BLOCK_WIDTH_MM  # same width as the text block
RULE_THICKNESS_MM = 0.5
IMPRINT_THICK_RULE_MM = 0.35  # 版记 first and last rules
IMPRINT_THIN_RULE_MM = 0.25  # 版记 rules in between
IMPRINT_LINE_MM = 7.5

# --- Special formats (§10) ---------------------------------------------------------------
LETTER_MARK_TOP_MM = 30.0  # 信函: mark top edge 30 mm below the *page* top edge
LETTER_MARK_HEIGHT_MM = 12.0
LETTER_RULE_LENGTH_MM = 170.0  # both red double rules, centred on the page
LETTER_BOTTOM_RULE_MM = 20.0  # lower double rule 20 mm above the page bottom edge
ORDER_MARK_OFFSET_MM = 20.0  # 命令: mark top edge 20 mm below the text block top

# --- Seal (§7.3.5.1) ---------------------------------------------------------------------
SEAL_DIAMETER_MM = 42.0
SIGNATURE_SEAL_MM = 24.0  # 命令: the signer's 签名章, over the name only
SEAL_SIGNATURE_DROP_MM = 3.0  # signature and date sit a little below the seal centre

ISSUER_RED = (0.902, 0.0, 0.071)  # C0 M100 Y100 K0 printed red, #E60012
SEAL_RED = (0.87, 0.05, 0.07)

# 结构层次序数 (§7.3.3): 一、 黑体; （一） 楷体; 1. and （1） 仿宋
HEADING_PATTERNS: tuple[tuple[int, re.Pattern[str]], ...] = (
    (1, re.compile(r"^[一二三四五六七八九十百]+、")),
    (2, re.compile(r"^（[一二三四五六七八九十百]+）")),
    (3, re.compile(r"^\d+[.．]")),
    (4, re.compile(r"^[（(]\d+[）)]")),
)


def heading_level(paragraph: str) -> int:
    """1–4 for a paragraph that starts with 一、 / （一） / 1. / （1）; 0 otherwise."""
    for level, pattern in HEADING_PATTERNS:
        if pattern.match(paragraph):
            return level
    return 0


class DocumentKind(StrEnum):
    """The four formats of GB/T 9704-2012: 文件 (§7) and the special ones (§10)."""

    FILE = "文件"
    LETTER = "信函"
    ORDER = "命令"
    MINUTES = "纪要"


@dataclass(frozen=True)
class Attachment:
    """An attachment printed after the body, each starting on a new page (§8)."""

    title: str
    paragraphs: tuple[str, ...] = ()


@dataclass(frozen=True)
class OfficialDocument:
    """Every element of a GB/T 9704-2012 document.

    ``issuer`` is the issuing authority's full name; the issuer mark, the signature and the
    demo seal derive from it unless given. The document number is ``issuer_code〔year〕
    serial号`` (命令: ``第serial号``). ``body`` paragraphs may begin with heading numbers
    一、 （一） 1. （1）, which select the heading fonts.
    """

    issuer: str
    title: str
    date: dt.date  # 成文日期
    body: tuple[str, ...] = ()
    kind: DocumentKind = DocumentKind.FILE
    issuer_mark: str = ""  # 发文机关标志; default per kind (…文件, …, …令, …纪要)
    copy_number: str = ""  # 份号, 6 digits
    classification: str = ""  # 密级: 秘密 / 机密 / 绝密
    secrecy_period: str = ""  # 保密期限, e.g. 1年
    urgency: str = ""  # 紧急程度: 特急 / 加急
    issuer_code: str = ""  # 机关代字, e.g. 示范府
    year: int | None = None
    serial: int | None = None
    signers: tuple[str, ...] = ()  # 签发人 (upward documents, 上行文)
    signer_title: str = ""  # 命令: 签发人职务, e.g. 市长
    addressees: str = ""  # 主送机关
    attachment_notes: tuple[str, ...] = ()  # 附件说明; default: the attachments' titles
    signature: str = ""  # 发文机关署名; default ``issuer``
    sealed: bool = True  # 印章 placed over the date (纪要 is never sealed)
    seal_image: bytes | None = None  # PNG; a demo seal is drawn when missing
    notes: str = ""  # 附注, printed in parentheses
    attachments: tuple[Attachment, ...] = ()
    cc: tuple[str, ...] = ()  # 抄送机关
    printed_by: str = ""  # 印发机关
    printed_on: dt.date | None = None  # 印发日期
    attendees: tuple[str, ...] = ()  # 纪要: 出席
    absentees: tuple[str, ...] = ()  # 纪要: 请假
    observers: tuple[str, ...] = ()  # 纪要: 列席

    @property
    def mark(self) -> str:
        if self.issuer_mark:
            return self.issuer_mark
        return {
            DocumentKind.FILE: f"{self.issuer}文件",
            DocumentKind.LETTER: self.issuer,
            DocumentKind.ORDER: f"{self.issuer}令",
            DocumentKind.MINUTES: f"{self.issuer}纪要",
        }[self.kind]

    @property
    def number(self) -> str:
        """发文字号: 示范府〔2026〕12号 (no leading zeros); 命令: 第12号; '' when unnumbered."""
        if self.serial is None:
            return ""
        if self.kind == DocumentKind.ORDER:
            return f"第{self.serial}号"
        year = self.year if self.year is not None else self.date.year
        return f"{self.issuer_code}〔{year}〕{self.serial}号"

    @property
    def signed_by(self) -> str:
        return self.signature or self.issuer

    @property
    def seal_applies(self) -> bool:
        return self.sealed and self.kind != DocumentKind.MINUTES

    @property
    def secrecy(self) -> str:
        """密级和保密期限: 秘密★1年."""
        if not self.classification:
            return ""
        if self.secrecy_period:
            return f"{self.classification}★{self.secrecy_period}"
        return self.classification

    @property
    def notes_list(self) -> tuple[str, ...]:
        return self.attachment_notes or tuple(a.title for a in self.attachments)

    def canonical_content(self) -> bytes:
        """The document's content as canonical JSON bytes: what the SM2 signature covers.

        Every element, keys sorted, no insignificant whitespace, dates ISO; the seal image
        is represented by its SHA-256 so a changed seal changes the content too.
        """
        data = {
            "kind": str(self.kind),
            "issuer": self.issuer,
            "issuer_mark": self.mark,
            "copy_number": self.copy_number,
            "secrecy": self.secrecy,
            "urgency": self.urgency,
            "number": self.number,
            "signers": list(self.signers),
            "signer_title": self.signer_title,
            "title": self.title,
            "addressees": self.addressees,
            "body": list(self.body),
            "attachment_notes": list(self.notes_list),
            "signature": self.signed_by,
            "date": self.date.isoformat(),
            "sealed": self.seal_applies,
            "seal_image_sha256": (
                hashlib.sha256(self.seal_image).hexdigest() if self.seal_image else ""
            ),
            "notes": self.notes,
            "attachments": [
                {"title": a.title, "paragraphs": list(a.paragraphs)} for a in self.attachments
            ],
            "cc": list(self.cc),
            "printed_by": self.printed_by,
            "printed_on": self.printed_on.isoformat() if self.printed_on else "",
            "attendees": list(self.attendees),
            "absentees": list(self.absentees),
            "observers": list(self.observers),
        }
        return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode(
            "utf-8"
        )


def chinese_date(value: dt.date) -> str:
    """成文日期 as the 2012 edition writes it: Arabic digits, no padding: 2026年1月5日."""
    return f"{value.year}年{value.month}月{value.day}日"
