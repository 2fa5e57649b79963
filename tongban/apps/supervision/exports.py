"""Exports of the evaluation report: the indicator table and the ranking as xlsx (openpyxl)
and as an A4 landscape PDF set in the platform's embedded Chinese font."""

from __future__ import annotations

import io
from collections.abc import Callable
from decimal import Decimal
from xml.sax.saxutils import escape

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from tongban.apps.supervision.evaluation import (
    LEVEL_LABELS,
    Indicators,
    Report,
    ReportRow,
    Score,
    display,
)
from tongban.platform.pdf import pdf_font

Cell = int | Decimal | str | None
_Getter = Callable[[Indicators], Cell]

# (header, value): the indicator columns, shared by both exports
INDICATOR_COLUMNS: list[tuple[object, _Getter]] = [
    (gettext_lazy("收件数"), lambda f: f.received),
    (gettext_lazy("办结数"), lambda f: f.completed),
    (gettext_lazy("办结率(%)"), lambda f: display(f.completion_rate, percent=True)),
    (gettext_lazy("即办件"), lambda f: f.instant),
    (gettext_lazy("承诺件"), lambda f: f.committed),
    (gettext_lazy("提前办结"), lambda f: f.early),
    (gettext_lazy("提前办结率(%)"), lambda f: display(f.early_rate, percent=True)),
    (gettext_lazy("超期数"), lambda f: f.overdue),
    (gettext_lazy("超期率(%)"), lambda f: display(f.overdue_rate, percent=True)),
    (gettext_lazy("平均用时(工作日)"), lambda f: display(f.average_days)),
    (gettext_lazy("暂停天数"), lambda f: f.pause_days),
    (gettext_lazy("预警数"), lambda f: f.alert_total),
    (gettext_lazy("到期纠错"), lambda f: f.corrections_due),
    (gettext_lazy("按期纠错"), lambda f: f.corrections_on_time),
]


def _headers(report: Report) -> list[str]:
    headers = [str(LEVEL_LABELS[report.level])]
    if report.level != "department":
        headers.insert(0, _("部门"))
    headers += [str(label) for label, _getter in INDICATOR_COLUMNS]
    if report.level == "department":
        headers += [_("得分"), _("等级")]
    return headers


def _score_cells(score: Score | None) -> list[Cell]:
    if score is None:
        return [_("无数据"), ""]
    return [display(score.total), score.grade_label]


def _row(report: Report, row: ReportRow) -> list[Cell]:
    cells: list[Cell] = [row.name]
    if report.level != "department":
        cells.insert(0, row.department_name)
    cells += [getter(row.figures) for _label, getter in INDICATOR_COLUMNS]
    if report.level == "department":
        cells += _score_cells(row.score)
    return cells


def _total_row(report: Report) -> list[Cell]:
    cells: list[Cell] = [_("合计")]
    if report.level != "department":
        cells.append("")
    cells += [getter(report.totals) for _label, getter in INDICATOR_COLUMNS]
    if report.level == "department":
        cells += ["", ""]
    return cells


def _ranking_rows(report: Report) -> list[list[Cell]]:
    rows: list[list[Cell]] = []
    for entry in report.ranking:
        position: Cell = entry.position if entry.position is not None else "—"
        rows.append([position, entry.name, *_score_cells(entry.score)])
    return rows


def _title(report: Report) -> str:
    return _("%(period)s绩效评估（按%(level)s）") % {
        "period": report.period.label,
        "level": LEVEL_LABELS[report.level],
    }


def report_xlsx(report: Report) -> bytes:
    """Two sheets: 指标 (the indicator table with a total row) and 排名 (the ranking)."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = _("指标")
    bold = Font(bold=True)
    head_fill = PatternFill("solid", fgColor="EEF1F5")
    sheet.append([_title(report)])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append(
        [
            _("评分权重版本：v%(n)d；导出时间：%(at)s")
            % {"n": report.scoring_version, "at": timezone.localtime().strftime("%Y-%m-%d %H:%M")}
        ]
    )
    headers = _headers(report)
    sheet.append(headers)
    for cell in sheet[3]:
        cell.font = bold
        cell.fill = head_fill
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for row in report.rows:
        sheet.append(_row(report, row))
    sheet.append(_total_row(report))
    for cell in sheet[sheet.max_row]:
        cell.font = bold
    sheet.freeze_panes = "B4" if report.level == "department" else "C4"
    for index, header in enumerate(headers, start=1):
        width = 26 if index <= (1 if report.level == "department" else 2) else 11
        sheet.column_dimensions[get_column_letter(index)].width = max(width, len(header) + 2)
    for row_cells in sheet.iter_rows(min_row=4):
        for cell in row_cells:
            if isinstance(cell.value, Decimal):
                cell.number_format = "0.00"

    ranking = workbook.create_sheet(_("排名"))
    ranking.append([_("名次"), _("部门"), _("得分"), _("等级")])
    for cell in ranking[1]:
        cell.font = bold
        cell.fill = head_fill
    for values in _ranking_rows(report):
        ranking.append(values)
    ranking.column_dimensions["B"].width = 32
    for row_cells in ranking.iter_rows(min_row=2):
        for cell in row_cells:
            if isinstance(cell.value, Decimal):
                cell.number_format = "0.00"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _pdf_text(value: Cell) -> str:
    if value is None:
        return "—"
    return escape(str(value))


def report_pdf(report: Report) -> bytes:
    """A4 landscape: the title, the indicator table (with totals) and the ranking."""
    font = pdf_font().name
    title_style = ParagraphStyle("title", fontName=font, fontSize=16, leading=22, wordWrap="CJK")
    note_style = ParagraphStyle("note", fontName=font, fontSize=8, leading=11, wordWrap="CJK")
    head_style = ParagraphStyle("head", fontName=font, fontSize=7, leading=9, wordWrap="CJK")
    cell_style = ParagraphStyle("cell", fontName=font, fontSize=7, leading=9, wordWrap="CJK")
    grid = TableStyle(
        [
            ("FONTNAME", (0, 0), (-1, -1), font),
            ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#808080")),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef1f5")),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("TOPPADDING", (0, 0), (-1, -1), 2),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ("LEFTPADDING", (0, 0), (-1, -1), 2),
            ("RIGHTPADDING", (0, 0), (-1, -1), 2),
        ]
    )

    def table(rows: list[list[Cell]], headers: list[str], widths: list[float]) -> Table:
        data = [[Paragraph(escape(h), head_style) for h in headers]]
        data += [[Paragraph(_pdf_text(value), cell_style) for value in row] for row in rows]
        result = Table(data, colWidths=widths, repeatRows=1)
        result.setStyle(grid)
        return result

    page = landscape(A4)
    width = page[0] - 20 * mm
    headers = _headers(report)
    name_columns = 1 if report.level == "department" else 2
    name_width = 38 * mm
    rest = (width - name_width * name_columns) / (len(headers) - name_columns)
    rows = [_row(report, row) for row in report.rows] + [_total_row(report)]
    story = [
        Paragraph(escape(_title(report)), title_style),
        Paragraph(
            escape(
                _("评分权重版本：v%(n)d；导出时间：%(at)s")
                % {
                    "n": report.scoring_version,
                    "at": timezone.localtime().strftime("%Y-%m-%d %H:%M"),
                }
            ),
            note_style,
        ),
        Spacer(1, 4 * mm),
        table(rows, headers, [name_width] * name_columns + [rest] * (len(headers) - name_columns)),
        Spacer(1, 8 * mm),
        Paragraph(escape(_("部门排名")), title_style),
        Spacer(1, 2 * mm),
        table(
            _ranking_rows(report),
            [_("名次"), _("部门"), _("得分"), _("等级")],
            [20 * mm, 80 * mm, 30 * mm, 30 * mm],
        ),
    ]
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=page,
        leftMargin=10 * mm,
        rightMargin=10 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        title=_title(report),
    )
    document.build(story)
    return buffer.getvalue()
