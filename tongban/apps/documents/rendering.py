"""Render an ``OfficialDocument`` to PDF bytes in the GB/T 9704-2012 layout (ReportLab).

The platform's PDF package (``tongban.platform.pdf``) uses ReportLab with embedded TrueType
fonts; this module uses the same engine but its own layout: body text is set on the
standard's grid (22 lines × 28 characters filling the 156 × 225 mm text block), every glyph
placed at its cell, so line and character positions are exactly the standard's numbers.

Fonts are found by family name through fontconfig (``fc-list``): the licensed government
fonts (仿宋_GB2312, 方正小标宋简体, 黑体, 楷体_GB2312, 宋体) when an installation has them,
else open fonts from Debian packages: AR PL UMing CN (fonts-arphic-uming; a Song face, the
nearest open relative of 仿宋 with simplified glyphs — Debian's only open 仿宋,
fonts-cwtex-fs, lacks simplified characters), AR PL UKai CN (fonts-arphic-ukai) for 楷体,
WenQuanYi Zen Hei (fonts-wqy-zenhei) for 黑体. ReportLab embeds TrueType outlines only, so
CFF fonts such as Noto CJK are skipped. The 小标宋 fallback is emboldened with a stroke.
"""

from __future__ import annotations

import io
import logging
import math
import shutil
import subprocess
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from reportlab import rl_config
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.pdfgen.canvas import Canvas

from tongban.apps.documents.layout import (
    BLOCK_BOTTOM_MM,
    BLOCK_RIGHT_MM,
    BLOCK_WIDTH_MM,
    BODY_PT,
    CHAR_PITCH_MM,
    CHARS_PER_LINE,
    IMPRINT_LINE_MM,
    IMPRINT_PT,
    IMPRINT_THICK_RULE_MM,
    IMPRINT_THIN_RULE_MM,
    ISSUER_MARK_HEIGHT_MM,
    ISSUER_MARK_MAX_CHAR_WIDTH_MM,
    ISSUER_MARK_OFFSET_MM,
    ISSUER_RED,
    LETTER_BOTTOM_RULE_MM,
    LETTER_MARK_HEIGHT_MM,
    LETTER_MARK_TOP_MM,
    LETTER_RULE_LENGTH_MM,
    LINE_PITCH_MM,
    LINES_PER_PAGE,
    MARGIN_LEFT_MM,
    MARGIN_TOP_MM,
    ORDER_MARK_OFFSET_MM,
    PAGE_HEIGHT_MM,
    PAGE_NUMBER_GAP_MM,
    PAGE_NUMBER_PT,
    PAGE_NUMBER_TEMPLATE,
    PAGE_WIDTH_MM,
    RULE_BELOW_NUMBER_MM,
    RULE_THICKNESS_MM,
    RULE_WIDTH_MM,
    SEAL_DIAMETER_MM,
    SEAL_SIGNATURE_DROP_MM,
    SIGNATURE_SEAL_MM,
    TITLE_PT,
    DocumentKind,
    OfficialDocument,
    chinese_date,
    heading_level,
)
from tongban.platform.crypto.sm import sm3_hex
from tongban.platform.pdf.fonts import pdf_font

logger = logging.getLogger(__name__)

PT_MM = 25.4 / 72  # one point in millimetres
EM_ASCENT = 0.88  # ideographic em box: 0.88 em above the baseline, 0.12 below
BLACK = (0.0, 0.0, 0.0)
KEYWORD_PREFIX = "sm3:"

# --- fonts -------------------------------------------------------------------------------

LICENSED_FAMILIES: dict[str, tuple[str, ...]] = {
    "fangsong": (
        "仿宋_GB2312",
        "FangSong_GB2312",
        "仿宋",
        "FangSong",
        "方正仿宋_GBK",
        "方正仿宋简体",
        "FZFangSong-Z02S",
        "FZFangSong-Z02",
    ),
    "xiaobiaosong": (
        "方正小标宋简体",
        "方正小标宋_GBK",
        "FZXiaoBiaoSong-B05S",
        "FZXiaoBiaoSong-B05",
        "小标宋",
    ),
    "hei": ("黑体", "SimHei", "方正黑体_GBK", "方正黑体简体", "FZHei-B01S"),
    "kai": ("楷体_GB2312", "KaiTi_GB2312", "楷体", "KaiTi", "方正楷体_GBK", "FZKai-Z03S"),
    "song": ("宋体", "SimSun", "方正书宋_GBK", "FZShuSong-Z01S"),
}
OPEN_FAMILIES: dict[str, tuple[str, ...]] = {
    "fangsong": ("AR PL UMing CN", "AR PL SungtiL GB", "WenQuanYi Zen Hei"),
    "xiaobiaosong": ("AR PL UMing CN", "AR PL SungtiL GB", "WenQuanYi Zen Hei"),
    "hei": ("WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "AR PL UMing CN"),
    "kai": ("AR PL UKai CN", "AR PL KaitiM GB", "AR PL UMing CN", "WenQuanYi Zen Hei"),
    "song": ("AR PL UMing CN", "AR PL SungtiL GB", "WenQuanYi Zen Hei"),
}
ROLES = tuple(LICENSED_FAMILIES)


@dataclass(frozen=True)
class RoleFont:
    """The font set for one role (fangsong, xiaobiaosong, hei, kai, song)."""

    role: str
    name: str  # the ReportLab font name
    family: str
    path: str
    index: int  # subfont index in a .ttc collection
    licensed: bool  # one of the government fonts, not an open fallback
    covers: Mapping[int, int] | None = field(repr=False)  # code point → glyph; None: all
    ascent: float = EM_ASCENT  # share of the em box above the baseline

    @property
    def emboldened(self) -> bool:
        """小标宋 is a heavy face: open fallbacks are stroked to approach it."""
        return self.role == "xiaobiaosong" and not self.licensed

    def has(self, char: str) -> bool:
        return self.covers is None or ord(char) in self.covers


@lru_cache(maxsize=1)
def installed_families() -> dict[str, tuple[str, int]]:
    """Family name (every name a font declares, case-folded) → (file, collection index)."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        logger.warning("fontconfig (fc-list) missing; using the platform PDF font")
        return {}
    try:
        result = subprocess.run(  # noqa: S603 - fixed arguments
            [fc_list, "--format", "%{file}\t%{index}\t%{family}\n"],
            capture_output=True,
            check=True,
            timeout=20,
        )
    except (OSError, subprocess.SubprocessError) as error:
        logger.warning("fontconfig not usable (%s); using the platform PDF font", error)
        return {}
    families: dict[str, tuple[str, int]] = {}
    for line in result.stdout.decode("utf-8", "replace").splitlines():
        parts = line.split("\t")
        if len(parts) != 3:
            continue
        path, index, names = parts
        for name in names.split(","):
            key = name.strip().casefold()
            if key and key not in families:
                families[key] = (path, int(index or 0))
    return families


_registered: dict[tuple[str, int], TTFont | None] = {}


def _load(path: str, index: int) -> TTFont | None:
    key = (path, index)
    if key not in _registered:
        name = f"GBT9704-{len(_registered)}"
        try:
            font = TTFont(name, path, subfontIndex=index)
        except (TTFError, OSError, ValueError) as error:  # CFF outlines, broken files
            logger.info("document font %s#%s not usable: %s", path, index, error)
            _registered[key] = None
        else:
            pdfmetrics.registerFont(font)
            _registered[key] = font
    return _registered[key]


def _find(role: str) -> RoleFont:
    families = installed_families()
    for licensed, names in ((True, LICENSED_FAMILIES[role]), (False, OPEN_FAMILIES[role])):
        for family in names:
            found = families.get(family.casefold())
            if found is None:
                continue
            font = _load(*found)
            if font is None:
                continue
            face = font.face
            covers = face.charToGlyph
            span = face.ascent - face.descent
            ascent = face.ascent / span if span > 0 else EM_ASCENT
            return RoleFont(
                role, font.fontName, family, found[0], found[1], licensed, covers, ascent
            )
    fallback = pdf_font()  # the platform's choice: an embedded TTF or the CID font
    covers_fallback: Mapping[int, int] | None = None
    if fallback.embedded:
        face = pdfmetrics.getFont(fallback.name)
        covers_fallback = face.face.charToGlyph  # type: ignore[attr-defined]
    return RoleFont(role, fallback.name, fallback.name, fallback.path, 0, False, covers_fallback)


@dataclass(frozen=True)
class DocumentFonts:
    fangsong: RoleFont
    xiaobiaosong: RoleFont
    hei: RoleFont
    kai: RoleFont
    song: RoleFont

    def role(self, role: str) -> RoleFont:
        font: RoleFont = getattr(self, role)
        return font

    def for_char(self, role: str, char: str) -> RoleFont:
        """The role's font, or the first other font with a glyph for ``char``."""
        first = self.role(role)
        if first.has(char):
            return first
        for other in ROLES:
            candidate = self.role(other)
            if candidate.has(char):
                return candidate
        return first


@lru_cache(maxsize=1)
def document_fonts() -> DocumentFonts:
    """Find and register the five fonts once per process."""
    return DocumentFonts(**{role: _find(role) for role in ROLES})


def document_fonts_reset() -> None:
    document_fonts.cache_clear()
    installed_families.cache_clear()


# --- layout primitives -------------------------------------------------------------------


@dataclass
class Glyph:
    x: float  # mm from the page's left edge
    char: str
    font: RoleFont
    size: float  # pt
    color: tuple[float, float, float] = BLACK
    hscale: float = 100.0


@dataclass
class Line:
    """One line of text: glyphs with their x; placed either in a grid slot or at ``top``."""

    glyphs: list[Glyph]
    size: float = BODY_PT
    page: int = -1
    slot: int = -1
    top: float | None = None  # absolute em-box top (mm from the page top)
    tag: str = ""

    def em_top(self) -> float:
        if self.top is not None:
            return self.top
        centre = MARGIN_TOP_MM + self.slot * LINE_PITCH_MM + BODY_PT * PT_MM / 2
        return centre - self.size * PT_MM / 2

    @property
    def left(self) -> float:
        return min((g.x for g in self.glyphs), default=MARGIN_LEFT_MM)

    @property
    def right(self) -> float:
        return max((g.x + _advance(g) for g in self.glyphs), default=MARGIN_LEFT_MM)


@dataclass
class Rule:
    x1: float
    x2: float
    y: float  # centre line, mm from the page top
    thickness: float
    color: tuple[float, float, float] = BLACK


@dataclass
class Picture:
    data: bytes
    x: float  # left, mm
    y: float  # top, mm
    width: float
    height: float


@dataclass
class Page:
    lines: list[Line] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    pictures: list[Picture] = field(default_factory=list)
    number: bool = True


@lru_cache(maxsize=65536)
def _char_width(font: str, char: str, size: float) -> float:
    return float(pdfmetrics.stringWidth(char, font, size)) * PT_MM


def _advance(glyph: Glyph) -> float:
    return _char_width(glyph.font.name, glyph.char, glyph.size) * glyph.hscale / 100


def _cells(char: str) -> int:
    """Width in half cells: 2 for full-width (CJK, Chinese punctuation), 1 for half-width."""
    return 2 if unicodedata.east_asian_width(char) in "WFA" else 1


NO_LINE_START = set("，。、；：？！）》」』】〕〗〉”’…—·%‰,.;:?!)]}")
NO_LINE_END = set("（《「『【〔〖〈“‘([{")

Styled = list[tuple[str, str]]  # (char, font role)


def _styled(text: str, role: str) -> Styled:
    return [(char, role) for char in text]


def wrap_cells(
    chars: Styled, *, width: int = CHARS_PER_LINE * 2, first: int = 0, later: int = 0
) -> list[tuple[int, Styled, bool]]:
    """Break into grid lines (widths in half cells): (indent, chars, justify) per line.

    Chinese line-breaking rules: closing punctuation never starts a line and opening
    punctuation never ends one (the character before moves down instead, and the shortened
    line is justified to the full width); Latin words and numbers are not split.
    """
    lines: list[tuple[int, Styled, bool]] = []
    current: Styled = []
    used = 0
    indent = first
    index = 0
    while index < len(chars):
        char = chars[index][0]
        need = _cells(char)
        if current and used + need > width - indent:
            carry: Styled = []
            if char in NO_LINE_START and len(current) > 1:
                carry.insert(0, current.pop())
            while len(current) > 1 and current[-1][0] in NO_LINE_END:
                carry.insert(0, current.pop())
            if char.isascii() and char.isalnum():
                run = 0
                while run < len(current) and current[-1 - run][0].isascii():
                    if not current[-1 - run][0].isalnum():
                        break
                    run += 1
                if 0 < run < len(current):
                    carry = current[-run:] + carry
                    del current[-run:]
            lines.append((indent, current, True))
            current = carry
            used = sum(_cells(c) for c, _ in current)
            indent = later
            continue
        current.append(chars[index])
        used += need
        index += 1
    if current or not lines:
        lines.append((indent, current, False))
    return lines


def _grid_line(
    fonts: DocumentFonts,
    chars: Styled,
    *,
    indent: int,
    justify: bool,
    size: float = BODY_PT,
    width: int = CHARS_PER_LINE * 2,
    color: tuple[float, float, float] = BLACK,
) -> Line:
    """Glyphs on the grid from ``indent`` half cells; justified lines fill ``width``."""
    used = sum(_cells(c) for c, _ in chars)
    spare = (width - indent - used) * CHAR_PITCH_MM / 2 if justify else 0.0
    gap = spare / (len(chars) - 1) if justify and len(chars) > 1 and spare > 0 else 0.0
    x = MARGIN_LEFT_MM + indent * CHAR_PITCH_MM / 2
    glyphs = []
    for char, role in chars:
        glyphs.append(Glyph(x, char, fonts.for_char(role, char), size, color))
        x += _cells(char) * CHAR_PITCH_MM / 2 + gap
    return Line(glyphs, size=size)


def _paragraph(
    fonts: DocumentFonts, chars: Styled, *, first: int = 4, later: int = 0
) -> list[Line]:
    return [
        _grid_line(fonts, part, indent=indent, justify=justify)
        for indent, part, justify in wrap_cells(chars, first=first, later=later)
    ]


def _natural(
    fonts: DocumentFonts,
    text: str,
    role: str,
    size: float,
    *,
    color: tuple[float, float, float] = BLACK,
    hscale: float = 100.0,
) -> list[Glyph]:
    """Glyphs at their natural advance, starting at x = 0 (moved into place later)."""
    glyphs: list[Glyph] = []
    x = 0.0
    for char in text:
        glyph = Glyph(x, char, fonts.for_char(role, char), size, color, hscale)
        glyphs.append(glyph)
        x += _advance(glyph)
    return glyphs


def _width(glyphs: Sequence[Glyph]) -> float:
    return sum(_advance(g) for g in glyphs)


def _shift(glyphs: list[Glyph], left: float) -> list[Glyph]:
    for glyph in glyphs:
        glyph.x += left
    return glyphs


def _centred(glyphs: list[Glyph], centre: float = MARGIN_LEFT_MM + BLOCK_WIDTH_MM / 2) -> Line:
    return Line(_shift(glyphs, centre - _width(glyphs) / 2), size=glyphs[0].size if glyphs else 0)


def _right(glyphs: list[Glyph], right_edge: float) -> Line:
    return Line(_shift(glyphs, right_edge - _width(glyphs)), size=glyphs[0].size if glyphs else 0)


def _body_chars(paragraph: str) -> Styled:
    """A body paragraph with its heading part (up to the first 。) in the level's font."""
    level = heading_level(paragraph)
    role = {1: "hei", 2: "kai"}.get(level, "fangsong")
    if level in (0, 3, 4):
        return _styled(paragraph, "fangsong")
    end = paragraph.find("。")
    head = paragraph if end < 0 else paragraph[: end + 1]
    return _styled(head, role) + _styled(paragraph[len(head) :], "fangsong")


def _title_lines(fonts: DocumentFonts, title: str, size: float = TITLE_PT) -> list[Line]:
    """2号小标宋, centred; long titles split into balanced lines (梯形 or 菱形)."""
    per_line = int(BLOCK_WIDTH_MM // (size * PT_MM))
    count = max(1, math.ceil(len(title) / per_line))
    step = math.ceil(len(title) / count)
    parts = [title[i : i + step] for i in range(0, len(title), step)]
    return [_centred(_natural(fonts, part, "xiaobiaosong", size)) for part in parts if part]


# --- the document flow -------------------------------------------------------------------

Group = list[Line | None]  # lines kept on one page; None is a blank line


@dataclass
class Flow:
    """Grid lines in order, paginated on the 22-line grid."""

    pages: list[Page] = field(default_factory=lambda: [Page()])
    slot: int = 0

    @property
    def page(self) -> Page:
        return self.pages[-1]

    def new_page(self, *, number: bool = True) -> None:
        self.pages.append(Page(number=number))
        self.slot = 0

    def add(self, group: Group) -> None:
        if len(group) <= LINES_PER_PAGE and self.slot + len(group) > LINES_PER_PAGE:
            while group and group[0] is None:  # blank lines vanish at a page top
                group = group[1:]
            self.new_page()
        for item in group:
            if self.slot >= LINES_PER_PAGE:
                self.new_page()
                if item is None:
                    continue
            if item is not None:
                item.page, item.slot = len(self.pages) - 1, self.slot
                self.page.lines.append(item)
            self.slot += 1

    def lines(self, items: Iterable[Line]) -> None:
        for item in items:
            self.add([item])

    def blank(self, count: int = 1) -> None:
        if self.slot > 0:
            self.slot = min(LINES_PER_PAGE, self.slot + count)


def _slot_below(y_mm: float) -> int:
    """The first grid slot whose em box starts at or below ``y_mm``."""
    return max(0, math.ceil((y_mm - MARGIN_TOP_MM) / LINE_PITCH_MM - 1e-6))


def _mark_line(fonts: DocumentFonts, text: str, top: float, height: float, max_w: float) -> Line:
    """The red issuer mark: characters ``height`` tall, at most 15 mm wide each, centred."""
    size = height / PT_MM
    glyphs = _natural(fonts, text, "xiaobiaosong", size, color=ISSUER_RED)
    natural = _width(glyphs)
    hscale = 100.0 * min(1.0, ISSUER_MARK_MAX_CHAR_WIDTH_MM * len(text) / natural, max_w / natural)
    for glyph in glyphs:
        glyph.hscale = hscale
        glyph.x *= hscale / 100
    line = _centred(glyphs, PAGE_WIDTH_MM / 2)
    line.top, line.size = top, size
    return line


def _header_file(doc: OfficialDocument, fonts: DocumentFonts, flow: Flow) -> None:
    """文件 / 纪要 / 命令 header: 份号 密级 紧急 at the top left, red mark, number, rule."""
    page = flow.page
    slot = 0
    for text, role in ((doc.copy_number, "fangsong"), (doc.secrecy, "hei"), (doc.urgency, "hei")):
        if text:
            line = _grid_line(fonts, _styled(text, role), indent=0, justify=False)
            line.page, line.slot = 0, slot
            page.lines.append(line)
            slot += 1
    offset = ORDER_MARK_OFFSET_MM if doc.kind == DocumentKind.ORDER else ISSUER_MARK_OFFSET_MM
    # below the 份号/密级/紧急 lines when they reach that far (命令's mark is only 20 mm down)
    mark_top = max(MARGIN_TOP_MM + offset, MARGIN_TOP_MM + slot * LINE_PITCH_MM)
    page.lines.append(_mark_line(fonts, doc.mark, mark_top, ISSUER_MARK_HEIGHT_MM, BLOCK_WIDTH_MM))
    bottom = mark_top + ISSUER_MARK_HEIGHT_MM
    number_top = bottom + 2 * LINE_PITCH_MM  # 发文机关标志下空二行
    number = doc.number
    body_from = bottom
    if number:
        if doc.signers and doc.kind == DocumentKind.FILE:
            # 上行文: number left (空一字), 签发人 right (空一字), number on the last row
            rows = [doc.signers[i : i + 2] for i in range(0, len(doc.signers), 2)]
            first_top = number_top
            number_top = first_top + (len(rows) - 1) * LINE_PITCH_MM
            line = Line(_shift(_natural(fonts, number, "fangsong", BODY_PT), MARGIN_LEFT_MM))
            line.glyphs = _shift(line.glyphs, CHAR_PITCH_MM)
            line.top = number_top
            page.lines.append(line)
            names_left = 0.0
            for index, row in enumerate(rows):
                names = _natural(fonts, "  ".join(row), "kai", BODY_PT)
                if index == 0:
                    label = _natural(fonts, "签发人：", "fangsong", BODY_PT)
                    signer = _right(
                        label + _shift(names, _width(label)), BLOCK_RIGHT_MM - CHAR_PITCH_MM
                    )
                    names_left = signer.glyphs[len(label)].x
                else:  # 回行时与上一行第一个签发人姓名对齐
                    signer = Line(_shift(names, names_left))
                signer.top = first_top + index * LINE_PITCH_MM
                page.lines.append(signer)
        else:
            line = _centred(_natural(fonts, number, "fangsong", BODY_PT))
            line.top = number_top
            page.lines.append(line)
        body_from = number_top + BODY_PT * PT_MM
    if doc.kind == DocumentKind.ORDER:
        flow.slot = _slot_below(body_from) + 2  # 令号下空二行 the body
        return
    rule_y = body_from + RULE_BELOW_NUMBER_MM
    page.rules.append(
        Rule(MARGIN_LEFT_MM, MARGIN_LEFT_MM + RULE_WIDTH_MM, rule_y, RULE_THICKNESS_MM, ISSUER_RED)
    )
    flow.slot = _slot_below(rule_y) + 2  # 红色分隔线下空二行 the title


def _double_rule(page: Page, y: float, *, thick_first: bool) -> None:
    left = (PAGE_WIDTH_MM - LETTER_RULE_LENGTH_MM) / 2
    right = left + LETTER_RULE_LENGTH_MM
    thick, thin, gap = 0.8, 0.3, 0.8
    first, second = (thick, thin) if thick_first else (thin, thick)
    page.rules.append(Rule(left, right, y + first / 2, first, ISSUER_RED))
    page.rules.append(Rule(left, right, y + first + gap + second / 2, second, ISSUER_RED))


def _header_letter(doc: OfficialDocument, fonts: DocumentFonts, flow: Flow) -> None:
    """信函: mark 30 mm from the page top, red double rules (170 mm) above and below."""
    page = flow.page
    page.number = False  # 信函 first page shows no page number
    page.lines.append(
        _mark_line(fonts, doc.mark, LETTER_MARK_TOP_MM, LETTER_MARK_HEIGHT_MM, BLOCK_WIDTH_MM)
    )
    rule_y = LETTER_MARK_TOP_MM + LETTER_MARK_HEIGHT_MM + 4
    _double_rule(page, rule_y, thick_first=True)
    _double_rule(page, PAGE_HEIGHT_MM - LETTER_BOTTOM_RULE_MM - 2.0, thick_first=False)
    slot = _slot_below(rule_y + 3)
    flow.slot = slot
    items = [t for t in (doc.copy_number, doc.secrecy, doc.urgency) if t]
    first_line = True
    for text in items or [""]:
        line = _grid_line(fonts, _styled(text, "hei"), indent=0, justify=False)
        if first_line and doc.number:  # 发文字号 at the right edge, level with the first
            line.glyphs += _right(
                _natural(fonts, doc.number, "fangsong", BODY_PT), BLOCK_RIGHT_MM
            ).glyphs
        first_line = False
        flow.add([line])
    flow.blank(1)  # 标题 空一行


def _attachment_note_lines(doc: OfficialDocument, fonts: DocumentFonts) -> list[Line]:
    """附件说明: 正文下空一行右空二字 "附件：", several numbered and aligned."""
    notes = doc.notes_list
    if not notes:
        return []
    lines: list[Line] = []
    if len(notes) == 1:
        chars = _styled("附件：" + notes[0], "fangsong")
        return _paragraph(fonts, chars, first=4, later=10)
    for index, note in enumerate(notes, start=1):
        prefix = "附件：" if index == 1 else ""
        chars = _styled(f"{prefix}{index}.{note}", "fangsong")
        first = 4 if index == 1 else 10
        lines += _paragraph(fonts, chars, first=first, later=10 + 2 * len(str(index)))
    return lines


def _signature_group(doc: OfficialDocument, fonts: DocumentFonts) -> list[Line]:
    """发文机关署名 and 成文日期 (and 命令's 签发人职务 + name)."""
    date_glyphs = _natural(fonts, chinese_date(doc.date), "fangsong", BODY_PT)
    if doc.kind == DocumentKind.ORDER:
        name = " ".join(filter(None, (doc.signer_title, *doc.signers[:1]))) or doc.signed_by
        signature = _right(
            _natural(fonts, name, "fangsong", BODY_PT), BLOCK_RIGHT_MM - 4 * CHAR_PITCH_MM
        )
        date = _right(date_glyphs, BLOCK_RIGHT_MM - 2 * CHAR_PITCH_MM)
    elif doc.seal_applies:
        # 成文日期右空四字; 署名 centred over the date; the seal covers both
        date = _right(date_glyphs, BLOCK_RIGHT_MM - 4 * CHAR_PITCH_MM)
        centre = (date.left + date.right) / 2
        signature = _centred(_natural(fonts, doc.signed_by, "fangsong", BODY_PT), centre)
    else:
        # 署名右空二字; the date starts two characters right of the signature's start
        sig_glyphs = _natural(fonts, doc.signed_by, "fangsong", BODY_PT)
        sig_left = BLOCK_RIGHT_MM - 2 * CHAR_PITCH_MM - _width(sig_glyphs)
        date_left = sig_left + 2 * CHAR_PITCH_MM
        overflow = date_left + _width(date_glyphs) - (BLOCK_RIGHT_MM - 2 * CHAR_PITCH_MM)
        if overflow > 0:
            sig_left -= overflow
            date_left -= overflow
        signature = Line(_shift(sig_glyphs, sig_left))
        date = Line(_shift(date_glyphs, date_left))
    signature.tag, date.tag = "signature", "date"
    return [signature, date]


def _names_line(fonts: DocumentFonts, label: str, names: Sequence[str]) -> list[Line]:
    chars = _styled(f"{label}：", "hei") + _styled("，".join(names), "fangsong")
    return _paragraph(fonts, chars, first=4, later=4 + 2 * (len(label) + 1))


def _imprint(doc: OfficialDocument, fonts: DocumentFonts, flow: Flow) -> None:
    """版记 at the bottom of the last page: 抄送 and 印发机关/日期 between black rules."""
    letter = doc.kind == DocumentKind.LETTER
    char = IMPRINT_PT * PT_MM
    cc_lines: list[list[Glyph]] = []
    if doc.cc:
        text = "抄送：" + "，".join(doc.cc) + "。"
        limit = BLOCK_WIDTH_MM - 2 * char
        current: list[Glyph] = []
        for glyph in _natural(fonts, text, "fangsong", IMPRINT_PT):
            if current and _width(current) + _advance(glyph) > limit + 0.01:
                cc_lines.append(current)
                current = []
            current.append(glyph)
        cc_lines.append(current)
    printed = bool(doc.printed_by or doc.printed_on) and not letter
    if not cc_lines and not printed:
        return
    rows = len(cc_lines) + (1 if printed else 0)
    height = rows * IMPRINT_LINE_MM
    top = BLOCK_BOTTOM_MM - height
    used_bottom = MARGIN_TOP_MM + flow.slot * LINE_PITCH_MM
    if flow.slot > 0 and used_bottom > top - 2:
        flow.new_page()
    page = flow.page
    rules = not letter
    left, right = MARGIN_LEFT_MM, BLOCK_RIGHT_MM
    if rules:
        page.rules.append(Rule(left, right, top, IMPRINT_THICK_RULE_MM))
        page.rules.append(Rule(left, right, BLOCK_BOTTOM_MM, IMPRINT_THICK_RULE_MM))
    y = top
    for index, glyphs in enumerate(cc_lines):
        indent = char if index == 0 else char + 3 * char  # 回行与冒号后首字对齐
        line = Line(_shift(_relayout(glyphs), left + indent), size=IMPRINT_PT)
        line.top = y + (IMPRINT_LINE_MM - char) / 2
        page.lines.append(line)
        y += IMPRINT_LINE_MM
    if printed:
        if cc_lines and rules:
            page.rules.append(Rule(left, right, y, IMPRINT_THIN_RULE_MM))
        line_top = y + (IMPRINT_LINE_MM - char) / 2
        if doc.printed_by:
            by = Line(_shift(_natural(fonts, doc.printed_by, "fangsong", IMPRINT_PT), left + char))
            by.top, by.size = line_top, IMPRINT_PT
            page.lines.append(by)
        if doc.printed_on:
            text = chinese_date(doc.printed_on) + "印发"
            on = _right(_natural(fonts, text, "fangsong", IMPRINT_PT), right - char)
            on.top = line_top
            page.lines.append(on)


def _relayout(glyphs: list[Glyph]) -> list[Glyph]:
    """Restart a wrapped run of naturally spaced glyphs at x = 0."""
    if glyphs:
        start = glyphs[0].x
        for glyph in glyphs:
            glyph.x -= start
    return glyphs


def layout_document(doc: OfficialDocument) -> list[Page]:
    """Lay the document out: pages of placed lines, rules and pictures."""
    from tongban.apps.documents.sealing import seal_image_for

    fonts = document_fonts()
    flow = Flow()
    if doc.kind == DocumentKind.LETTER:
        _header_letter(doc, fonts, flow)
    else:
        _header_file(doc, fonts, flow)
    if doc.title:
        flow.add(list(_title_lines(fonts, doc.title)))
        flow.blank(1)  # 标题下空一行 主送机关
    if doc.addressees:
        flow.lines(_paragraph(fonts, _styled(doc.addressees + "：", "fangsong"), first=0))
    body: list[Line] = []
    for paragraph in doc.body:
        body += _paragraph(fonts, _body_chars(paragraph))
    tail: Group = []
    notes = _attachment_note_lines(doc, fonts)
    if notes:
        tail += [None, *notes]
    signature: list[Line] = []
    if doc.kind == DocumentKind.MINUTES:
        for label, names in (
            ("出席", doc.attendees),
            ("请假", doc.absentees),
            ("列席", doc.observers),
        ):
            if names:
                tail += [None, *_names_line(fonts, label, names)]
    else:
        signature = _signature_group(doc, fonts)
        tail += [None, None, *signature] if doc.seal_applies else [None, *signature]
    if doc.notes:
        tail += [None, *_paragraph(fonts, _styled(f"（{doc.notes}）", "fangsong"))]
    # keep the last body line with the signature block (no page with only the signature)
    flow.lines(body[:-1])
    flow.add([*body[-1:], *tail])
    if signature and doc.seal_applies:
        sig, date = signature
        page = flow.pages[date.page]
        middle = (sig.em_top() + date.em_top() + BODY_PT * PT_MM) / 2
        centre_y = middle - SEAL_SIGNATURE_DROP_MM
        centre_x = (date.left + date.right) / 2
        diameter = SEAL_DIAMETER_MM
        if doc.kind == DocumentKind.ORDER:  # 签名章 over the signer's title and name
            centre_x = (sig.left + sig.right) / 2
            centre_y = sig.em_top() + BODY_PT * PT_MM / 2
            diameter = SIGNATURE_SEAL_MM
        image = seal_image_for(doc)
        page.pictures.append(
            Picture(image, centre_x - diameter / 2, centre_y - diameter / 2, diameter, diameter)
        )
    for number, attachment in enumerate(doc.attachments, start=1):
        flow.new_page()  # 附件另面编排
        label = "附件" + (str(number) if len(doc.attachments) > 1 else "")
        flow.add([_grid_line(fonts, _styled(label, "hei"), indent=0, justify=False)])
        flow.blank(1)
        flow.add(list(_title_lines(fonts, attachment.title)))
        flow.blank(1)
        for paragraph in attachment.paragraphs:
            flow.lines(_paragraph(fonts, _body_chars(paragraph)))
    _imprint(doc, fonts, flow)
    return flow.pages


# --- drawing -----------------------------------------------------------------------------


def _y(mm_from_top: float) -> float:
    return (PAGE_HEIGHT_MM - mm_from_top) / PT_MM


def _runs(glyphs: Sequence[Glyph]) -> list[tuple[list[Glyph], float]]:
    """Split into runs of one font whose glyphs sit at natural advance + one spacing.

    Each run becomes one string with a character spacing (Tc) instead of a position per
    glyph: on the grid, a line is usually one run.
    """
    runs: list[tuple[list[Glyph], float]] = []
    current: list[Glyph] = []
    spacing = 0.0
    for glyph in glyphs:
        if current:
            last = current[-1]
            same = (last.font.name, last.size, last.color, last.hscale) == (
                glyph.font.name,
                glyph.size,
                glyph.color,
                glyph.hscale,
            )
            gap = glyph.x - last.x - _advance(last)
            if same and (len(current) == 1 or abs(gap - spacing) < 0.005):
                spacing = gap
                current.append(glyph)
                continue
            runs.append((current, spacing if len(current) > 1 else 0.0))
        current, spacing = [glyph], 0.0
    if current:
        runs.append((current, spacing if len(current) > 1 else 0.0))
    return runs


def _draw_line(canvas: Canvas, line: Line) -> None:
    if not line.glyphs:
        return
    em_top = line.em_top()
    canvas.saveState()  # colours, stroke width and render mode end with the line
    text = canvas.beginText()
    state: tuple[str, float, tuple[float, float, float], float, bool] | None = None
    for run, spacing in _runs(line.glyphs):
        glyph = run[0]
        bold = glyph.font.emboldened
        key = (glyph.font.name, glyph.size, glyph.color, glyph.hscale, bold)
        if key != state:
            text.setFont(glyph.font.name, glyph.size)
            text.setFillColorRGB(*glyph.color)
            text.setHorizScale(glyph.hscale)
            if bold:
                text.setStrokeColorRGB(*glyph.color)
                text.setTextRenderMode(2)
                canvas.setLineWidth(glyph.size * 0.035)
            else:
                text.setTextRenderMode(0)
            state = key
        baseline = em_top + glyph.size * PT_MM * glyph.font.ascent
        # Tc is scaled by the horizontal scale like the glyph advances
        text.setCharSpace(spacing / PT_MM * 100 / glyph.hscale)
        text.setTextOrigin(glyph.x / PT_MM, _y(baseline))
        text.textOut("".join(g.char for g in run))
    canvas.drawText(text)
    canvas.restoreState()


def _draw_page_number(canvas: Canvas, fonts: DocumentFonts, number: int) -> None:
    """4号 half-width digits between 一字线, 7 mm below the block; odd right, even left."""
    glyphs = _natural(fonts, PAGE_NUMBER_TEMPLATE.format(number), "song", PAGE_NUMBER_PT)
    one_char = PAGE_NUMBER_PT * PT_MM
    if number % 2:
        line = _right(glyphs, BLOCK_RIGHT_MM - one_char)  # 单页码居右空一字
    else:
        line = Line(
            _shift(glyphs, MARGIN_LEFT_MM + one_char), size=PAGE_NUMBER_PT
        )  # 双页码居左空一字
    line.top = BLOCK_BOTTOM_MM + PAGE_NUMBER_GAP_MM
    _draw_line(canvas, line)


def render_pages(doc: OfficialDocument, pages: list[Page]) -> bytes:
    use_a85 = rl_config.useA85
    rl_config.useA85 = 0  # binary Flate streams: a third faster to write, a fifth smaller
    try:
        return _render_pages(doc, pages)
    finally:
        rl_config.useA85 = use_a85


def _render_pages(doc: OfficialDocument, pages: list[Page]) -> bytes:
    fonts = document_fonts()
    buffer = io.BytesIO()
    canvas = Canvas(
        buffer,
        pagesize=(PAGE_WIDTH_MM / PT_MM, PAGE_HEIGHT_MM / PT_MM),
        pageCompression=1,
        lang="zh-CN",
    )
    canvas.setTitle(doc.title or doc.mark)
    canvas.setAuthor(doc.issuer)
    canvas.setSubject(doc.number)
    canvas.setCreator("Tongban GB/T 9704-2012")
    canvas.setKeywords(KEYWORD_PREFIX + sm3_hex(doc.canonical_content()))
    for index, page in enumerate(pages, start=1):
        for rule in page.rules:
            canvas.setStrokeColorRGB(*rule.color)
            canvas.setLineWidth(rule.thickness / PT_MM)
            canvas.line(rule.x1 / PT_MM, _y(rule.y), rule.x2 / PT_MM, _y(rule.y))
        for line in page.lines:
            _draw_line(canvas, line)
        for picture in page.pictures:
            canvas.drawImage(
                ImageReader(io.BytesIO(picture.data)),
                picture.x / PT_MM,
                _y(picture.y + picture.height),
                picture.width / PT_MM,
                picture.height / PT_MM,
                mask="auto",
            )
        if page.number:
            _draw_page_number(canvas, fonts, index)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def render_document(doc: OfficialDocument) -> bytes:
    """The document as PDF bytes (A4, GB/T 9704-2012 layout, fonts embedded)."""
    return render_pages(doc, layout_document(doc))
