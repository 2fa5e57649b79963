"""Online application forms: definition check, validation messages, post parsing, rendering."""

from __future__ import annotations

import copy
import datetime as dt
import re
from html.parser import HTMLParser
from typing import Any

import pytest
from django.http import QueryDict
from django.utils import translation

from tongban.apps.catalog.onlineforms import (
    FormErrors,
    form_data_from_post,
    form_definition_check,
    form_render,
    form_validate,
)
from tongban.platform.accounts.idnumbers import make_resident_id, make_uscc, resident_check_char

SCOPES = ["餐饮服务", "预包装食品销售", "热食类食品制售"]


def sole_trader_schema() -> dict[str, Any]:
    """个体工商户设立登记, as an administrator would write it."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "个体工商户设立登记申请书",
        "type": "object",
        "properties": {
            "operator_name": {"type": "string", "title": "经营者姓名", "maxLength": 20},
            "id_number": {"type": "string", "title": "公民身份号码", "format": "id-number"},
            "mobile": {"type": "string", "title": "联系电话", "format": "mobile"},
            "premises": {
                "type": "object",
                "title": "经营场所",
                "properties": {
                    "district": {
                        "type": "string",
                        "title": "所在区",
                        "enum": ["东湖区", "西山区", "南江区"],
                    },
                    "detail": {"type": "string", "title": "详细地址", "minLength": 5},
                },
                "required": ["district", "detail"],
            },
            "scope": {
                "type": "array",
                "title": "经营范围",
                "items": {"type": "string", "enum": SCOPES},
                "minItems": 1,
                "uniqueItems": True,
            },
            "form": {
                "type": "string",
                "title": "组成形式",
                "enum": ["个人经营", "家庭经营"],
                "default": "个人经营",
            },
            "employees": {"type": "integer", "title": "从业人数", "minimum": 1},
            "capital": {"type": "number", "title": "资金数额（万元）", "minimum": 0},
            "start": {"type": "string", "title": "开业日期", "format": "date"},
            "note": {"type": "string", "title": "备注", "description": "其他需要说明的情况"},
            "family": {
                "type": "array",
                "title": "参与经营的家庭成员",
                "items": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string", "title": "姓名"},
                        "id_number": {
                            "type": "string",
                            "title": "公民身份号码",
                            "format": "id-number",
                        },
                    },
                    "required": ["name", "id_number"],
                },
                "maxItems": 5,
            },
            "online": {"type": "boolean", "title": "是否网络经营"},
        },
        "required": ["operator_name", "id_number", "mobile", "premises", "scope", "form"],
    }


def sole_trader_ui() -> dict[str, Any]:
    return {
        "order": ["operator_name", "id_number", "mobile", "premises", "form", "scope"],
        "widgets": {"note": "textarea"},
        "form": {"widget": "radio"},
        "mobile": {"placeholder": "11位手机号码", "help": "用于接收办理进度短信"},
        "family": {"rows": 2, "order": ["name", "id_number"]},
        "family.name": {"placeholder": "与身份证一致"},
    }


OPERATOR_ID = make_resident_id("440103", dt.date(1985, 6, 1), 123)
SPOUSE_ID = make_resident_id("440103", dt.date(1987, 2, 28), 456)


def valid_data() -> dict[str, Any]:
    return {
        "operator_name": "王小明",
        "id_number": OPERATOR_ID,
        "mobile": "13800138000",
        "premises": {"district": "西山区", "detail": "人民路100号一层"},
        "form": "家庭经营",
        "scope": ["餐饮服务", "热食类食品制售"],
        "employees": 3,
        "capital": 12.5,
        "start": "2026-12-01",
        "note": "第一行\n第二行",
        "family": [{"name": "李小红", "id_number": SPOUSE_ID}],
        "online": True,
    }


def with_bad_check_char(number: str) -> str:
    good = resident_check_char(number[:17])
    bad = next(char for char in "0123456789X" if char != good)
    return number[:17] + bad


class FieldCollector(HTMLParser):
    """Names, ids, labels and attributes of the form controls in rendered HTML."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[dict[str, str | None]] = []
        self.label_for: list[str] = []
        self.ids: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if attributes.get("id"):
            self.ids.append(str(attributes["id"]))
        if tag in ("input", "select", "textarea"):
            self.controls.append({"tag": tag, **attributes})
        elif tag == "label" and attributes.get("for"):
            self.label_for.append(str(attributes["for"]))
        elif tag == "a" and attributes.get("href"):
            self.links.append(str(attributes["href"]))


def parse(html: str) -> FieldCollector:
    collector = FieldCollector()
    collector.feed(html)
    return collector


def post_from_html(html: str) -> QueryDict:
    """What a browser would post: every text control, the checked boxes and options."""
    post = QueryDict(mutable=True)
    for control in parse(html).controls:
        name = str(control["name"])
        if control["tag"] == "select":
            continue
        if control.get("type") in ("checkbox", "radio"):
            if "checked" in control:
                post.appendlist(name, str(control["value"]))
        else:
            post.appendlist(name, str(control.get("value") or ""))
    for name, value in re.findall(
        r'<select id="[^"]+" name="([^"]+)"[^>]*>.*?'
        r'<option value="([^"]*)" selected>',
        html,
        re.S,
    ):
        post.appendlist(name, value)
    for name, value in re.findall(
        r'<textarea id="[^"]+" name="([^"]+)"[^>]*>\n(.*?)</textarea>', html, re.S
    ):
        post.appendlist(name, value.replace("&#x27;", "'"))
    return post


# --------------------------------------------------------------------------- definition


def test_definition_check_accepts_the_sole_trader_form():
    assert form_definition_check(sole_trader_schema(), sole_trader_ui()) == []
    assert form_definition_check(sole_trader_schema(), None) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda s: s["properties"]["mobile"].update(oneOf=[{"minLength": 1}]),
            "“mobile”使用了不支持的关键字 oneOf",
        ),
        (
            lambda s: s["properties"]["premises"]["properties"]["detail"].update(
                {"$ref": "https://example.com/address.json"}
            ),
            "“premises.detail”使用了不支持的关键字 $ref",
        ),
        (
            lambda s: s["properties"].update(nothing={"type": "null", "title": "空"}),
            "“nothing”使用了不支持的类型 null",
        ),
        (
            lambda s: s["properties"]["family"]["items"]["properties"].update(
                home={
                    "type": "object",
                    "title": "住址",
                    "properties": {"city": {"type": "string", "title": "城市"}},
                }
            ),
            "“family.home.city”嵌套过深：表单最多 3 层",
        ),
        (
            lambda s: s["properties"]["start"].update(format="date-time"),
            "“start”使用了不支持的格式 date-time",
        ),
        (
            lambda s: s["properties"]["note"].pop("title"),
            "“note”缺少 title（字段标题）",
        ),
        (
            lambda s: s["required"].append("ghost"),
            "“/”的 required 中列出的“ghost”不在 properties 中",
        ),
        (
            lambda s: s["properties"]["employees"].update(type=["integer", "null"]),
            "“employees”使用了不支持的类型 integer, null",
        ),
    ],
)
def test_definition_check_names_the_path_and_the_unsupported_part(change, expected):
    schema = sole_trader_schema()
    change(schema)
    assert expected in form_definition_check(schema, None)


def test_definition_check_rejects_a_nested_fieldset_and_too_many_fields():
    schema = sole_trader_schema()
    schema["properties"]["premises"]["properties"]["owner"] = {
        "type": "object",
        "title": "产权人",
        "properties": {"name": {"type": "string", "title": "姓名"}},
    }
    assert form_definition_check(schema, None) == [
        "“premises.owner”：分组或重复行内不能再嵌套分组或重复行"
    ]
    many = {
        "type": "object",
        "properties": {
            f"field{number}": {"type": "string", "title": "项"} for number in range(201)
        },
    }
    assert form_definition_check(many, None) == ["表单字段过多：共 201 个，最多 200 个"]


def test_definition_check_reports_an_invalid_schema_without_english():
    problems = form_definition_check(
        {"type": "object", "properties": {"a": {"minLength": -1}}}, None
    )
    assert problems == [
        "表单定义不是有效的 JSON Schema 2020-12：“properties/a/minLength”处的 minimum 不合规"
    ]
    assert form_definition_check({"type": "string"}, None) == [
        "表单定义的顶层必须是 type 为 object 且带有 properties 的对象"
    ]


def test_definition_check_reports_unknown_and_misfit_ui_hints():
    ui = {
        "order": ["operator_name", "nobody"],
        "widgets": {"employees": "textarea"},
        "mobile": {"widget": "slider", "colour": "red"},
        "family": {"rows": 0},
        "scope": {"rows": 2},
        "family.age": {"help": "周岁"},
        "theme": "dark",
    }
    assert form_definition_check(sole_trader_schema(), ui) == [
        "界面提示 order 中的“nobody”不是表单字段",
        "界面提示“employees”：控件 textarea 不适用于该字段",
        "界面提示“mobile”使用了未知的控件 slider",
        "界面提示“mobile”中有未知的键“colour”",
        "界面提示“family”：rows 应为 1 到 50 之间的整数",
        "界面提示“scope”：rows 只适用于重复行",
        "界面提示“family.age”不对应任何表单字段",
        "界面提示“theme”不对应任何表单字段",
    ]


# --------------------------------------------------------------------------- validation


def test_valid_data_has_no_errors():
    errors = form_validate(sole_trader_schema(), valid_data())
    assert isinstance(errors, FormErrors)
    assert not errors
    assert dict(errors) == {}


def test_errors_are_chinese_and_name_fields_by_title():
    data = valid_data()
    del data["operator_name"]
    del data["scope"]
    data["premises"] = {"detail": "人民路"}
    data["mobile"] = "1380013800"
    data["employees"] = 0
    data["capital"] = "十万"
    data["start"] = "2026-02-30"
    data["form"] = "合伙经营"
    data["family"] = [{"name": "李小红"}, {"name": "王大明", "id_number": "123"}]
    with translation.override("zh-hans"):
        errors = form_validate(sole_trader_schema(), data)
    assert dict(errors) == {
        "operator_name": ["请填写“经营者姓名”"],
        "scope": ["请选择“经营范围”"],
        "premises.district": ["请选择“所在区”"],
        "premises.detail": ["“详细地址”至少应有5个字"],
        "mobile": ["“联系电话”应为11位手机号码"],
        "employees": ["“从业人数”不能小于1"],
        "capital": ["“资金数额（万元）”应为数字"],
        "start": ["“开业日期”应为有效的日期（年-月-日）"],
        "form": ["请从“组成形式”的选项中选择"],
        "family.0.id_number": ["请填写“公民身份号码”"],
        "family.1.id_number": [
            "“公民身份号码”：公民身份号码应为18位，前17位为数字，最后一位为数字或X"
        ],
    }


def test_limits_on_lists_and_text():
    schema = sole_trader_schema()
    schema["properties"]["operator_name"]["pattern"] = "^[\u4e00-\u9fa5·]+$"
    data = valid_data()
    data["operator_name"] = "Wang" * 6
    data["scope"] = ["餐饮服务", "餐饮服务", "烧烤"]
    data["family"] = [{"name": "甲", "id_number": SPOUSE_ID}] * 6
    errors = form_validate(schema, data)
    assert errors["operator_name"] == ["“经营者姓名”最多20个字", "“经营者姓名”格式不正确"]
    assert errors["scope"] == ["请从“经营范围”的选项中选择", "“经营范围”中有重复的选项"]
    assert errors["family"] == ["“参与经营的家庭成员”最多可填写5项"]
    del data["scope"]
    schema["required"].remove("scope")
    data["scope"] = []
    assert form_validate(schema, data)["scope"] == ["“经营范围”至少应填写1项"]


def test_id_number_check_character():
    schema = sole_trader_schema()
    data = valid_data()
    assert "id_number" not in form_validate(schema, data)
    data["id_number"] = with_bad_check_char(OPERATOR_ID)
    assert form_validate(schema, data)["id_number"] == ["“公民身份号码”：公民身份号码校验码错误"]


def test_uscc_and_email_formats():
    schema = {
        "type": "object",
        "properties": {
            "uscc": {"type": "string", "title": "统一社会信用代码", "format": "uscc"},
            "email": {"type": "string", "title": "联系邮箱", "format": "email"},
        },
    }
    good = make_uscc("9", "1", "440100", "MA5C12345")
    assert not form_validate(schema, {"uscc": good, "email": "wang@example.cn"})
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    assert dict(form_validate(schema, {"uscc": bad, "email": "wang@"})) == {
        "uscc": ["“统一社会信用代码”：统一社会信用代码校验码错误"],
        "email": ["“联系邮箱”应为有效的电子邮箱地址"],
    }


def test_errors_in_english_use_no_jsonschema_text():
    data = valid_data()
    del data["operator_name"]
    data["employees"] = "many"
    data["family"] = [{"name": "李小红", "id_number": with_bad_check_char(SPOUSE_ID)}]
    with translation.override("en"):
        errors = form_validate(sole_trader_schema(), data)
    assert set(errors) == {"operator_name", "employees", "family.0.id_number"}
    text = " ".join(message for messages in errors.values() for message in messages)
    for english in ("is a required property", "is not of type", "is not a", "'many'"):
        assert english not in text


def test_data_that_is_not_an_object_is_reported_for_the_form():
    assert dict(form_validate(sole_trader_schema(), [])) == {  # type: ignore[arg-type]
        "": ["“个体工商户设立登记申请书”的内容格式不正确"]
    }


# --------------------------------------------------------------------------- posted data


def test_post_parsing_types_values_and_drops_blanks():
    post = QueryDict(mutable=True)
    post.update(
        {
            "f__operator_name": "  王小明 ",
            "f__id_number": OPERATOR_ID[:17].lower() + " " + OPERATOR_ID[17].lower(),
            "f__mobile": "",
            "f__premises__district": "",
            "f__premises__detail": "",
            "f__employees": "３",
            "f__capital": "1e",
            "f__family__0__name": "",
            "f__family__0__id_number": "",
            "f__family__1__name": "李小红",
            "f__family__1__id_number": "",
            "f__note": "第一行\r\n第二行",
        }
    )
    post.setlist("f__scope", ["餐饮服务", ""])
    data = form_data_from_post(sole_trader_schema(), sole_trader_ui(), post)
    assert data == {
        "operator_name": "王小明",
        "id_number": OPERATOR_ID.upper(),
        "premises": {},
        "scope": ["餐饮服务"],
        "employees": 3,
        "capital": "1e",
        "note": "第一行\n第二行",
        "family": [{"name": "李小红"}],
        "online": False,
    }
    errors = form_validate(sole_trader_schema(), data)
    assert errors["capital"] == ["“资金数额（万元）”应为数字"]
    assert errors["premises.detail"] == ["请填写“详细地址”"]
    assert errors["family.0.id_number"] == ["请填写“公民身份号码”"]


def test_a_required_checkbox_must_be_ticked():
    schema = {
        "type": "object",
        "properties": {"consent": {"type": "boolean", "title": "同意授权核对家庭经济状况"}},
        "required": ["consent"],
    }
    unticked = form_data_from_post(schema, None, QueryDict(""))
    assert unticked == {}
    assert dict(form_validate(schema, unticked)) == {
        "consent": ["请勾选“同意授权核对家庭经济状况”"]
    }
    ticked = form_data_from_post(schema, None, QueryDict("f__consent=true"))
    assert ticked == {"consent": True}
    assert not form_validate(schema, ticked)
    html = form_render(schema, None, unticked, form_validate(schema, unticked))
    assert (
        '<input type="checkbox" id="f__consent" name="f__consent" value="true" '
        'aria-required="true" aria-invalid="true" aria-describedby="f__consent__error">'
    ) in html


def test_render_then_post_round_trip():
    schema, ui = sole_trader_schema(), sole_trader_ui()
    data = valid_data()
    html = form_render(schema, ui, data, None)
    assert form_data_from_post(schema, ui, post_from_html(html)) == data


def test_blank_form_round_trip_gives_only_defaults_and_unchecked_boxes():
    schema, ui = sole_trader_schema(), sole_trader_ui()
    html = form_render(schema, ui, None, None)
    data = form_data_from_post(schema, ui, post_from_html(html))
    assert data == {"form": "个人经营", "premises": {}, "online": False}


# --------------------------------------------------------------------------- rendering


def test_every_control_has_a_label_and_names_follow_the_paths():
    html = form_render(sole_trader_schema(), sole_trader_ui(), None, None)
    page = parse(html)
    names = {str(control["name"]) for control in page.controls}
    assert {
        "f__operator_name",
        "f__premises__district",
        "f__scope",
        "f__family__0__name",
        "f__family__1__id_number",
        "f__online",
    } <= names
    assert "f__family__2__name" not in names  # ui rows: 2
    for control in page.controls:
        assert control["id"] in page.label_for, control
    assert len(page.ids) == len(set(page.ids))
    names_in_order = [str(control["name"]) for control in page.controls]
    assert names_in_order.index("f__form") < names_in_order.index("f__scope")  # ui order


def test_accessibility_attributes():
    html = form_render(sole_trader_schema(), sole_trader_ui(), None, None)
    assert html.count("* 为必填项") == 1
    assert '<input type="tel" id="f__mobile" name="f__mobile" value="" inputmode="numeric"' in html
    assert (
        'placeholder="11位手机号码" aria-required="true" aria-describedby="f__mobile__help">'
        in html
    )
    assert '<p class="form-help" id="f__mobile__help">用于接收办理进度短信</p>' in html
    assert '<input type="date" id="f__start" name="f__start"' in html
    assert 'id="f__employees" name="f__employees" value="" inputmode="numeric">' in html
    assert 'id="f__capital" name="f__capital" value="" inputmode="decimal">' in html
    assert 'id="f__id_number" name="f__id_number" value="" autocapitalize="characters"' in html
    assert (
        '<fieldset class="form-field form-radios" id="f__form" role="radiogroup" '
        'aria-required="true">'
    ) in html
    assert '<input type="radio" id="f__form__0" name="f__form" value="个人经营" checked>' in html
    assert '<fieldset class="form-field form-checkboxes" id="f__scope">' in html
    assert "<legend>经营范围" in html
    assert "<legend>参与经营的家庭成员（第2项）</legend>" in html
    assert (
        '<textarea id="f__note" name="f__note" rows="5" aria-describedby="f__note__help">' in html
    )
    assert 'role="alert"' not in html


def test_errors_next_to_fields_and_in_a_linked_summary():
    schema, ui = sole_trader_schema(), sole_trader_ui()
    data = valid_data()
    del data["operator_name"]
    del data["scope"]
    data["mobile"] = "123"
    data["family"][0]["id_number"] = with_bad_check_char(SPOUSE_ID)
    errors = form_validate(schema, data)
    html = form_render(schema, ui, data, errors)
    assert (
        '<input type="text" id="f__operator_name" name="f__operator_name" value="" '
        'aria-required="true" aria-invalid="true" aria-describedby="f__operator_name__error">'
    ) in html
    assert '<p class="form-error" id="f__operator_name__error">请填写“经营者姓名”</p>' in html
    assert 'aria-describedby="f__mobile__help f__mobile__error"' in html
    assert '<div class="form-error-summary" role="alert"' in html
    summary = html.split("</ul>")[0]
    assert '<a href="#f__operator_name">请填写“经营者姓名”</a>' in summary
    assert '<a href="#f__scope__0">请选择“经营范围”</a>' in summary  # first checkbox
    assert (
        '<a href="#f__family__0__id_number">参与经营的家庭成员（第1项）：'
        "“公民身份号码”：公民身份号码校验码错误</a>"
    ) in summary
    page = parse(html)
    for link in page.links:
        assert link[1:] in page.ids


def test_values_are_escaped():
    schema, ui = sole_trader_schema(), sole_trader_ui()
    data = valid_data()
    data["operator_name"] = '"><script>alert(1)</script>'
    data["note"] = "</textarea><script>alert(2)</script>"
    hostile = copy.deepcopy(schema)
    hostile["properties"]["premises"]["properties"]["district"]["enum"].append("<b>区</b>")
    hostile["properties"]["note"]["title"] = "<img src=x onerror=alert(3)>"
    errors = FormErrors({"": ["<script>alert(4)</script>"]})
    html = form_render(hostile, ui, data, errors)
    assert "<script>" not in html
    assert "<img" not in html
    assert "<b>" not in html
    assert "&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;/textarea&gt;&lt;script&gt;alert(2)&lt;/script&gt;" in html
    assert "<li>&lt;script&gt;alert(4)&lt;/script&gt;</li>" in html
