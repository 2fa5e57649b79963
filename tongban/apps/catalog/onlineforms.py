"""Online application forms: a JSON Schema (draft 2020-12) plus a small object of UI hints.

Administrators write both as JSON on an item version; this module

- checks a definition stays inside the subset we can render (``form_definition_check``),
- renders it as an accessible, server-side HTML form (``form_render``),
- turns the posted HTML fields back into typed JSON (``form_data_from_post``),
- validates that JSON with ``jsonschema`` and explains every problem in the applicant's
  language, naming the field by its title (``form_validate``).

Supported subset (see docs/decisions/0009-online-forms.md): a top-level ``object`` with
``properties``; properties of type string (formats date, email, id-number, uscc, mobile;
``enum`` for select/radio; textarea by hint), integer, number, boolean, array of string
enum (checkboxes), one level of ``object`` (a fieldset) and ``array`` of objects
(repeatable rows). Keywords: title, description, required, minLength, maxLength, pattern,
minimum, maximum, enum, default, format, minItems, maxItems, uniqueItems.

UI hints (all optional)::

    {
      "order": ["name", "id_number", ...],          # top-level property order
      "widgets": {"scope": "textarea"},             # shorthand: path -> widget
      "scope": {"widget": "textarea", "placeholder": "...", "help": "..."},
      "members": {"rows": 4, "order": ["name", "relation"]},
      "members.name": {"placeholder": "..."}        # fields inside rows or fieldsets
    }

Keys other than ``order`` and ``widgets`` are field paths: property names joined by dots,
without row numbers. HTML field names are ``f__<name>__<row>__<name>``; error paths are the
same parts joined by dots (``members.1.id_number``), rows counted from 0.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.http import QueryDict
from django.template.loader import render_to_string
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from jsonschema import FormatChecker
from jsonschema.exceptions import SchemaError, ValidationError
from jsonschema.validators import Draft202012Validator

from tongban.platform.accounts.idnumbers import InvalidIdNumber, validate_resident_id, validate_uscc

__all__ = [
    "FormErrors",
    "form_data_from_post",
    "form_definition_check",
    "form_render",
    "form_validate",
]

MAX_DEPTH = 3
MAX_FIELDS = 200
DEFAULT_ROWS = 3
MAX_ROWS = 50
FIELD_PREFIX = "f"
SEPARATOR = "__"
TEMPLATE_DIR = "catalog/onlineform"

DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
NAME_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
MOBILE_PATTERN = re.compile(r"^1[3-9]\d{9}$")

FORMATS = ("date", "email", "id-number", "uscc", "mobile")
WIDGETS = ("textarea", "radio", "select", "checkboxes")
HINT_KEYS = ("widget", "placeholder", "help", "rows", "order")
ROOT_HINT_KEYS = ("order", "widgets")

_ANNOTATIONS = {"title", "description", "$comment"}
ROOT_KEYWORDS = frozenset(_ANNOTATIONS | {"$schema", "type", "properties", "required"})
KEYWORDS: dict[str, frozenset[str]] = {
    "string": frozenset(
        _ANNOTATIONS | {"type", "minLength", "maxLength", "pattern", "format", "enum", "default"}
    ),
    "integer": frozenset(_ANNOTATIONS | {"type", "minimum", "maximum", "default"}),
    "number": frozenset(_ANNOTATIONS | {"type", "minimum", "maximum", "default"}),
    "boolean": frozenset(_ANNOTATIONS | {"type", "enum", "default"}),
    "object": frozenset(_ANNOTATIONS | {"type", "properties", "required"}),
    "array": frozenset(
        _ANNOTATIONS | {"type", "items", "minItems", "maxItems", "uniqueItems", "default"}
    ),
}
ENUM_ITEM_KEYWORDS = frozenset(_ANNOTATIONS | {"type", "enum"})


# --------------------------------------------------------------------------- errors


@dataclass
class FormErrors(Mapping[str, list[str]]):
    """Messages per field path ("applicant.name", "members.1.id_number"); "" is the form.

    Empty (falsy) when the data is valid.
    """

    fields: dict[str, list[str]] = field(default_factory=dict)

    def add(self, path: str, message: str) -> None:
        messages = self.fields.setdefault(path, [])
        if message not in messages:
            messages.append(message)

    def __getitem__(self, path: str) -> list[str]:
        return self.fields[path]

    def __iter__(self) -> Iterator[str]:
        return iter(self.fields)

    def __len__(self) -> int:
        return len(self.fields)


# --------------------------------------------------------------------------- formats


def _check_id_number(instance: object) -> bool:
    if isinstance(instance, str):
        validate_resident_id(instance)  # raises InvalidIdNumber with the reason
    return True


def _check_uscc(instance: object) -> bool:
    if isinstance(instance, str):
        validate_uscc(instance)
    return True


def _check_mobile(instance: object) -> bool:
    return not isinstance(instance, str) or bool(MOBILE_PATTERN.match(instance))


def _check_email(instance: object) -> bool:
    if not isinstance(instance, str):
        return True
    try:
        validate_email(instance)
    except DjangoValidationError:
        return False
    return True


def _format_checker() -> FormatChecker:
    checker = FormatChecker()  # the standard formats (date among them) ...
    checker.checks("id-number", raises=InvalidIdNumber)(_check_id_number)  # ... plus ours
    checker.checks("uscc", raises=InvalidIdNumber)(_check_uscc)
    checker.checks("mobile")(_check_mobile)
    checker.checks("email")(_check_email)  # Django's rules, stricter than "has an @"
    return checker


FORMAT_CHECKER = _format_checker()


# --------------------------------------------------------------------------- helpers


def _type_of(schema: Mapping[str, Any]) -> str | None:
    kind = schema.get("type")
    return kind if isinstance(kind, str) else None


def _properties(schema: Mapping[str, Any]) -> dict[str, Any]:
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return {}
    return {name: sub for name, sub in properties.items() if isinstance(sub, dict)}


def _required(schema: Mapping[str, Any]) -> set[str]:
    required = schema.get("required")
    return (
        {name for name in required if isinstance(name, str)}
        if isinstance(required, list)
        else set()
    )


def _is_enum_items(schema: Mapping[str, Any]) -> bool:
    items = schema.get("items")
    return isinstance(items, dict) and _type_of(items) == "string" and "enum" in items


def _is_row_items(schema: Mapping[str, Any]) -> bool:
    items = schema.get("items")
    return isinstance(items, dict) and _type_of(items) == "object"


def _number_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _title(schema: Mapping[str, Any], fallback: str) -> str:
    title = schema.get("title")
    return title if isinstance(title, str) and title else fallback


# --------------------------------------------------------------------------- definition check


class _DefinitionChecker:
    def __init__(self) -> None:
        self.problems: list[str] = []
        self.field_count = 0
        # schema path ("members.name") -> property schema, for checking the UI hints
        self.paths: dict[str, dict[str, Any]] = {}

    def add(self, message: str) -> None:
        if message not in self.problems:
            self.problems.append(message)

    def check_root(self, schema: dict[str, Any]) -> None:
        if _type_of(schema) != "object" or not isinstance(schema.get("properties"), dict):
            self.add(_("表单定义的顶层必须是 type 为 object 且带有 properties 的对象"))
            return
        declared = schema.get("$schema")
        if declared is not None and declared.rstrip("#") != DRAFT_2020_12:
            self.add(
                _("表单定义只支持 JSON Schema 2020-12（$schema 应为 {uri}）").format(
                    uri=DRAFT_2020_12
                )
            )
        for keyword in schema:
            if keyword not in ROOT_KEYWORDS:
                self.add(_("表单顶层使用了不支持的关键字 {keyword}").format(keyword=keyword))
        self.check_properties(schema, parents=(), depth=1, nested=False)
        if self.field_count > MAX_FIELDS:
            self.add(
                _("表单字段过多：共 {count} 个，最多 {limit} 个").format(
                    count=self.field_count, limit=MAX_FIELDS
                )
            )

    def check_properties(
        self, schema: dict[str, Any], *, parents: tuple[str, ...], depth: int, nested: bool
    ) -> None:
        properties = schema["properties"]
        owner = ".".join(parents)
        if not properties:
            self.add(_("“{path}”没有任何字段（properties 为空）").format(path=owner or "/"))
        for name in _required(schema):
            if name not in properties:
                self.add(
                    _("“{path}”的 required 中列出的“{name}”不在 properties 中").format(
                        path=owner or "/", name=name
                    )
                )
        for name, sub in properties.items():
            path = ".".join((*parents, name))
            if not NAME_PATTERN.match(name):
                self.add(
                    _("字段名“{path}”无效：只能使用英文字母、数字和下划线，并以字母开头").format(
                        path=path
                    )
                )
            self.check_property(sub, path=(*parents, name), depth=depth, nested=nested)

    def check_property(
        self, schema: dict[str, Any], *, path: tuple[str, ...], depth: int, nested: bool
    ) -> None:
        dotted = ".".join(path)
        self.field_count += 1
        self.paths[dotted] = schema
        if depth > MAX_DEPTH:
            self.add(
                _("“{path}”嵌套过深：表单最多 {limit} 层").format(path=dotted, limit=MAX_DEPTH)
            )
            return
        raw_type = schema.get("type")
        if raw_type is None:
            self.add(_("“{path}”缺少 type").format(path=dotted))
            return
        kind = _type_of(schema)
        if kind not in KEYWORDS:
            shown = raw_type if isinstance(raw_type, str) else ", ".join(map(str, raw_type))
            self.add(_("“{path}”使用了不支持的类型 {type}").format(path=dotted, type=shown))
            return
        for keyword in schema:
            if keyword not in KEYWORDS[kind]:
                self.add(
                    _("“{path}”使用了不支持的关键字 {keyword}").format(path=dotted, keyword=keyword)
                )
        if not isinstance(schema.get("title"), str) or not schema["title"].strip():
            self.add(_("“{path}”缺少 title（字段标题）").format(path=dotted))
        if kind == "string":
            self.check_string(schema, dotted)
        elif kind == "boolean" and "enum" in schema:
            if not all(isinstance(value, bool) for value in schema["enum"]):
                self.add(_("“{path}”的 enum 只能包含 true 或 false").format(path=dotted))
        elif kind == "object":
            if nested:
                self.add(_("“{path}”：分组或重复行内不能再嵌套分组或重复行").format(path=dotted))
            if not isinstance(schema.get("properties"), dict):
                self.add(_("“{path}”是分组（object），必须带有 properties").format(path=dotted))
                return
            self.check_properties(schema, parents=path, depth=depth + 1, nested=True)
        elif kind == "array":
            self.check_array(schema, path=path, depth=depth, nested=nested)
        self.check_default(schema, dotted)

    def check_string(self, schema: dict[str, Any], dotted: str) -> None:
        value_format = schema.get("format")
        if value_format is not None and value_format not in FORMATS:
            self.add(
                _("“{path}”使用了不支持的格式 {format}").format(path=dotted, format=value_format)
            )
        if "enum" in schema:
            self.check_enum(schema, dotted)

    def check_enum(self, schema: dict[str, Any], dotted: str) -> None:
        enum = schema.get("enum")
        if not isinstance(enum, list) or not all(
            isinstance(value, str) and value for value in enum
        ):
            self.add(_("“{path}”的 enum 只能包含非空字符串").format(path=dotted))

    def check_array(
        self, schema: dict[str, Any], *, path: tuple[str, ...], depth: int, nested: bool
    ) -> None:
        dotted = ".".join(path)
        items = schema.get("items")
        if _is_enum_items(schema):
            assert isinstance(items, dict)
            for keyword in items:
                if keyword not in ENUM_ITEM_KEYWORDS:
                    self.add(
                        _("“{path}”使用了不支持的关键字 {keyword}").format(
                            path=f"{dotted}.items", keyword=keyword
                        )
                    )
            self.check_enum(items, dotted)
        elif _is_row_items(schema):
            assert isinstance(items, dict)
            if nested:
                self.add(_("“{path}”：分组或重复行内不能再嵌套分组或重复行").format(path=dotted))
            for keyword in items:
                if keyword not in KEYWORDS["object"]:
                    self.add(
                        _("“{path}”使用了不支持的关键字 {keyword}").format(
                            path=f"{dotted}.items", keyword=keyword
                        )
                    )
            if not isinstance(items.get("properties"), dict):
                self.add(_("“{path}”是分组（object），必须带有 properties").format(path=dotted))
                return
            # A row is one level deeper in the data: members -> 0 -> name.
            self.check_properties(items, parents=path, depth=depth + 2, nested=True)
        else:
            self.add(
                _("“{path}”：列表（array）的 items 只能是带 enum 的字符串或分组（object）").format(
                    path=dotted
                )
            )

    def check_default(self, schema: dict[str, Any], dotted: str) -> None:
        if "default" in schema and not Draft202012Validator(schema).is_valid(schema["default"]):
            self.add(_("“{path}”的默认值（default）不符合该字段的定义").format(path=dotted))

    def check_ui(self, schema: dict[str, Any], ui: object) -> None:
        if ui is None:
            return
        if not isinstance(ui, dict):
            self.add(_("界面提示应为 JSON 对象"))
            return
        self.check_order(ui.get("order"), schema, "order")
        widgets = ui.get("widgets", {})
        if not isinstance(widgets, dict):
            self.add(_("界面提示 widgets 应为对象（字段路径 → 控件）"))
            widgets = {}
        for path, widget in widgets.items():
            self.check_widget(path, widget)
        for key, hints in ui.items():
            if key in ROOT_HINT_KEYS:
                continue
            if key not in self.paths:
                self.add(_("界面提示“{path}”不对应任何表单字段").format(path=key))
                continue
            if not isinstance(hints, dict):
                self.add(_("界面提示“{path}”应为对象").format(path=key))
                continue
            self.check_hints(key, hints)

    def check_hints(self, path: str, hints: dict[str, Any]) -> None:
        schema = self.paths[path]
        for key, value in hints.items():
            if key not in HINT_KEYS:
                self.add(_("界面提示“{path}”中有未知的键“{key}”").format(path=path, key=key))
            elif key == "widget":
                self.check_widget(path, value)
            elif key in ("placeholder", "help") and not isinstance(value, str):
                self.add(_("界面提示“{path}”的 {key} 应为文本").format(path=path, key=key))
            elif key == "rows":
                if not (_type_of(schema) == "array" and _is_row_items(schema)):
                    self.add(_("界面提示“{path}”：rows 只适用于重复行").format(path=path))
                elif not (
                    isinstance(value, int)
                    and not isinstance(value, bool)
                    and 1 <= value <= MAX_ROWS
                ):
                    self.add(
                        _("界面提示“{path}”：rows 应为 1 到 {limit} 之间的整数").format(
                            path=path, limit=MAX_ROWS
                        )
                    )
            elif key == "order":
                container = schema.get("items") if _type_of(schema) == "array" else schema
                if not isinstance(container, dict) or _type_of(container) != "object":
                    self.add(_("界面提示“{path}”：order 只适用于分组或重复行").format(path=path))
                else:
                    self.check_order(value, container, f"{path}.order")

    def check_order(self, order: object, schema: dict[str, Any], where: str) -> None:
        if order is None:
            return
        names = _properties(schema)
        if not isinstance(order, list) or not all(isinstance(name, str) for name in order):
            self.add(_("界面提示 {where} 应为字段名列表").format(where=where))
            return
        for name in order:
            if name not in names:
                self.add(
                    _("界面提示 {where} 中的“{name}”不是表单字段").format(where=where, name=name)
                )
        if len(set(order)) != len(order):
            self.add(_("界面提示 {where} 中有重复的字段名").format(where=where))

    def check_widget(self, path: str, widget: object) -> None:
        schema = self.paths.get(path)
        if schema is None:
            self.add(_("界面提示“{path}”不对应任何表单字段").format(path=path))
            return
        if widget not in WIDGETS:
            self.add(
                _("界面提示“{path}”使用了未知的控件 {widget}").format(path=path, widget=widget)
            )
            return
        kind = _type_of(schema)
        fits = {
            "textarea": kind == "string" and "enum" not in schema and "format" not in schema,
            "radio": kind == "string" and "enum" in schema,
            "select": kind == "string" and "enum" in schema,
            "checkboxes": kind == "array" and _is_enum_items(schema),
        }
        if not fits[str(widget)]:
            self.add(
                _("界面提示“{path}”：控件 {widget} 不适用于该字段").format(path=path, widget=widget)
            )


def form_definition_check(schema: dict[str, Any], ui: dict[str, Any] | None) -> list[str]:
    """Problems with a form definition, in the active language; empty when it can be used."""
    if not isinstance(schema, dict):
        return [_("表单定义应为 JSON 对象")]
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as error:
        location = "/".join(str(part) for part in error.absolute_path) or "/"
        return [
            _("表单定义不是有效的 JSON Schema 2020-12：“{location}”处的 {keyword} 不合规").format(
                location=location, keyword=error.validator
            )
        ]
    checker = _DefinitionChecker()
    checker.check_root(schema)
    if not checker.problems or checker.paths:
        checker.check_ui(schema, ui)
    return checker.problems


# --------------------------------------------------------------------------- validation


def _field_path(root: Mapping[str, Any], parts: list[str | int]) -> tuple[list[str | int], Any]:
    """The path and schema of the form field an error is about.

    An error inside a checkbox group ("projects.2") belongs to the group ("projects").
    """
    schema: Any = root
    walked: list[str | int] = []
    for part in parts:
        if not isinstance(schema, Mapping):
            break
        if isinstance(part, int):
            items = schema.get("items")
            if not isinstance(items, Mapping) or _type_of(items) != "object":
                break
            schema = items
        else:
            schema = _properties(schema).get(part)
            if schema is None:
                break
        walked.append(part)
    return walked, schema


def _join(parts: list[str | int]) -> str:
    return ".".join(str(part) for part in parts)


def _required_message(schema: Mapping[str, Any], title: str) -> str:
    kind = _type_of(schema)
    if kind == "boolean":
        return _("请勾选“{title}”").format(title=title)
    if "enum" in schema or (kind == "array" and _is_enum_items(schema)):
        return _("请选择“{title}”").format(title=title)
    return _("请填写“{title}”").format(title=title)


def _format_message(error: ValidationError, title: str) -> str:
    reason = str(error.cause) if isinstance(error.cause, InvalidIdNumber) else ""
    messages = {
        "date": _("“{title}”应为有效的日期（年-月-日）"),
        "email": _("“{title}”应为有效的电子邮箱地址"),
        "mobile": _("“{title}”应为11位手机号码"),
        "id-number": _("“{title}”不是有效的公民身份号码"),
        "uscc": _("“{title}”不是有效的统一社会信用代码"),
    }
    message = messages.get(str(error.validator_value), _("“{title}”格式不正确"))
    if reason:
        return _("“{title}”：{reason}").format(title=title, reason=reason)
    return message.format(title=title)


def _type_message(expected: object, title: str) -> str:
    messages = {
        "integer": _("“{title}”应为整数"),
        "number": _("“{title}”应为数字"),
        "string": _("“{title}”应为文字"),
        "boolean": _("“{title}”应为是或否"),
    }
    return messages.get(str(expected), _("“{title}”的内容类型不正确")).format(title=title)


def _message(error: ValidationError, schema: Mapping[str, Any], title: str) -> str:
    keyword = error.validator
    limit = _number_text(error.validator_value)
    if keyword == "minLength":
        return _("“{title}”至少应有{limit}个字").format(title=title, limit=limit)
    if keyword == "maxLength":
        return _("“{title}”最多{limit}个字").format(title=title, limit=limit)
    if keyword == "pattern":
        return _("“{title}”格式不正确").format(title=title)
    if keyword == "format":
        return _format_message(error, title)
    if keyword == "type":
        return _type_message(error.validator_value, title)
    if keyword == "minimum":
        return _("“{title}”不能小于{limit}").format(title=title, limit=limit)
    if keyword == "maximum":
        return _("“{title}”不能大于{limit}").format(title=title, limit=limit)
    if keyword == "minItems":
        return _("“{title}”至少应填写{limit}项").format(title=title, limit=limit)
    if keyword == "maxItems":
        return _("“{title}”最多可填写{limit}项").format(title=title, limit=limit)
    if keyword == "uniqueItems":
        return _("“{title}”中有重复的选项").format(title=title)
    if keyword == "enum":
        if _type_of(schema) == "boolean":
            return _("请勾选“{title}”").format(title=title)
        return _("请从“{title}”的选项中选择").format(title=title)
    return _("“{title}”填写有误").format(title=title)


def form_validate(schema: dict[str, Any], data: dict[str, Any]) -> FormErrors:
    """Validate submitted data; messages name each field by its title in the active language.

    jsonschema's own (English) messages are never used.
    """
    errors = FormErrors()
    validator = Draft202012Validator(schema, format_checker=FORMAT_CHECKER)
    form_title = _title(schema, _("表单"))
    for error in validator.iter_errors(data):
        parts = list(error.absolute_path)
        if error.validator == "required" and isinstance(error.instance, dict):
            _walked, parent = _field_path(schema, parts)
            properties = _properties(parent) if isinstance(parent, Mapping) else {}
            for name in error.validator_value:
                if name in error.instance:
                    continue
                child = properties.get(name, {})
                errors.add(_join([*parts, name]), _required_message(child, _title(child, name)))
            continue
        walked, field_schema = _field_path(schema, parts)
        if not walked:
            errors.add("", _("“{title}”的内容格式不正确").format(title=form_title))
            continue
        if not isinstance(field_schema, Mapping):
            field_schema = {}
        title = _title(field_schema, str(walked[-1]))
        errors.add(_join(walked), _message(error, field_schema, title))
    return errors


# --------------------------------------------------------------------------- the fields


@dataclass(frozen=True)
class _Spec:
    """One property of the schema, with its UI hints applied."""

    name: str
    schema_path: str  # "members.name": the key of its UI hints
    kind: str  # a widget: text, textarea, select, radio, checkboxes, checkbox, fieldset, rows
    schema: Mapping[str, Any]
    title: str
    required: bool
    help: str
    placeholder: str
    options: tuple[str, ...] = ()
    children: tuple[_Spec, ...] = ()
    rows: int = 0


def _hints(ui: Mapping[str, Any] | None, path: str) -> Mapping[str, Any]:
    if not isinstance(ui, Mapping):
        return {}
    hints = dict(ui.get(path) or {}) if isinstance(ui.get(path), Mapping) else {}
    widgets = ui.get("widgets")
    if isinstance(widgets, Mapping) and path in widgets and "widget" not in hints:
        hints["widget"] = widgets[path]
    return hints


def _ordered(schema: Mapping[str, Any], order: object) -> list[str]:
    names = list(_properties(schema))
    if not isinstance(order, list):
        return names
    first = [name for name in order if name in names]
    return first + [name for name in names if name not in first]


def _specs(
    schema: Mapping[str, Any], ui: Mapping[str, Any] | None, parents: tuple[str, ...], order: object
) -> tuple[_Spec, ...]:
    properties = _properties(schema)
    required = _required(schema)
    specs = []
    for name in _ordered(schema, order):
        sub = properties[name]
        path = ".".join((*parents, name))
        hints = _hints(ui, path)
        kind = _type_of(sub)
        widget = hints.get("widget")
        children: tuple[_Spec, ...] = ()
        options: tuple[str, ...] = ()
        rows = 0
        if kind == "object":
            widget = "fieldset"
            children = _specs(sub, ui, (*parents, name), hints.get("order"))
        elif kind == "array" and _is_row_items(sub):
            widget = "rows"
            children = _specs(sub["items"], ui, (*parents, name), hints.get("order"))
            wanted = hints.get("rows", DEFAULT_ROWS)
            rows = wanted if isinstance(wanted, int) and wanted > 0 else DEFAULT_ROWS
            if isinstance(sub.get("maxItems"), int):
                rows = min(rows, sub["maxItems"])
            if isinstance(sub.get("minItems"), int):
                rows = max(rows, sub["minItems"])
        elif kind == "array":
            widget = "checkboxes"
            options = tuple(str(value) for value in sub.get("items", {}).get("enum", []))
        elif kind == "boolean":
            widget = "checkbox"
        elif kind == "string" and "enum" in sub:
            widget = widget if widget in ("radio", "select") else "select"
            options = tuple(str(value) for value in sub["enum"])
        else:
            widget = "textarea" if widget == "textarea" else "text"
        help_text = hints.get("help") or sub.get("description") or ""
        specs.append(
            _Spec(
                name=name,
                schema_path=path,
                kind=str(widget),
                schema=sub,
                title=_title(sub, name),
                required=name in required,
                help=str(help_text),
                placeholder=str(hints.get("placeholder") or ""),
                options=options,
                children=children,
                rows=rows,
            )
        )
    return tuple(specs)


def _root_specs(schema: Mapping[str, Any], ui: Mapping[str, Any] | None) -> tuple[_Spec, ...]:
    order = ui.get("order") if isinstance(ui, Mapping) else None
    return _specs(schema, ui, (), order)


# --------------------------------------------------------------------------- posted data


def _html_name(parts: tuple[str | int, ...]) -> str:
    return SEPARATOR.join((FIELD_PREFIX, *map(str, parts)))


def _is_blank(value: object) -> bool:
    if value is None or value is False or value in ("", [], {}):
        return True
    if isinstance(value, dict):
        return all(_is_blank(item) for item in value.values())
    return False


def _parse_number(text: str, *, integer: bool) -> int | float | str:
    try:
        return int(text)
    except ValueError:
        pass
    if integer:
        return text  # kept so that validation reports it
    try:
        number = float(text)
    except ValueError:
        return text
    return number if math.isfinite(number) else text


def _parse_text(spec: _Spec, raw: str) -> str:
    text = raw.replace("\r\n", "\n").strip()
    if spec.schema.get("format") in ("id-number", "uscc", "mobile"):
        text = re.sub(r"\s+", "", text)
        if spec.schema.get("format") != "mobile":
            text = text.upper()
    return text


def _parse_fields(
    specs: tuple[_Spec, ...], post: QueryDict, parts: tuple[str | int, ...]
) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for spec in specs:
        here = (*parts, spec.name)
        name = _html_name(here)
        kind = _type_of(spec.schema)
        value: Any
        if spec.kind == "fieldset":
            value = _parse_fields(spec.children, post, here)
            if _is_blank(value):
                value = {} if spec.required else None
        elif spec.kind == "rows":
            pattern = re.compile(rf"^{re.escape(name + SEPARATOR)}(\d+){re.escape(SEPARATOR)}")
            indexes = sorted({int(match[1]) for key in post if (match := pattern.match(key))})
            rows = [_parse_fields(spec.children, post, (*here, index)) for index in indexes]
            value = [row for row in rows if not _is_blank(row)]
            if not value:
                value = [] if spec.required else None
        elif spec.kind == "checkboxes":
            value = [item for item in post.getlist(name) if item] or None
        elif spec.kind == "checkbox":
            # A required box must be ticked: left unticked it is missing, so "required" fires.
            value = post.get(name, "") not in ("", "false") or (None if spec.required else False)
        else:
            text = _parse_text(spec, post.get(name, ""))
            if not text:
                value = None
            elif kind in ("integer", "number"):
                value = _parse_number(text, integer=kind == "integer")
            else:
                value = text
        if value is not None:
            data[spec.name] = value
    return data


def form_data_from_post(
    schema: dict[str, Any], ui: dict[str, Any] | None, post: QueryDict
) -> dict[str, Any]:
    """The posted HTML fields (``f__applicant__name``) as JSON data typed per the schema.

    Numbers are parsed (kept as text when they do not parse, so validation reports them),
    checkboxes become booleans (an unticked *required* box is left out: it must be ticked),
    empty fields and empty rows are left out so that ``required`` and ``minItems`` report
    them; a required fieldset with nothing filled in becomes ``{}`` so that its own required
    fields are reported one by one.
    """
    return _parse_fields(_root_specs(schema, ui), post, ())


# --------------------------------------------------------------------------- rendering


@dataclass(frozen=True)
class BoundOption:
    value: str
    label: str
    id: str
    selected: bool


@dataclass
class BoundRow:
    legend: str
    fields: list[BoundField]


@dataclass
class BoundField:
    """One field as the templates see it."""

    template: str
    kind: str
    name: str
    id: str
    path: str
    label: str
    required: bool
    help: str
    help_id: str
    error_id: str
    errors: list[str]
    value: str = ""
    checked: bool = False
    placeholder: str = ""
    input_type: str = "text"
    inputmode: str = ""
    capitals: bool = False
    options: list[BoundOption] = field(default_factory=list)
    children: list[BoundField] = field(default_factory=list)
    rows: list[BoundRow] = field(default_factory=list)
    context: str = ""  # the row a field sits in, for the error summary

    @property
    def describedby(self) -> str:
        ids = [self.help_id if self.help else "", self.error_id if self.errors else ""]
        return " ".join(part for part in ids if part)

    @property
    def spoken_required(self) -> bool:
        """Groups cannot carry aria-required, so their legend says it in words."""
        return self.required and self.kind in ("checkboxes", "rows")

    @property
    def anchor(self) -> str:
        """Where the error summary links to: the first control of a group."""
        return self.options[0].id if self.options else self.id


INPUT_TYPES = {"date": "date", "email": "email", "mobile": "tel"}


def _value_text(value: object) -> str:
    if value is None or isinstance(value, dict | list):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return _number_text(value)
    return str(value)


def _bind(
    spec: _Spec,
    value: Any,
    errors: Mapping[str, list[str]],
    parts: tuple[str | int, ...],
    context: str,
) -> BoundField:
    here = (*parts, spec.name)
    name = _html_name(here)
    path = _join(list(here))
    bound = BoundField(
        template=f"{TEMPLATE_DIR}/{spec.kind}.html",
        kind=spec.kind,
        name=name,
        id=name,
        path=path,
        label=spec.title,
        required=spec.required,
        help=spec.help,
        help_id=f"{name}{SEPARATOR}help",
        error_id=f"{name}{SEPARATOR}error",
        errors=list(errors.get(path, [])),
        placeholder=spec.placeholder,
        context=context,
    )
    if spec.kind == "fieldset":
        values = value if isinstance(value, dict) else {}
        bound.children = [
            _bind(child, values.get(child.name), errors, here, context) for child in spec.children
        ]
    elif spec.kind == "rows":
        rows = [row if isinstance(row, dict) else {} for row in value or []]
        rows += [{} for _index in range(max(spec.rows - len(rows), 0))]
        for index, row in enumerate(rows):
            legend = _("{title}（第{number}项）").format(title=spec.title, number=index + 1)
            bound.rows.append(
                BoundRow(
                    legend=legend,
                    fields=[
                        _bind(child, row.get(child.name), errors, (*here, index), legend)
                        for child in spec.children
                    ],
                )
            )
    elif spec.kind in ("select", "radio", "checkboxes"):
        chosen = {str(item) for item in value} if isinstance(value, list) else {_value_text(value)}
        bound.options = [
            BoundOption(
                value=option,
                label=option,
                id=f"{name}{SEPARATOR}{index}",
                selected=option in chosen,
            )
            for index, option in enumerate(spec.options)
        ]
    elif spec.kind == "checkbox":
        bound.checked = value is True
    else:
        value_format = spec.schema.get("format")
        kind = _type_of(spec.schema)
        bound.value = _value_text(value)
        bound.input_type = INPUT_TYPES.get(str(value_format), "text")
        if kind == "integer" or value_format == "mobile":
            bound.inputmode = "numeric"
        elif kind == "number":
            bound.inputmode = "decimal"
        # A resident ID may end in X, which a numeric keypad cannot type.
        bound.capitals = value_format in ("id-number", "uscc")
    return bound


def _defaults(specs: tuple[_Spec, ...]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for spec in specs:
        if spec.kind == "fieldset":
            data[spec.name] = _defaults(spec.children)
        elif "default" in spec.schema:
            data[spec.name] = spec.schema["default"]
    return data


def _walk(fields: list[BoundField]) -> Iterator[BoundField]:
    for bound in fields:
        yield bound
        yield from _walk(bound.children)
        for row in bound.rows:
            yield from _walk(row.fields)


@dataclass(frozen=True)
class SummaryEntry:
    message: str
    anchor: str


def _summary(fields: list[BoundField], errors: Mapping[str, list[str]]) -> list[SummaryEntry]:
    entries: list[SummaryEntry] = []
    shown: set[str] = set()
    for bound in _walk(fields):
        for message in bound.errors:
            text = (
                _("{context}：{message}").format(context=bound.context, message=message)
                if bound.context
                else message
            )
            entries.append(SummaryEntry(message=text, anchor=bound.anchor))
        shown.add(bound.path)
    for path, messages in errors.items():
        if path not in shown:  # about the form as a whole, or a field not on the page
            entries.extend(SummaryEntry(message=message, anchor="") for message in messages)
    return entries


def form_render(
    schema: dict[str, Any],
    ui: dict[str, Any] | None,
    data: dict[str, Any] | None,
    errors: FormErrors | None,
) -> SafeString:
    """The form's fields as accessible HTML (without the ``<form>`` tag and the buttons).

    ``data`` None means a blank form with the schema's defaults.
    """
    specs = _root_specs(schema, ui)
    values = _defaults(specs) if data is None else data
    found: Mapping[str, list[str]] = errors or {}
    fields = [_bind(spec, values.get(spec.name), found, (), "") for spec in specs]
    has_required = any(bound.required for bound in _walk(fields))
    context = {
        "fields": fields,
        "summary": _summary(fields, found),
        "has_required": has_required,
        "title": schema.get("title") or "",
    }
    return SafeString(render_to_string(f"{TEMPLATE_DIR}/form.html", context))
