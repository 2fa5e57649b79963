"""The catalogue as an Excel workbook: template, export, CSV export and a checking parser.

One workbook holds the service items (``事项`` plus their materials, steps and legal bases on
three more sheets, keyed by 部门编码 + 基本编码 + 业务办理项编码) and the power list
(``权力事项`` with its bases and duties). The sheet and column names are the file format and
stay in Chinese whatever the interface language; choice columns hold the Chinese labels.

``parse_workbook`` reads every sheet, converts every row and reports *every* problem it
finds as a ``RowError`` naming the sheet, the row number as Excel shows it and the column
header, using ``services.content_check`` and ``services.power_check`` so the import speaks
the same words as the editor. Nothing here writes to the database.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import re
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any
from xml.etree import ElementTree

from django.db.models import CharField, QuerySet
from django.utils import translation
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from tongban.apps.catalog import services
from tongban.apps.catalog.models import (
    CaseType,
    DeliveryMethod,
    ExerciseLevel,
    ItemLevel,
    ItemType,
    ItemVersion,
    LegalBasis,
    LifeEvent,
    Material,
    MaterialMedia,
    MaterialSource,
    PowerItem,
    PowerStatus,
    PowerType,
    ProcessStep,
    ServiceItem,
    SpecialProcedure,
    Theme,
    VersionBasis,
    VersionState,
)
from tongban.platform.orgs.models import Department, Window

ProgressCallback = Callable[[int, int], None]

# sheet names (the file format)
SHEET_HELP = "填写说明"
SHEET_ITEMS = "事项"
SHEET_MATERIALS = "申请材料"
SHEET_STEPS = "办理流程"
SHEET_BASES = "设定依据"
SHEET_POWERS = "权力事项"
SHEET_POWER_BASES = "权力依据"
SHEET_DUTIES = "责任清单"
DATA_SHEETS = (
    SHEET_ITEMS,
    SHEET_MATERIALS,
    SHEET_STEPS,
    SHEET_BASES,
    SHEET_POWERS,
    SHEET_POWER_BASES,
    SHEET_DUTIES,
)

MAX_ROWS = 20_000  # items (and powers) per file
MAX_CHILD_ROWS = 400_000  # materials, steps, bases, duties per sheet
PROGRESS_EVERY = 100
MAX_UNPACKED_BYTES = 512 * 1024 * 1024
LIST_SEPARATOR = "、"
_SPLIT_CHARS = ("，", ",", "；", ";")
YES = "是"
NO = "否"

# kinds of cells
TEXT = "text"
CODE = "code"  # text, stored as text in Excel (keeps leading zeros), stripped
INT = "int"
BOOL = "bool"
NOT_BOOL = "not_bool"  # 是否收费 = not is_free
DECIMAL = "decimal"
CHOICE = "choice"
MULTI_CHOICE = "multi_choice"
CODES = "codes"  # several codes separated by 、
JSON = "json"


@dataclass(frozen=True)
class Column:
    header: str
    name: str  # the ItemContent / PowerContent field, or a key name
    kind: str = TEXT
    required: bool = False  # the column must be present (and, for keys, filled)
    width: int = 16
    choices: Any = None  # a TextChoices / IntegerChoices class
    note: str = ""
    example: Any = ""
    low: int = 0
    high: int = 365


def _c(header: str, name: str, kind: str = TEXT, **extra: Any) -> Column:
    return Column(header, name, kind, **extra)


KEY_COLUMNS = (
    _c("部门编码", "department_code", CODE, required=True, width=12, example="SCJG"),
    _c("基本编码", "basic_code", CODE, required=True, width=18, example="000117001000"),
    _c("业务办理项编码", "handling_suffix", CODE, required=True, width=10, example="000"),
)

ITEM_COLUMNS = (
    *KEY_COLUMNS,
    _c("事项层级", "level", CHOICE, required=True, width=12, choices=ItemLevel, example="主项"),
    _c("上级事项实施编码", "parent_code", CODE, width=36),
    _c("实施编码", "implementation_code", CODE, width=36),
    _c("事项名称", "name", required=True, width=30, example="食品经营许可证核发（新办）"),
    _c("事项类型", "item_type", CHOICE, required=True, choices=ItemType, example="行政许可"),
    _c("主管部门", "competent_department", required=True, width=24, example="示范市市场监督管理局"),
    _c("行使层级", "exercise_level", CHOICE, choices=ExerciseLevel, example="市级"),
    _c("对应权力编码", "power_code", CODE, width=20),
    _c("适用范围", "scope", width=30),
    _c("自然人可申请", "for_natural_persons", BOOL, width=10, example=YES),
    _c("法人可申请", "for_legal_persons", BOOL, width=10, example=NO),
    _c("受理条件", "conditions", required=True, width=40, example="申请人具有经营场所。"),
    _c("受理方式", "acceptance_method", width=24),
    _c("法定办结时限", "legal_limit_days", INT, required=True, width=10, example=20),
    _c("承诺办结时限", "promised_limit_days", INT, required=True, width=10, example=10),
    _c(
        "办件类型", "case_type", CHOICE, required=True, width=10, choices=CaseType, example="承诺件"
    ),
    _c("是否收费", "is_free", NOT_BOOL, width=8, example=NO),
    _c("收费金额", "fee_amount", DECIMAL, width=10, example=0),
    _c("收费依据", "fee_basis", width=24),
    _c("到现场次数", "visits", INT, width=10, example=1, high=5),
    _c("网办深度", "online_depth", INT, width=8, example=3, low=1, high=4),
    _c("特别程序", "special_procedures", MULTI_CHOICE, width=16, choices=SpecialProcedure),
    _c("结果名称", "result_name", width=20, example="食品经营许可证"),
    _c(
        "送达方式",
        "delivery_methods",
        MULTI_CHOICE,
        width=20,
        choices=DeliveryMethod,
        example="窗口领取、邮寄送达",
    ),
    _c("行政救济", "remedy", width=30),
    _c("咨询电话", "consult_phone", CODE, width=16, example="0999-12345"),
    _c("投诉电话", "complaint_phone", CODE, width=16),
    _c("办理地点", "address", width=24, example="示范市政务服务中心二楼"),
    _c("办理时间", "office_hours", width=24, example="工作日 9:00-12:00 13:30-17:30"),
    _c("关键词", "keywords", width=20, example="开饭店 餐饮"),
    _c("受理窗口编码", "window_codes", CODES, width=20),
    _c("主题编码", "theme_codes", CODES, width=16),
    _c("人生事件编码", "life_event_codes", CODES, width=16),
    _c("在线表单JSON", "form_schema", JSON, width=30),
    _c("表单界面提示JSON", "form_ui", JSON, width=20),
    _c("变更说明", "change_note", width=24),
)

MATERIAL_COLUMNS = (
    *KEY_COLUMNS,
    _c("序号", "order", INT, required=True, width=6, example=1, high=999),
    _c("材料名称", "name", required=True, width=30, example="食品经营许可申请书"),
    _c("原件份数", "originals", INT, width=8, example=1, high=99),
    _c("复印件份数", "copies", INT, width=8, example=0, high=99),
    _c("材料形式", "media", CHOICE, width=12, choices=MaterialMedia, example="纸质或电子"),
    _c("是否必要", "is_required", BOOL, width=8, example=YES),
    _c("提交条件", "condition", width=24),
    _c("来源渠道", "source", CHOICE, width=14, choices=MaterialSource, example="申请人自备"),
    _c("受理标准", "acceptance_standard", width=30),
)

STEP_COLUMNS = (
    *KEY_COLUMNS,
    _c("序号", "order", INT, required=True, width=6, example=1, high=999),
    _c("环节名称", "name", required=True, width=16, example="受理"),
    _c("办理内容", "description", width=40),
    _c("环节时限", "days", INT, width=10, example=1),
)

BASIS_COLUMNS = (
    *KEY_COLUMNS,
    _c("法律法规名称", "title", required=True, width=36, example="《中华人民共和国食品安全法》"),
    _c("条款", "article", width=20, example="第三十五条"),
    _c("是否设定依据", "is_setting", BOOL, width=12, example=YES),
)

POWER_COLUMNS = (
    _c("权力编码", "code", CODE, required=True, width=20, example="SCJG-XK-001"),
    _c("权力名称", "name", required=True, width=30, example="食品经营许可"),
    _c("权力类型", "power_type", CHOICE, required=True, choices=PowerType, example="行政许可"),
    _c("实施主体部门编码", "holder_code", CODE, required=True, width=14, example="SCJG"),
    _c("行使层级", "exercise_level", CHOICE, choices=ExerciseLevel, example="市级"),
    _c("追责情形", "accountability", width=36),
    _c("备注", "note", width=24),
)

POWER_BASIS_COLUMNS = (
    _c("权力编码", "code", CODE, required=True, width=20, example="SCJG-XK-001"),
    _c("法律法规名称", "title", required=True, width=36, example="《中华人民共和国食品安全法》"),
    _c("条款", "article", width=20, example="第三十五条"),
)

DUTY_COLUMNS = (
    _c("权力编码", "code", CODE, required=True, width=20, example="SCJG-XK-001"),
    _c("序号", "order", INT, required=True, width=6, example=1, high=999),
    _c("环节", "stage", required=True, width=12, example="受理责任"),
    _c(
        "责任事项",
        "duty",
        required=True,
        width=40,
        example="公示应当提交的材料，一次性告知补正材料。",
    ),
)

SHEET_COLUMNS: dict[str, tuple[Column, ...]] = {
    SHEET_ITEMS: ITEM_COLUMNS,
    SHEET_MATERIALS: MATERIAL_COLUMNS,
    SHEET_STEPS: STEP_COLUMNS,
    SHEET_BASES: BASIS_COLUMNS,
    SHEET_POWERS: POWER_COLUMNS,
    SHEET_POWER_BASES: POWER_BASIS_COLUMNS,
    SHEET_DUTIES: DUTY_COLUMNS,
}

# where content_check's field-keyed errors are shown
_ITEM_FIELD_HEADERS = {column.name: column.header for column in ITEM_COLUMNS}
_POWER_FIELD_HEADERS = {column.name: column.header for column in POWER_COLUMNS}


# ---------------------------------------------------------------- results


@dataclass(frozen=True)
class RowError:
    """One problem: the sheet, the row as Excel numbers it (0: the file), the column."""

    sheet: str
    row: int
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
            "message": self.message,
        }


@dataclass
class ParsedItem:
    row: int
    department_code: str
    basic_code: str
    level: str
    parent_code: str
    implementation_code: str
    content: services.ItemContent
    existing_id: int | None = None
    department_id: int | None = None
    resolved: Resolved | None = None


@dataclass
class Resolved:
    """An item's references as ids, looked up once for the whole file."""

    power_code: str = ""  # resolved after the file's powers are saved
    window_ids: list[int] = field(default_factory=list)
    theme_ids: list[int] = field(default_factory=list)
    life_event_ids: list[int] = field(default_factory=list)
    bases: list[tuple[int, services.BasisInput]] = field(default_factory=list)


class References:
    """Legal bases, powers, windows, themes and life events, read once per file.

    Gives the same answers (and messages) as ``services.content_check`` without a query
    per row.
    """

    def __init__(self) -> None:
        self.bases = dict(LegalBasis.objects.values_list("title", "pk"))
        self.powers = set(
            PowerItem.objects.filter(status=PowerStatus.ACTIVE).values_list("code", flat=True)
        )
        self.themes = dict(Theme.objects.values_list("code", "pk"))
        self.life_events = dict(LifeEvent.objects.values_list("code", "pk"))
        self.windows = list(Window.objects.values_list("pk", "centre__name", "number"))

    def resolve(
        self, content: services.ItemContent, file_powers: set[str], add: Callable[[str, str], None]
    ) -> Resolved:
        resolved = Resolved(power_code=content.power_code)
        if (
            content.power_code
            and content.power_code not in self.powers
            and content.power_code not in file_powers
        ):
            add("power_code", _("权力事项“%s”不存在或已取消") % content.power_code)
        for reference in content.window_codes:
            if "/" in reference:
                centre, number = reference.rsplit("/", 1)
                matches = [w for w in self.windows if w[2] == number and w[1] == centre]
            else:
                matches = [w for w in self.windows if w[2] == reference]
            if not matches:
                add("window_codes", _("受理窗口“%s”不存在") % reference)
            elif len(matches) > 1:
                add(
                    "window_codes",
                    _("窗口号“%s”在多个服务中心都有，请写成“服务中心名称/窗口号”") % reference,
                )
            else:
                resolved.window_ids.append(matches[0][0])
        for codes, known, name, target in (
            (content.theme_codes, self.themes, "theme_codes", resolved.theme_ids),
            (
                content.life_event_codes,
                self.life_events,
                "life_event_codes",
                resolved.life_event_ids,
            ),
        ):
            missing = [code for code in codes if code not in known]
            if missing:
                add(name, _("以下编码不存在：%s") % "、".join(missing))
            target.extend(known[code] for code in codes if code in known)
        for basis in content.bases:
            found = self.bases.get(basis.title)
            if found is None:
                add("bases", _("法律法规“%s”未登记，请先在法律法规库中添加") % basis.title)
            else:
                resolved.bases.append((found, basis))
        return resolved


@dataclass
class ParsedPower:
    row: int
    content: services.PowerContent
    exists: bool = False


@dataclass
class ParsedWorkbook:
    items: list[ParsedItem] = field(default_factory=list)
    powers: list[ParsedPower] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    total_rows: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


def _where(sheet: str, row: int, column: str, problem: str) -> str:
    if row and column:
        return _("“%(sheet)s”表第%(row)d行“%(column)s”：%(problem)s") % {
            "sheet": sheet,
            "row": row,
            "column": column,
            "problem": problem,
        }
    if row:
        return _("“%(sheet)s”表第%(row)d行：%(problem)s") % {
            "sheet": sheet,
            "row": row,
            "problem": problem,
        }
    if sheet:
        return _("“%(sheet)s”表：%(problem)s") % {"sheet": sheet, "problem": problem}
    return problem


def row_error(sheet: str, row: int, column: str, problem: str) -> RowError:
    return RowError(sheet, row, column, _where(sheet, row, column, problem))


# ---------------------------------------------------------------- labels


@functools.cache
def _labels(choices: Any) -> dict[str, str]:
    """value → Chinese label (the file format does not follow the interface language)."""
    with translation.override("zh-hans"):
        return {str(value): str(label) for value, label in choices.choices}


@functools.cache
def _lookup(choices: Any) -> dict[str, str]:
    """label or value → value."""
    found = {value: value for value in _labels(choices)}
    found.update({label: value for value, label in _labels(choices).items()})
    return found


def _label_of(choices: Any, value: Any) -> str:
    return _labels(choices).get(str(value), str(value))


def _value_of(choices: Any, text: str) -> str | None:
    """The stored value for a label (or for the value itself), else None."""
    return _lookup(choices).get(text)


# ---------------------------------------------------------------- cell conversion


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return YES if value else NO
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class _CellProblem(Exception):
    pass


def _convert(column: Column, value: Any) -> Any:
    """A cell's value in ItemContent terms; raises ``_CellProblem`` with the problem."""
    if column.kind == TEXT:
        return _cell_text(value)
    text = _cell_text(value).strip()
    if column.kind == CODE:
        return text
    if column.kind == INT:
        if isinstance(value, bool):
            raise _CellProblem(_("应为整数，现为“%s”") % text)
        if isinstance(value, int):
            number = value
        elif isinstance(value, float) and value.is_integer():
            number = int(value)
        elif text == "" and not column.required:
            return None
        elif text.isdigit():
            number = int(text)
        else:
            unit = _("（工作日）") if column.high == 365 else ""
            if not text:
                raise _CellProblem(_("请填写整数%s") % unit)
            raise _CellProblem(_("应为整数%(unit)s，现为“%(text)s”") % {"unit": unit, "text": text})
        if not column.low <= number <= column.high:
            raise _CellProblem(
                _("应为%(low)d到%(high)d之间的整数，现为%(number)d")
                % {"low": column.low, "high": column.high, "number": number}
            )
        return number
    if column.kind in (BOOL, NOT_BOOL):
        if text == "":
            return None
        if isinstance(value, bool):
            flag = value
        elif text in (YES, "Y", "y", "1", "TRUE", "True", "true"):
            flag = True
        elif text in (NO, "N", "n", "0", "FALSE", "False", "false"):
            flag = False
        else:
            raise _CellProblem(_("应为“是”或“否”，现为“%s”") % text)
        return not flag if column.kind == NOT_BOOL else flag
    if column.kind == DECIMAL:
        if text == "":
            return None
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise _CellProblem(_("应为金额（元），现为“%s”") % text) from None
        if not amount.is_finite():
            raise _CellProblem(_("应为金额（元），现为“%s”") % text)
        exponent = amount.as_tuple().exponent
        if (
            isinstance(exponent, int)
            and exponent < -2
            and amount != amount.quantize(Decimal("0.01"))
        ):
            raise _CellProblem(_("金额最多保留两位小数，现为“%s”") % text)
        return amount.quantize(Decimal("0.01"))
    if column.kind == CHOICE:
        if text == "":
            return None
        found = _value_of(column.choices, text)
        if found is None:
            raise _CellProblem(
                _("应为以下之一：%(allowed)s，现为“%(text)s”")
                % {"allowed": "、".join(_labels(column.choices).values()), "text": text}
            )
        return found
    if column.kind == MULTI_CHOICE:
        values = []
        for part in _split(text):
            found = _value_of(column.choices, part)
            if found is None:
                raise _CellProblem(
                    _("“%(part)s”不是可选的值，可选：%(allowed)s（多个用“、”分隔）")
                    % {"part": part, "allowed": "、".join(_labels(column.choices).values())}
                )
            values.append(found)
        return tuple(values)
    if column.kind == CODES:
        return tuple(_split(text))
    if column.kind == JSON:
        if text == "":
            return None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise _CellProblem(
                _("不是有效的JSON（第%(line)d行第%(col)d列附近有误）")
                % {"line": error.lineno, "col": error.colno}
            ) from None
        if not isinstance(data, dict):
            raise _CellProblem(_("应为JSON对象（以“{”开头）"))
        return data
    raise AssertionError(column.kind)


def _split(text: str) -> list[str]:
    for char in _SPLIT_CHARS:
        text = text.replace(char, LIST_SEPARATOR)
    return [part.strip() for part in text.split(LIST_SEPARATOR) if part.strip()]


def _to_cell(column: Column, value: Any) -> Any:
    """A content value as written to the sheet (the inverse of ``_convert``)."""
    if column.kind in (TEXT, CODE):
        return _clean(value or "")
    if column.kind == INT:
        return value
    if column.kind == BOOL:
        return YES if value else NO
    if column.kind == NOT_BOOL:
        return NO if value else YES
    if column.kind == DECIMAL:
        amount = Decimal(value)
        return int(amount) if amount == amount.to_integral_value() else float(amount)
    if column.kind == CHOICE:
        return _label_of(column.choices, value)
    if column.kind == MULTI_CHOICE:
        return LIST_SEPARATOR.join(_label_of(column.choices, part) for part in value)
    if column.kind == CODES:
        return LIST_SEPARATOR.join(value)
    if column.kind == JSON:
        return "" if value is None else json.dumps(value, ensure_ascii=False)
    raise AssertionError(column.kind)


def _clean(text: str) -> str:
    return ILLEGAL_CHARACTERS_RE.sub("", str(text))


# ---------------------------------------------------------------- writing


_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="1F4E79")
_REQUIRED_FILL = PatternFill("solid", fgColor="9C2A1E")
_WRAP = Alignment(wrap_text=True, vertical="top")


def _choice_formula(column: Column) -> str | None:
    if column.kind in (BOOL, NOT_BOOL):
        return f'"{YES},{NO}"'
    if column.kind == CHOICE:
        formula = '"' + ",".join(_labels(column.choices).values()) + '"'
        return formula if len(formula) <= 255 else None
    if column.name == "online_depth":
        return '"1,2,3,4"'
    return None


class _SheetWriter:
    """A write-only sheet with the styled, frozen header, widths and drop-downs."""

    def __init__(self, workbook: Workbook, title: str, columns: Sequence[Column]) -> None:
        self.columns = columns
        self.sheet = workbook.create_sheet(title)
        for index, column in enumerate(columns, start=1):
            self.sheet.column_dimensions[get_column_letter(index)].width = column.width
        self.sheet.freeze_panes = "A2"
        for index, column in enumerate(columns, start=1):
            letter = get_column_letter(index)
            cells = f"{letter}2:{letter}1048576"
            formula = _choice_formula(column)
            if formula:
                validation = DataValidation(
                    type="list",
                    formula1=formula,
                    allow_blank=True,
                    showErrorMessage=True,
                    errorTitle=_("输入有误"),
                    error=_("请从下拉列表中选择"),
                )
            elif column.kind == INT:
                validation = DataValidation(
                    type="whole",
                    operator="between",
                    formula1=str(column.low),
                    formula2=str(column.high),
                    allow_blank=True,
                    showErrorMessage=True,
                    errorTitle=_("输入有误"),
                    error=_("请填写%(low)d到%(high)d之间的整数")
                    % {"low": column.low, "high": column.high},
                )
            else:
                continue
            validation.add(cells)
            self.sheet.data_validations.append(validation)
        header = []
        for column in columns:
            cell = WriteOnlyCell(self.sheet, value=column.header)
            cell.font = _HEADER_FONT
            cell.fill = _REQUIRED_FILL if column.required else _HEADER_FILL
            header.append(cell)
        self.sheet.append(header)
        self._text_columns = [column.kind in (TEXT, CODE) for column in columns]

    def append(self, values: Sequence[Any]) -> None:
        row: list[Any] = []
        for value, is_text in zip(values, self._text_columns, strict=True):
            if is_text and isinstance(value, str) and value:
                cell = WriteOnlyCell(self.sheet, value=value)
                cell.data_type = "s"  # never a formula, a number or a date
                row.append(cell)
            else:
                row.append(None if value == "" else value)
        self.sheet.append(row)


def _new_workbook() -> Workbook:
    return Workbook(write_only=True)


def _help_sheet(workbook: Workbook) -> None:
    sheet = workbook.create_sheet(SHEET_HELP)
    for letter, width in zip("ABCDE", (16, 20, 10, 60, 30), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A4"
    title = WriteOnlyCell(sheet, value=_("政务服务事项和权责清单导入模板"))
    title.font = Font(bold=True, size=14)
    sheet.append([title])
    sheet.append(
        [
            _(
                "每张工作表第一行是列名，请勿修改。红色列名为必填列。"
                "申请材料、办理流程、设定依据用“部门编码+基本编码+业务办理项编码”对应到“事项”表中的事项；"
                "权力依据、责任清单用“权力编码”对应到“权力事项”表。整份文件校验通过后才会导入，"
                "有任何错误都不会写入。"
            )
        ]
    )
    headers = [_("工作表"), _("列名"), _("必填"), _("说明和可选值"), _("示例")]
    cells = []
    for text in headers:
        cell = WriteOnlyCell(sheet, value=text)
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        cells.append(cell)
    sheet.append(cells)
    for sheet_name, columns in SHEET_COLUMNS.items():
        for column in columns:
            example = WriteOnlyCell(sheet, value=_cell_text(column.example))
            example.data_type = "s"
            if column.example != "" and sheet_name == SHEET_ITEMS and column.name == "name":
                example.comment = Comment(_("示例：仅供参考，请在“事项”表中填写"), "tongban")
            note = WriteOnlyCell(sheet, value=_column_note(column))
            note.alignment = _WRAP
            sheet.append([sheet_name, column.header, YES if column.required else "", note, example])


def _column_note(column: Column) -> str:
    notes = {
        "department_code": _("实施机关在平台中的部门编码"),
        "basic_code": _("事项基本编码，6到30位数字或大写字母"),
        "handling_suffix": _("3位数字，主项和子项填000"),
        "parent_code": _("子项和业务办理项填写上级事项的实施编码（上级可在本文件中）"),
        "implementation_code": _("导出时填写，导入时由系统计算；如填写须与计算结果一致"),
        "power_code": _("权责清单中的权力编码，可在本文件“权力事项”表中"),
        "legal_limit_days": _("整数，单位为工作日，0到365"),
        "promised_limit_days": _("整数，单位为工作日，不长于法定时限；即办件填0"),
        "is_free": _("填“是”时须填写收费金额和收费依据"),
        "fee_amount": _("单位为元，最多两位小数"),
        "visits": _("0到5；全程网办填0"),
        "online_depth": _(
            "1一级：网上咨询、下载表格；2二级：网上预审；3三级：网上受理；4四级：全程网办"
        ),
        "window_codes": _("写成“服务中心名称/窗口号”，多个用“、”分隔"),
        "theme_codes": _("多个用“、”分隔"),
        "life_event_codes": _("多个用“、”分隔"),
        "form_schema": _("在线申请表单定义（JSON Schema 子集），不需要在线表单时留空"),
        "form_ui": _("表单界面提示（JSON），没有在线表单时留空"),
        "order": _("同一事项内的排列顺序"),
        "remedy": _("留空时使用默认的行政复议和行政诉讼告知"),
        "title": _("须为法律法规库中已登记的名称"),
        "holder_code": _("实施主体在平台中的部门编码"),
        "condition": _("非必要材料须写明在什么情况下提交"),
    }
    note = str(notes.get(column.name, ""))
    if column.kind in (BOOL, NOT_BOOL):
        note = "；".join(part for part in (note, _("填“是”或“否”")) if part)
    elif column.kind == CHOICE:
        allowed = _("可选：%s") % "、".join(_labels(column.choices).values())
        note = "；".join(part for part in (note, allowed) if part)
    elif column.kind == MULTI_CHOICE:
        allowed = _("可选：%s，多个用“、”分隔") % "、".join(_labels(column.choices).values())
        note = "；".join(part for part in (note, allowed) if part)
    elif column.kind == INT and not note:
        note = _("整数，%(low)d到%(high)d") % {"low": column.low, "high": column.high}
    return note


@dataclass
class WorkbookRows:
    """Rows to write, one list of cell values per row, in each sheet's column order."""

    items: list[list[Any]] = field(default_factory=list)
    materials: list[list[Any]] = field(default_factory=list)
    steps: list[list[Any]] = field(default_factory=list)
    bases: list[list[Any]] = field(default_factory=list)
    powers: list[list[Any]] = field(default_factory=list)
    power_bases: list[list[Any]] = field(default_factory=list)
    duties: list[list[Any]] = field(default_factory=list)


def write_workbook(rows: WorkbookRows) -> bytes:
    workbook = _new_workbook()
    _help_sheet(workbook)
    for title, data in (
        (SHEET_ITEMS, rows.items),
        (SHEET_MATERIALS, rows.materials),
        (SHEET_STEPS, rows.steps),
        (SHEET_BASES, rows.bases),
        (SHEET_POWERS, rows.powers),
        (SHEET_POWER_BASES, rows.power_bases),
        (SHEET_DUTIES, rows.duties),
    ):
        writer = _SheetWriter(workbook, title, SHEET_COLUMNS[title])
        for values in data:
            writer.append(values)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def template_workbook() -> bytes:
    """Empty sheets with headers and drop-downs, and the instructions (with examples)."""
    return write_workbook(WorkbookRows())


def content_row(
    columns: Sequence[Column], content: Any, extra: dict[str, Any] | None = None
) -> list[Any]:
    """Cell values for ``columns`` taken from ``extra`` (keys) or the content's fields."""
    extra = extra or {}
    row = []
    for column in columns:
        value = extra[column.name] if column.name in extra else getattr(content, column.name)
        row.append(_to_cell(column, value))
    return row


def item_content(version: ItemVersion) -> services.ItemContent:
    """A published version as ``ItemContent`` (children from the prefetch caches)."""
    data: dict[str, Any] = {name: getattr(version, name) for name in services._SCALAR_FIELDS}
    return services.ItemContent(
        **data,
        power_code=version.power.code if version.power_id and version.power else "",
        special_procedures=tuple(version.special_procedures),
        delivery_methods=tuple(version.delivery_methods),
        window_codes=tuple(services.window_reference(w) for w in version.windows.all()),
        theme_codes=tuple(theme.code for theme in version.themes.all()),
        life_event_codes=tuple(event.code for event in version.life_events.all()),
        bases=tuple(
            services.BasisInput(
                title=row.basis.title, article=row.article, is_setting=row.is_setting
            )
            for row in version.bases.all()
        ),
        materials=tuple(
            services.MaterialInput(
                name=row.name,
                originals=row.originals,
                copies=row.copies,
                media=row.media,
                is_required=row.is_required,
                condition=row.condition,
                source=row.source,
                acceptance_standard=row.acceptance_standard,
                template_file_id=str(row.template_file_id) if row.template_file_id else None,
                sample_file_id=str(row.sample_file_id) if row.sample_file_id else None,
            )
            for row in version.materials.all()
        ),
        steps=tuple(
            services.StepInput(name=row.name, description=row.description, days=row.days)
            for row in version.steps.all()
        ),
    )


def item_rows(
    rows: WorkbookRows,
    *,
    department_code: str,
    basic_code: str,
    level: str,
    parent_code: str,
    implementation_code: str,
    content: services.ItemContent,
) -> None:
    """Add one item with its materials, steps and bases to ``rows``."""
    key = {
        "department_code": department_code,
        "basic_code": basic_code,
        "handling_suffix": content.handling_suffix,
    }
    rows.items.append(
        content_row(
            ITEM_COLUMNS,
            content,
            {
                **key,
                "level": level,
                "parent_code": parent_code,
                "implementation_code": implementation_code,
            },
        )
    )
    for order, material in enumerate(content.materials, start=1):
        rows.materials.append(content_row(MATERIAL_COLUMNS, material, {**key, "order": order}))
    for order, step in enumerate(content.steps, start=1):
        rows.steps.append(content_row(STEP_COLUMNS, step, {**key, "order": order}))
    for basis in content.bases:
        rows.bases.append(content_row(BASIS_COLUMNS, basis, key))


def power_rows(rows: WorkbookRows, content: services.PowerContent) -> None:
    rows.powers.append(content_row(POWER_COLUMNS, content))
    for basis in content.bases:
        rows.power_bases.append(content_row(POWER_BASIS_COLUMNS, basis, {"code": content.code}))
    for order, (stage, duty) in enumerate(content.duties, start=1):
        rows.duties.append(
            content_row(
                DUTY_COLUMNS,
                None,
                {"code": content.code, "order": order, "stage": stage, "duty": duty},
            )
        )


def export_items(items: QuerySet[ServiceItem] | None = None) -> QuerySet[ServiceItem]:
    """Active items with a published version, everything the export needs prefetched."""
    queryset = items if items is not None else ServiceItem.objects.all()
    return (
        queryset.filter(is_active=True, current__isnull=False)
        .select_related("department", "parent", "current", "current__power")
        .prefetch_related(
            "current__windows__centre",
            "current__themes",
            "current__life_events",
            "current__bases__basis",
            "current__materials",
            "current__steps",
        )
        .order_by("implementation_code")
    )


def export_powers(powers: QuerySet[PowerItem] | None = None) -> QuerySet[PowerItem]:
    queryset = powers if powers is not None else PowerItem.objects.all()
    return (
        queryset.filter(status=PowerStatus.ACTIVE)
        .select_related("holder")
        .prefetch_related("bases__basis", "duties")
        .order_by("code")
    )


def power_content(power: PowerItem) -> services.PowerContent:
    return services.PowerContent(
        code=power.code,
        name=power.name,
        power_type=power.power_type,
        holder_code=power.holder.code,
        exercise_level=power.exercise_level,
        accountability=power.accountability,
        note=power.note,
        bases=tuple(
            services.BasisInput(title=row.basis.title, article=row.article)
            for row in power.bases.all()
        ),
        duties=tuple((row.stage, row.duty) for row in power.duties.all()),
    )


def _export_rows(
    items: QuerySet[ServiceItem] | None, powers: QuerySet[PowerItem] | None
) -> WorkbookRows:
    rows = WorkbookRows()
    for item in export_items(items).iterator(chunk_size=500):
        version = item.current
        assert version is not None
        item_rows(
            rows,
            department_code=item.department.code,
            basic_code=item.basic_code,
            level=item.level,
            parent_code=item.parent.implementation_code if item.parent else "",
            implementation_code=item.implementation_code,
            content=item_content(version),
        )
    for power in export_powers(powers).iterator(chunk_size=500):
        power_rows(rows, power_content(power))
    return rows


def export_workbook(
    items: QuerySet[ServiceItem] | None = None, powers: QuerySet[PowerItem] | None = None
) -> bytes:
    """The current published version of each active item (all of them by default) and the
    active powers, in the import layout."""
    return write_workbook(_export_rows(items, powers))


def export_csv(items: QuerySet[ServiceItem] | None = None) -> bytes:
    """One row per item, materials flattened into one cell; UTF-8 with BOM for Excel."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    headers = [column.header for column in ITEM_COLUMNS]
    writer.writerow([*headers, SHEET_MATERIALS])
    required, optional = _("必要"), _("非必要")
    for item in export_items(items).iterator(chunk_size=500):
        version = item.current
        assert version is not None
        content = item_content(version)
        row = content_row(
            ITEM_COLUMNS,
            content,
            {
                "department_code": item.department.code,
                "basic_code": item.basic_code,
                "level": item.level,
                "parent_code": item.parent.implementation_code if item.parent else "",
                "implementation_code": item.implementation_code,
            },
        )
        materials = "；".join(
            f"{material.name}（{required if material.is_required else optional}）"
            for material in content.materials
        )
        writer.writerow([*row, materials])
    return buffer.getvalue().encode("utf-8-sig")


# ---------------------------------------------------------------- reading


@dataclass
class _Row:
    number: int
    values: dict[str, Any]


class _Reader:
    def __init__(self, progress: ProgressCallback | None) -> None:
        self.errors: list[RowError] = []
        self.progress = progress
        self.done = 0
        self.total = 0

    def add(self, sheet: str, row: int, column: str, problem: str) -> None:
        self.errors.append(row_error(sheet, row, column, problem))

    def tick(self) -> None:
        self.done += 1
        if self.progress is not None and self.done % PROGRESS_EVERY == 0:
            self.progress(self.done, max(self.total, self.done))

    def sheet_rows(self, worksheet: Any, title: str) -> list[_Row] | None:
        """Converted rows of a sheet, or None when its header is unusable."""
        columns = SHEET_COLUMNS[title]
        by_header = {column.header: column for column in columns}
        iterator = worksheet.iter_rows(values_only=True)
        header = next(iterator, None)
        if header is None:
            self.add(title, 0, "", _("缺少列名行"))
            return None
        positions: list[tuple[int, Column]] = []
        seen: set[str] = set()
        usable = True
        for index, text in enumerate(header):
            name = _cell_text(text).strip()
            if not name:
                continue
            column = by_header.get(name)
            if column is None:
                self.add(title, 1, name, _("无法识别的列名"))
                usable = False
            elif name in seen:
                self.add(title, 1, name, _("列名重复"))
                usable = False
            else:
                seen.add(name)
                positions.append((index, column))
        for column in columns:
            if column.required and column.header not in seen:
                self.add(title, 1, column.header, _("缺少必填列“%s”") % column.header)
                usable = False
        limit = MAX_ROWS if title in (SHEET_ITEMS, SHEET_POWERS) else MAX_CHILD_ROWS
        rows: list[_Row] = []
        for number, cells in enumerate(iterator, start=2):
            self.tick()
            if cells is None or all(value is None or value == "" for value in cells):
                continue
            if len(rows) >= limit:
                raise _TooManyRows(title, limit)
            values: dict[str, Any] = {}
            for index, column in positions:
                raw = cells[index] if index < len(cells) else None
                try:
                    converted = _convert(column, raw)
                except _CellProblem as problem:
                    self.add(title, number, column.header, str(problem))
                    continue
                if column.required and converted in ("", None):
                    self.add(title, number, column.header, _("必填，不能为空"))
                    continue
                values[column.name] = converted
            rows.append(_Row(number, values))
        return rows if usable else None


class _TooManyRows(Exception):
    def __init__(self, sheet: str, limit: int) -> None:
        super().__init__(sheet)
        self.sheet = sheet
        self.limit = limit


_ItemKey = tuple[str, str, str]


def _key_of(values: dict[str, Any]) -> _ItemKey | None:
    key = (
        values.get("department_code"),
        values.get("basic_code"),
        values.get("handling_suffix"),
    )
    if not all(key):
        return None
    return (str(key[0]), str(key[1]), str(key[2]))


def _key_text(key: _ItemKey) -> str:
    return "+".join(key)


class _NotXlsx(Exception):
    pass


def _local(name: str) -> str:
    return name.rsplit(":", 1)[-1]


def _column_index(reference: str) -> int:
    """0-based column of a cell reference such as ``AB12``."""
    index = 0
    for char in reference:
        if "A" <= char <= "Z":
            index = index * 26 + ord(char) - 64
        else:
            break
    return index - 1


def _number(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        value = float(text)
        return int(value) if value.is_integer() and abs(value) < 2**53 else value


class _XlsxSheet:
    def __init__(self, book: _Xlsx, path: str) -> None:
        self.book = book
        self.path = path

    @property
    def max_row(self) -> int | None:
        with self.book.archive.open(self.path) as handle:
            head = handle.read(4096).decode("utf-8", "ignore")
        match = _DIMENSION.search(head)
        if match is None:
            return None
        return int(match.group(1))

    def iter_rows(self, values_only: bool = True) -> Iterator[tuple[Any, ...]]:
        """Row tuples from row 1 on, empty rows included, like openpyxl's ``values_only``."""
        shared = self.book.shared_strings
        expected = 1
        previous_row = 0
        with self.book.archive.open(self.path) as handle:
            for _event, element in ElementTree.iterparse(handle, events=("end",)):  # noqa: S314 - expat refuses entity expansion attacks
                tag = element.tag
                if not (tag == "row" or tag.endswith("}row")):
                    continue
                number_text = element.get("r")
                number = int(number_text) if number_text else previous_row + 1
                previous_row = number
                cells: dict[int, Any] = {}
                column = -1
                for cell in element:
                    reference = cell.get("r")
                    column = _column_index(reference) if reference else column + 1
                    kind = cell.get("t", "n")
                    if kind == "inlineStr":
                        cells[column] = _inline_text(cell)
                        continue
                    text = None
                    for child in cell:
                        if _tag(child) == "v":
                            text = child.text or ""
                            break
                    if text is None:
                        continue
                    value: Any
                    if kind == "s":
                        value = shared[int(text)]
                    elif kind in ("str", "e"):
                        value = text
                    elif kind == "b":
                        value = text.strip() in ("1", "true")
                    elif text == "":
                        value = None
                    else:
                        value = _number(text)
                    cells[column] = value
                element.clear()
                while expected < number:
                    yield ()
                    expected += 1
                width = max(cells) + 1 if cells else 0
                yield tuple(cells.get(index) for index in range(width))
                expected = number + 1


_DIMENSION = re.compile(r"<(?:\w+:)?dimension[^>]*\bref=\"[A-Z]+\d+:[A-Z]+(\d+)\"")
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


class _Xlsx:
    """A small, fast, streaming reader of cell values (openpyxl's is several times slower
    on large sheets). Formulas are read as their cached values."""

    def __init__(self, data: bytes) -> None:
        try:
            self.archive = zipfile.ZipFile(io.BytesIO(data))
            names = set(self.archive.namelist())
            if "xl/workbook.xml" not in names:
                raise _NotXlsx
            if any(info.file_size > MAX_UNPACKED_BYTES for info in self.archive.infolist()):
                raise _NotXlsx  # a zip bomb, not a catalogue
            # Python's expat refuses entity-expansion attacks and never fetches entities
            workbook = ElementTree.fromstring(self.archive.read("xl/workbook.xml"))  # noqa: S314
            rels = ElementTree.fromstring(self.archive.read("xl/_rels/workbook.xml.rels"))  # noqa: S314
        except (zipfile.BadZipFile, KeyError, ElementTree.ParseError, OSError) as error:
            raise _NotXlsx from error
        targets = {
            rel.get("Id"): rel.get("Target", "") for rel in rels if _tag(rel) == "Relationship"
        }
        self.paths: dict[str, str] = {}
        for element in workbook.iter():
            if _tag(element) != "sheet":
                continue
            target = targets.get(element.get(f"{{{_REL_NS}}}id"), "")
            if target.startswith("/"):
                path = target.lstrip("/")
            else:
                path = "xl/" + target
            self.paths[element.get("name", "")] = path
        self.sheetnames = list(self.paths)
        self.shared_strings: list[str] = []
        shared_path = next(
            (target for target in targets.values() if target.endswith("sharedStrings.xml")), None
        )
        if shared_path:
            path = shared_path.lstrip("/") if shared_path.startswith("/") else "xl/" + shared_path
            if path in names:
                self.shared_strings = _shared_strings(self.archive.read(path))

    def __getitem__(self, name: str) -> _XlsxSheet:
        return _XlsxSheet(self, self.paths[name])

    def close(self) -> None:
        self.archive.close()


_TAGS: dict[str, str] = {}


def _tag(element: ElementTree.Element) -> str:
    tag = element.tag
    local = _TAGS.get(tag)
    if local is None:
        local = _TAGS[tag] = _local(tag.rsplit("}", 1)[-1])
    return local


def _inline_text(cell: ElementTree.Element) -> str:
    for holder in cell:
        if _tag(holder) == "is":
            if len(holder) == 1 and _tag(holder[0]) == "t":
                return holder[0].text or ""
            parts = []
            for child in holder:
                if _tag(child) == "t":
                    parts.append(child.text or "")
                elif _tag(child) == "r":
                    parts.extend(run.text or "" for run in child if _tag(run) == "t")
            return "".join(parts)
    return ""


def _shared_strings(data: bytes) -> list[str]:
    """The shared strings; rich-text runs joined, phonetic guides (rPh) left out."""
    strings: list[str] = []
    for item in ElementTree.fromstring(data):  # noqa: S314 - see _Xlsx
        if _tag(item) != "si":
            continue
        parts = []
        for child in item:
            if _tag(child) == "t":
                parts.append(child.text or "")
            elif _tag(child) == "r":
                parts.extend(run.text or "" for run in child if _tag(run) == "t")
        strings.append("".join(parts))
    return strings


def _open(data: bytes) -> _Xlsx | None:
    if not zipfile.is_zipfile(io.BytesIO(data)):
        return None
    try:
        return _Xlsx(data)
    except _NotXlsx:
        return None


def parse_workbook(
    data: bytes,
    progress: ProgressCallback | None = None,
    *,
    publish: bool = False,
) -> ParsedWorkbook:
    """Read and check a whole workbook. ``publish``: also require complete guides."""
    reader = _Reader(progress)
    result = ParsedWorkbook()
    workbook = _open(data)
    if workbook is None:
        result.errors.append(
            row_error("", 0, "", _("文件不是有效的Excel工作簿（.xlsx），请使用导入模板填写后上传"))
        )
        return result
    try:
        sheets = _read_sheets(workbook, reader)
    except _TooManyRows as error:
        result.errors.append(
            row_error(
                error.sheet,
                0,
                "",
                _("行数超过上限%d行，请拆分成多个文件分批导入") % error.limit,
            )
        )
        return result
    except (
        zipfile.BadZipFile,
        ElementTree.ParseError,
        KeyError,
        ValueError,
        OSError,
    ) as error:
        result.errors.append(
            row_error(
                "", 0, "", _("文件已损坏，无法读取：%s") % (error.args[0] if error.args else "")
            )
        )
        return result
    finally:
        workbook.close()
    result.total_rows = reader.done
    if sheets is not None:
        _build(sheets, reader, result, publish=publish)
    if progress is not None:
        progress(reader.done, reader.done)
    result.errors = reader.errors
    return result


def _read_sheets(workbook: Any, reader: _Reader) -> dict[str, list[_Row] | None] | None:
    names = list(workbook.sheetnames)
    for name in names:
        if name != SHEET_HELP and name not in SHEET_COLUMNS:
            reader.add(name, 0, "", _("无法识别的工作表，请使用导入模板"))
    missing = [name for name in DATA_SHEETS if name not in names]
    for name in missing:
        reader.add(name, 0, "", _("缺少工作表“%s”，请使用导入模板") % name)
    if missing:
        return None
    reader.total = sum(max(0, (workbook[name].max_row or 1) - 1) for name in DATA_SHEETS)
    return {name: reader.sheet_rows(workbook[name], name) for name in DATA_SHEETS}


def _group_children(
    rows: list[_Row] | None,
    sheet: str,
    keys: set[Any],
    key_of: Callable[[dict[str, Any]], Any],
    owner: str,
    reader: _Reader,
) -> dict[Any, list[_Row]]:
    grouped: dict[Any, list[_Row]] = defaultdict(list)
    for row in rows or []:
        key = key_of(row.values)
        if key is None:
            continue  # the empty key cell is reported already
        if key not in keys:
            reader.add(
                sheet,
                row.number,
                "",
                _("“%(owner)s”表中没有%(key)s") % {"owner": owner, "key": _describe_key(key)},
            )
            continue
        grouped[key].append(row)
    for children in grouped.values():
        children.sort(key=lambda row: (row.values.get("order") or 0, row.number))
    return grouped


def _describe_key(key: Any) -> str:
    if isinstance(key, tuple):
        return _("部门编码%(dept)s、基本编码%(basic)s、业务办理项编码%(suffix)s的事项") % {
            "dept": key[0],
            "basic": key[1],
            "suffix": key[2],
        }
    return _("权力编码为%s的权力事项") % key


def _duplicate_orders(rows: list[_Row], sheet: str, reader: _Reader) -> None:
    seen: set[int] = set()
    for row in rows:
        order = row.values.get("order")
        if order is None:
            continue
        if order in seen:
            reader.add(sheet, row.number, "序号", _("同一事项中序号%d重复") % order)
        seen.add(order)


def _build(
    sheets: dict[str, list[_Row] | None],
    reader: _Reader,
    result: ParsedWorkbook,
    *,
    publish: bool,
) -> None:
    power_codes = _build_powers(sheets, reader, result)
    references = References()
    item_rows_ = sheets[SHEET_ITEMS] or []
    departments = {
        department.code: department
        for department in Department.objects.filter(
            code__in={row.values.get("department_code") for row in item_rows_}
        ).select_related("division")
    }
    # keys first: duplicates and the computed implementation codes
    keyed: dict[_ItemKey, _Row] = {}
    codes: dict[_ItemKey, str] = {}
    for row in item_rows_:
        key = _key_of(row.values)
        if key is None:
            continue
        if key in keyed:
            reader.add(
                SHEET_ITEMS,
                row.number,
                "基本编码",
                _("与第%d行是同一事项（部门编码、基本编码、业务办理项编码相同）")
                % keyed[key].number,
            )
            continue
        keyed[key] = row
        department = departments.get(key[0])
        if department is None:
            reader.add(SHEET_ITEMS, row.number, "部门编码", _("部门编码“%s”不存在") % key[0])
            continue
        if not services.BASIC_CODE.match(key[1]):
            reader.add(SHEET_ITEMS, row.number, "基本编码", _("基本编码应为6到30位数字或大写字母"))
        codes[key] = services.implementation_code_build(
            basic_code=key[1], department=department, suffix=key[2]
        )
    existing = {
        item.implementation_code: item
        for item in ServiceItem.objects.filter(implementation_code__in=codes.values())
        .select_related("parent")
        .only("id", "implementation_code", "level", "parent__implementation_code")
    }
    in_review = set(
        ItemVersion.objects.filter(
            item_id__in=[item.pk for item in existing.values()], state=VersionState.IN_REVIEW
        ).values_list("item_id", flat=True)
    )
    file_levels = {codes[key]: keyed[key].values.get("level") for key in codes}
    parent_codes = {
        row.values.get("parent_code") for row in keyed.values() if row.values.get("parent_code")
    }
    db_parents = {
        item.implementation_code: item.level
        for item in ServiceItem.objects.filter(implementation_code__in=parent_codes).only(
            "implementation_code", "level"
        )
    }
    materials = _group_children(
        sheets[SHEET_MATERIALS], SHEET_MATERIALS, set(keyed), _key_of, SHEET_ITEMS, reader
    )
    steps = _group_children(
        sheets[SHEET_STEPS], SHEET_STEPS, set(keyed), _key_of, SHEET_ITEMS, reader
    )
    bases = _group_children(
        sheets[SHEET_BASES], SHEET_BASES, set(keyed), _key_of, SHEET_ITEMS, reader
    )
    for key, row in keyed.items():
        if key not in codes:
            continue
        values = row.values
        code = codes[key]
        given = values.get("implementation_code") or ""
        if given and given != code:
            reader.add(
                SHEET_ITEMS,
                row.number,
                "实施编码",
                _("与按部门编码、基本编码和业务办理项编码计算出的%s不一致") % code,
            )
        level = values.get("level")
        parent_code = values.get("parent_code") or ""
        if level == ItemLevel.MAIN and parent_code:
            reader.add(SHEET_ITEMS, row.number, "上级事项实施编码", _("主项不能有上级事项"))
        elif level and level != ItemLevel.MAIN and not parent_code:
            reader.add(
                SHEET_ITEMS,
                row.number,
                "上级事项实施编码",
                _("子项和业务办理项必须指定上级事项"),
            )
        if parent_code:
            parent_level = file_levels.get(parent_code) or db_parents.get(parent_code)
            if parent_code == code:
                reader.add(SHEET_ITEMS, row.number, "上级事项实施编码", _("上级事项不能是自己"))
            elif parent_level is None:
                reader.add(
                    SHEET_ITEMS,
                    row.number,
                    "上级事项实施编码",
                    _("上级事项“%s”在本文件和系统中都不存在") % parent_code,
                )
            elif parent_level == ItemLevel.HANDLING:
                reader.add(
                    SHEET_ITEMS,
                    row.number,
                    "上级事项实施编码",
                    _("业务办理项下不能再设子事项"),
                )
        found = existing.get(code)
        if found is not None:
            if level and found.level != level:
                reader.add(
                    SHEET_ITEMS,
                    row.number,
                    "事项层级",
                    _("系统中该事项为“%s”，导入不能修改事项层级")
                    % _label_of(ItemLevel, found.level),
                )
            current_parent = found.parent.implementation_code if found.parent else ""
            if parent_code != current_parent:
                reader.add(
                    SHEET_ITEMS,
                    row.number,
                    "上级事项实施编码",
                    _("系统中该事项的上级事项为“%s”，导入不能修改上级事项")
                    % (current_parent or _("无")),
                )
            if found.pk in in_review:
                reader.add(
                    SHEET_ITEMS,
                    row.number,
                    "",
                    _("该事项有版本正在审核，审核完成后才能导入修改"),
                )
        content = _item_content(
            values,
            materials.get(key, []),
            steps.get(key, []),
            bases.get(key, []),
        )
        if content is None:
            continue  # a scalar cell could not be read; reported already
        resolved = _check_item(
            row,
            content,
            materials.get(key, []),
            steps.get(key, []),
            bases.get(key, []),
            power_codes,
            reader,
            references,
            publish=publish,
        )
        result.items.append(
            ParsedItem(
                row=row.number,
                department_code=key[0],
                basic_code=key[1],
                level=str(level or ""),
                parent_code=parent_code,
                implementation_code=code,
                content=content,
                existing_id=found.pk if found is not None else None,
                department_id=departments[key[0]].pk,
                resolved=resolved,
            )
        )
    for children, sheet in ((materials, SHEET_MATERIALS), (steps, SHEET_STEPS)):
        for rows in children.values():
            _duplicate_orders(rows, sheet, reader)
    _parent_cycles(result.items, reader)


def _parent_cycles(items: list[ParsedItem], reader: _Reader) -> None:
    by_code = {item.implementation_code: item for item in items}
    for item in items:
        seen = {item.implementation_code}
        parent = by_code.get(item.parent_code)
        while parent is not None:
            if parent.implementation_code in seen:
                reader.add(SHEET_ITEMS, item.row, "上级事项实施编码", _("上级事项形成了循环引用"))
                break
            seen.add(parent.implementation_code)
            parent = by_code.get(parent.parent_code)


_ITEM_DEFAULTS = {
    item.name: item.default
    for item in services.ItemContent.__dataclass_fields__.values()  # type: ignore[attr-defined]
}


def _item_content(
    values: dict[str, Any], materials: list[_Row], steps: list[_Row], bases: list[_Row]
) -> services.ItemContent | None:
    data: dict[str, Any] = {}
    for column in ITEM_COLUMNS[6:]:
        if column.name not in values:
            if column.required:
                return None
            continue
        value = values[column.name]
        if value is None or value == ():
            continue  # an empty optional cell: the default
        data[column.name] = value
    if "handling_suffix" in values:
        data["handling_suffix"] = values["handling_suffix"]
    try:
        return services.ItemContent(
            **data,
            materials=tuple(
                services.MaterialInput(
                    **{
                        k: v
                        for k, v in row.values.items()
                        if k in _MATERIAL_NAMES and v is not None
                    }
                )
                for row in materials
                if "name" in row.values
            ),
            steps=tuple(
                services.StepInput(
                    **{k: v for k, v in row.values.items() if k in _STEP_NAMES and v is not None}
                )
                for row in steps
                if "name" in row.values
            ),
            bases=tuple(
                services.BasisInput(
                    **{k: v for k, v in row.values.items() if k in _BASIS_NAMES and v is not None}
                )
                for row in bases
                if "title" in row.values
            ),
        )
    except TypeError:  # a required field missing: reported already
        return None


_MATERIAL_NAMES = {"name", "originals", "copies", "media", "is_required", "condition", "source",
                   "acceptance_standard"}  # fmt: skip
_STEP_NAMES = {"name", "description", "days"}
_BASIS_NAMES = {"title", "article", "is_setting"}


def _check_item(
    row: _Row,
    content: services.ItemContent,
    materials: list[_Row],
    steps: list[_Row],
    bases: list[_Row],
    power_codes: set[str],
    reader: _Reader,
    references: References,
    *,
    publish: bool,
) -> Resolved:
    # references are checked against the file-wide lookups, the rest by content_check
    checked = replace(
        content, power_code="", window_codes=(), theme_codes=(), life_event_codes=(), bases=()
    )
    errors, _resolved = services.content_check(checked)

    def add(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    resolved = references.resolve(content, power_codes, add)
    _check_lengths(content, add)
    for name, messages in errors.items():
        sheet, number, column = _item_error_place(name, row, materials, steps, bases)
        for message in messages:
            reader.add(sheet, number, column, message)
    if publish:
        problems = []
        if not content.materials:
            problems.append(_("请至少列出一项申请材料"))
        if not content.steps:
            problems.append(_("请填写办理流程"))
        if not content.bases:
            problems.append(_("请填写设定和实施依据"))
        if not content.result_name:
            problems.append(_("请填写办理结果名称"))
        if not (content.consult_phone and content.address and content.office_hours):
            problems.append(_("请填写咨询电话、办理地点和办理时间"))
        for problem in problems:
            reader.add(SHEET_ITEMS, row.number, "", _("直接发布需要完整的办事指南：%s") % problem)
    return resolved


def _max_lengths(model: Any) -> dict[str, int]:
    return {
        item.name: int(item.max_length)
        for item in model._meta.get_fields()
        if isinstance(item, CharField) and item.max_length
    }


_VERSION_LENGTHS = _max_lengths(ItemVersion)
_MATERIAL_LENGTHS = _max_lengths(Material)
_STEP_LENGTHS = _max_lengths(ProcessStep)
_BASIS_LENGTHS = _max_lengths(VersionBasis)


def _too_long(limit: int) -> str:
    return _("不能超过%d个字") % limit


def _check_lengths(content: services.ItemContent, add: Callable[[str, str], None]) -> None:
    """The database's column limits, which content_check leaves to the database."""
    for name, limit in _VERSION_LENGTHS.items():
        value = getattr(content, name, None)
        if isinstance(value, str) and len(value) > limit and name != "name":
            add(name, _too_long(limit))
    for index, material in enumerate(content.materials, start=1):
        for name, limit in _MATERIAL_LENGTHS.items():
            value = getattr(material, name, None)
            if isinstance(value, str) and len(value) > limit:
                add(
                    f"materials.{index}",
                    _("第%(index)d项材料的“%(field)s”%(problem)s")
                    % {
                        "index": index,
                        "field": getattr(Material._meta.get_field(name), "verbose_name", name),
                        "problem": _too_long(limit),
                    },
                )
    for index, step in enumerate(content.steps, start=1):
        if len(step.name) > _STEP_LENGTHS["name"]:
            add(
                f"steps.{index}",
                _("第%(index)d个环节的名称%(problem)s")
                % {
                    "index": index,
                    "problem": _too_long(_STEP_LENGTHS["name"]),
                },
            )
    for basis in content.bases:
        if len(basis.article) > _BASIS_LENGTHS["article"]:
            add(
                "bases",
                _("“%(title)s”的条款%(problem)s")
                % {
                    "title": basis.title,
                    "problem": _too_long(_BASIS_LENGTHS["article"]),
                },
            )


def _item_error_place(
    name: str, row: _Row, materials: list[_Row], steps: list[_Row], bases: list[_Row]
) -> tuple[str, int, str]:
    head, _dot, index = name.partition(".")
    if head in ("materials", "steps") and index.isdigit():
        rows = materials if head == "materials" else steps
        sheet = SHEET_MATERIALS if head == "materials" else SHEET_STEPS
        position = int(index) - 1
        if 0 <= position < len(rows):
            return sheet, rows[position].number, ""
    if head == "materials":
        return (
            SHEET_MATERIALS if materials else SHEET_ITEMS,
            (materials[0].number if materials else row.number),
            "",
        )
    if head == "steps":
        return SHEET_STEPS if steps else SHEET_ITEMS, (steps[0].number if steps else row.number), ""
    if head == "bases":
        if bases:
            return SHEET_BASES, bases[0].number, "法律法规名称"
        return SHEET_ITEMS, row.number, ""
    return SHEET_ITEMS, row.number, _ITEM_FIELD_HEADERS.get(name, "")


def _build_powers(
    sheets: dict[str, list[_Row] | None], reader: _Reader, result: ParsedWorkbook
) -> set[str]:
    keyed: dict[str, _Row] = {}
    for row in sheets[SHEET_POWERS] or []:
        code = row.values.get("code")
        if not code:
            continue
        if code in keyed:
            reader.add(
                SHEET_POWERS,
                row.number,
                "权力编码",
                _("与第%d行的权力编码重复") % keyed[code].number,
            )
            continue
        keyed[code] = row

    def power_key(values: dict[str, Any]) -> str | None:
        return values.get("code") or None

    bases = _group_children(
        sheets[SHEET_POWER_BASES], SHEET_POWER_BASES, set(keyed), power_key, SHEET_POWERS, reader
    )
    duties = _group_children(
        sheets[SHEET_DUTIES], SHEET_DUTIES, set(keyed), power_key, SHEET_POWERS, reader
    )
    for rows in duties.values():
        _duplicate_orders(rows, SHEET_DUTIES, reader)
    existing = set(PowerItem.objects.filter(code__in=keyed).values_list("code", flat=True))
    for code, row in keyed.items():
        values = row.values
        if not all(name in values for name in ("name", "power_type", "holder_code")):
            continue
        content = services.PowerContent(
            code=code,
            name=values["name"],
            power_type=values["power_type"],
            holder_code=values["holder_code"],
            exercise_level=values.get("exercise_level") or ExerciseLevel.CITY,
            accountability=values.get("accountability", ""),
            note=values.get("note", ""),
            bases=tuple(
                services.BasisInput(
                    title=child.values["title"], article=child.values.get("article", "")
                )
                for child in bases.get(code, [])
                if "title" in child.values
            ),
            duties=tuple(
                (child.values["stage"], child.values["duty"])
                for child in duties.get(code, [])
                if "stage" in child.values and "duty" in child.values
            ),
        )
        errors, _holder = services.power_check(content)
        for name, messages in errors.items():
            if name == "bases" and bases.get(code):
                place = (SHEET_POWER_BASES, bases[code][0].number, "法律法规名称")
            elif name == "duties" and duties.get(code):
                place = (SHEET_DUTIES, duties[code][0].number, "")
            else:
                place = (SHEET_POWERS, row.number, _POWER_FIELD_HEADERS.get(name, ""))
            for message in messages:
                reader.add(*place, message)
        result.powers.append(ParsedPower(row=row.number, content=content, exists=code in existing))
    return set(keyed)


def iter_errors(errors: Iterable[RowError]) -> Iterator[dict[str, Any]]:
    for error in errors:
        yield error.as_dict()
