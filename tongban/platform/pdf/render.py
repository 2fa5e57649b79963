"""A4 PDFs of notices (通知书, 决定书) and licences (证照), set in an embedded Chinese font.

Everything here takes plain values: the applications decide what the words are; this
module only lays them out. Text is escaped (it is never markup) and wrapped the CJK way
(a line may break between any two Chinese characters, not inside Latin words).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from typing import Any
from xml.sax.saxutils import escape

from django.utils.translation import gettext as _
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from tongban.platform.pdf.fonts import pdf_font

ISSUER_RED = colors.HexColor("#c00000")
LABEL_GREY = colors.HexColor("#f2f2f2")
RULE_GREY = colors.HexColor("#808080")
BODY_SIZE = 14  # about 4号 (14 pt); 3号 (16 pt) leaves too few characters per line on A4
MARGIN_TOP = 30 * mm
MARGIN_SIDE = 25 * mm
MARGIN_BOTTOM = 25 * mm
QR_SIZE = 32 * mm


def chinese_date(value: dt.date) -> str:
    """``2026年11月30日``: Arabic digits, as GB/T 9704-2012 writes dates."""
    return f"{value.year}年{value.month}月{value.day}日"


def _text(value: str) -> str:
    """Plain text for a Paragraph: escaped, line breaks kept."""
    return escape(value).replace("\n", "<br/>")


class _Styles:
    def __init__(self, font: str) -> None:
        base: dict[str, Any] = {"fontName": font, "wordWrap": "CJK"}
        self.issuer = ParagraphStyle(
            "issuer", **base, fontSize=20, leading=26, alignment=TA_CENTER, textColor=ISSUER_RED
        )
        self.title = ParagraphStyle(
            "title", **base, fontSize=22, leading=30, alignment=TA_CENTER, spaceBefore=6
        )
        self.licence_title = ParagraphStyle(
            "licence_title", **base, fontSize=28, leading=36, alignment=TA_CENTER
        )
        self.number = ParagraphStyle(
            "number", **base, fontSize=12, leading=18, alignment=TA_CENTER, spaceBefore=4
        )
        self.recipient = ParagraphStyle(
            "recipient", **base, fontSize=BODY_SIZE, leading=BODY_SIZE * 1.8, alignment=TA_LEFT
        )
        self.body = ParagraphStyle(
            "body",
            **base,
            fontSize=BODY_SIZE,
            leading=BODY_SIZE * 1.8,
            alignment=TA_JUSTIFY,
            firstLineIndent=BODY_SIZE * 2,  # two characters, as Chinese paragraphs begin
        )
        self.label = ParagraphStyle("label", **base, fontSize=11, leading=16, alignment=TA_LEFT)
        self.cell = ParagraphStyle("cell", **base, fontSize=11, leading=16, alignment=TA_LEFT)
        self.sign = ParagraphStyle(
            "sign", **base, fontSize=BODY_SIZE, leading=BODY_SIZE * 1.8, alignment=TA_RIGHT
        )
        self.small = ParagraphStyle(
            "small", **base, fontSize=8, leading=11, alignment=TA_LEFT, textColor=RULE_GREY
        )
        self.small_centre = ParagraphStyle(
            "small_centre",
            **base,
            fontSize=8,
            leading=11,
            alignment=TA_CENTER,
            textColor=RULE_GREY,
        )


def _field_table(
    styles: _Styles, fields: Sequence[tuple[str, str]], width: float, label_share: float = 0.28
) -> Table:
    rows = [
        [Paragraph(_text(label), styles.label), Paragraph(_text(value), styles.cell)]
        for label, value in fields
    ]
    table = Table(rows, colWidths=[width * label_share, width * (1 - label_share)])
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), styles.cell.fontName),
                ("GRID", (0, 0), (-1, -1), 0.5, RULE_GREY),
                ("BACKGROUND", (0, 0), (0, -1), LABEL_GREY),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("TOPPADDING", (0, 0), (-1, -1), 4),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
            ]
        )
    )
    return table


def _qr_drawing(text: str, size: float = QR_SIZE) -> Drawing:
    widget = QrCodeWidget(text, barLevel="M", barWidth=size, barHeight=size)
    drawing = Drawing(size, size)
    drawing.add(widget)
    return drawing


def _qr_block(styles: _Styles, text: str, caption: str, width: float) -> Table:
    """The QR code at the right with its caption under it."""
    column = QR_SIZE + 8 * mm
    block = Table(
        [["", _qr_drawing(text)], ["", Paragraph(_text(caption), styles.small_centre)]],
        colWidths=[width - column, column],
    )
    block.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), styles.cell.fontName),
                ("ALIGN", (1, 0), (1, -1), "CENTER"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    return block


def _build(
    story: list[Flowable],
    *,
    title: str,
    author: str,
    on_page: Any = None,
    page_numbers: bool = True,
) -> bytes:
    buffer = io.BytesIO()
    font = pdf_font().name
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN_SIDE,
        rightMargin=MARGIN_SIDE,
        topMargin=MARGIN_TOP,
        bottomMargin=MARGIN_BOTTOM,
        title=title,
        author=author,
        creator="Tongban",
        lang="zh-CN",
        initialFontName=font,
    )

    def page_number(canvas: Canvas, doc: Any) -> None:
        if on_page is not None:
            on_page(canvas, doc)
        if not page_numbers:
            return
        canvas.saveState()
        canvas.setFont(font, 10)
        canvas.drawCentredString(A4[0] / 2, 12 * mm, f"— {doc.page} —")
        canvas.restoreState()

    document.build(story, onFirstPage=page_number, onLaterPages=page_number)
    return buffer.getvalue()


def render_notice(
    *,
    title: str,
    issuer: str,
    number: str,
    recipient: str,
    paragraphs: Sequence[str],
    fields: Sequence[tuple[str, str]] = (),
    date: dt.date,
    qr_text: str = "",
) -> bytes:
    """A written notice or decision (受理通知书, 补正告知书, 不予许可决定书 …) as PDF bytes.

    ``issuer`` heads the page (red) and signs it; ``number`` is the document number
    (e.g. ``示范市监受字〔2026〕12号``); ``recipient`` gets a full-width colon; each of
    ``paragraphs`` starts indented by two characters; ``fields`` is a two-column table
    (label, value) after the body; ``qr_text`` (a verification URL) adds a QR code.
    """
    font = pdf_font()
    styles = _Styles(font.name)
    width = A4[0] - 2 * MARGIN_SIDE
    story: list[Flowable] = [
        Paragraph(_text(issuer), styles.issuer),
        Spacer(1, 2 * mm),
        Paragraph(_text(title), styles.title),
    ]
    if number:
        story.append(Paragraph(_text(number), styles.number))
    story.append(Spacer(1, 8 * mm))
    if recipient:
        story.append(Paragraph(_text(f"{recipient}："), styles.recipient))
    story.extend(Paragraph(_text(paragraph), styles.body) for paragraph in paragraphs)
    if fields:
        story.extend([Spacer(1, 5 * mm), _field_table(styles, fields, width)])
    signature: list[Flowable] = [
        Spacer(1, 12 * mm),
        Paragraph(_text(issuer), styles.sign),
        Paragraph(_text(chinese_date(date)), styles.sign),
    ]
    story.append(KeepTogether(signature))
    if qr_text:
        story.extend([Spacer(1, 6 * mm), _qr_block(styles, qr_text, _("扫码核验真伪"), width)])
    return _build(story, title=title, author=issuer)


def _licence_frame(watermark: str) -> Any:
    def draw(canvas: Canvas, doc: Any) -> None:
        canvas.saveState()
        width, height = A4
        canvas.setStrokeColor(ISSUER_RED)
        canvas.setLineWidth(2.5)
        canvas.rect(12 * mm, 12 * mm, width - 24 * mm, height - 24 * mm)
        canvas.setLineWidth(0.8)
        canvas.rect(14.5 * mm, 14.5 * mm, width - 29 * mm, height - 29 * mm)
        if watermark:
            canvas.setFillColor(colors.Color(0.8, 0, 0, alpha=0.25))
            canvas.setFont(pdf_font().name, 80)
            canvas.translate(width / 2, height / 2)
            canvas.rotate(35)
            canvas.drawCentredString(0, 0, watermark)
        canvas.restoreState()

    return draw


def render_licence(
    *,
    name: str,
    number: str,
    identifier: str,
    issuer: str,
    issued_on: dt.date,
    rows: Sequence[tuple[str, str]],
    qr_text: str = "",
    footer: Sequence[str] = (),
    watermark: str = "",
) -> bytes:
    """An electronic licence's printable face: title, number, a table of its data, the
    issuer and date, the QR code to verify it, and its identifier and signature in small
    print. ``watermark`` (e.g. ``已撤销``) is drawn across the page when not empty."""
    font = pdf_font()
    styles = _Styles(font.name)
    width = A4[0] - 2 * MARGIN_SIDE
    story: list[Flowable] = [
        Spacer(1, 4 * mm),
        Paragraph(_text(name), styles.licence_title),
        Paragraph(_text(_("编号：%(number)s") % {"number": number}), styles.number),
        Spacer(1, 10 * mm),
        _field_table(styles, rows, width, label_share=0.3),
        Spacer(1, 12 * mm),
        KeepTogether(
            [
                Paragraph(_text(issuer), styles.sign),
                Paragraph(_text(chinese_date(issued_on)), styles.sign),
            ]
        ),
    ]
    if qr_text:
        story.extend([Spacer(1, 8 * mm), _qr_block(styles, qr_text, _("扫码核验证照状态"), width)])
    story.append(Spacer(1, 6 * mm))
    story.append(Paragraph(_text(f"证照标识：{identifier}"), styles.small))
    story.extend(Paragraph(_text(line), styles.small) for line in footer)
    return _build(
        story,
        title=name,
        author=issuer,
        on_page=_licence_frame(watermark),
        page_numbers=False,
    )
