"""The Excel workbook: template, export, parser checks, and imports run through the task."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import pytest
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook, load_workbook

from tests import factories
from tongban.apps.catalog import imports, permissions, services, spreadsheet
from tongban.apps.catalog.models import (
    ImportJob,
    ImportState,
    ItemVersion,
    LegalBasis,
    PowerItem,
    ServiceItem,
    VersionState,
)
from tongban.apps.catalog.tests import builders
from tongban.platform.access.models import Scope
from tongban.platform.audit.models import AuditEntry
from tongban.platform.audit.verify import verify_chain
from tongban.platform.files.services import FileRejected
from tongban.platform.orgs.models import Department, ServiceCentre, Window

pytestmark = pytest.mark.django_db

ALL_CATALOGUE = [
    permissions.IMPORT,
    permissions.ITEM_EDIT,
    permissions.ITEM_REVIEW,
    permissions.POWER_MANAGE,
]


@pytest.fixture
def market() -> Department:
    builders.legal_bases()
    return builders.department()


@pytest.fixture
def importer(market):
    unit = factories.unit(market, "SCJG-BGS", "办公室")
    role = factories.role("catalog-importer", ALL_CATALOGUE)
    return factories.staff("importer", unit, role_obj=role, scope=Scope.DIVISION)


def basic(number: int) -> str:
    return f"{990000000 + number:012d}"


def workbook_with(
    count: int,
    department: Department,
    *,
    start: int = 1,
    rows: spreadsheet.WorkbookRows | None = None,
    **changes: Any,
) -> spreadsheet.WorkbookRows:
    rows = rows or spreadsheet.WorkbookRows()
    for number in range(start, start + count):
        spreadsheet.item_rows(
            rows,
            department_code=department.code,
            basic_code=basic(number),
            level="main",
            parent_code="",
            implementation_code="",
            content=builders.content(name=f"测试事项{number}", **changes),
        )
    return rows


def column(columns: Any, header: str) -> int:
    return [c.header for c in columns].index(header)


def run_import(actor: Any, data: bytes, capture: Any, *, publish: bool = False) -> ImportJob:
    upload = SimpleUploadedFile("事项.xlsx", data)
    with capture(execute=True):
        job = imports.import_job_create(actor=actor, upload=upload, publish=publish)
    job.refresh_from_db()
    return job


def messages(parsed: spreadsheet.ParsedWorkbook) -> list[str]:
    return [error.message for error in parsed.errors]


# ---------------------------------------------------------------- the template


def test_template_opens_with_every_sheet_header_and_drop_down():
    book = load_workbook(io.BytesIO(spreadsheet.template_workbook()))
    assert book.sheetnames == [spreadsheet.SHEET_HELP, *spreadsheet.DATA_SHEETS]
    for name, columns in spreadsheet.SHEET_COLUMNS.items():
        sheet = book[name]
        assert [cell.value for cell in sheet[1]] == [c.header for c in columns]
        assert sheet.freeze_panes == "A2"
        assert sheet.max_row == 1  # no data rows: the example lives in 填写说明
        assert sheet[1][0].font.bold
    items = book[spreadsheet.SHEET_ITEMS]
    formulas = {dv.formula1 for dv in items.data_validations.dataValidation}
    assert any("行政许可" in (formula or "") for formula in formulas)
    assert any("即办件" in (formula or "") for formula in formulas)
    assert items.column_dimensions["G"].width == 30
    help_text = " ".join(
        str(cell.value)
        for row in book[spreadsheet.SHEET_HELP].iter_rows()
        for cell in row
        if cell.value
    )
    for columns in spreadsheet.SHEET_COLUMNS.values():
        for c in columns:
            assert c.header in help_text
    assert "行政许可" in help_text
    assert "即办件" in help_text
    assert "食品经营许可证核发（新办）" in help_text


def test_template_parses_as_an_empty_file(market):
    parsed = spreadsheet.parse_workbook(spreadsheet.template_workbook())
    assert parsed.errors == []
    assert parsed.items == []
    assert parsed.powers == []


# ---------------------------------------------------------------- imports


def test_thirty_valid_items_are_created_as_drafts(
    importer, market, django_capture_on_commit_callbacks
):
    data = spreadsheet.write_workbook(workbook_with(30, market))
    job = run_import(importer, data, django_capture_on_commit_callbacks)
    assert job.state == ImportState.DONE, job.errors
    assert job.summary["created"] == 30
    assert job.summary["published"] == 0
    assert job.processed_rows == job.total_rows == 30 + 30 * 3 + 30 * 3 + 30
    assert ServiceItem.objects.count() == 30
    version = ItemVersion.objects.get(name="测试事项7")
    assert version.state == VersionState.DRAFT
    assert version.created_by == importer
    assert [m.name for m in version.materials.all()] == [
        "食品经营许可申请书",
        "营业执照",
        "授权委托书",
    ]
    assert [s.days for s in version.steps.all()] == [1, 7, 2]
    entries = AuditEntry.objects.filter(action="catalog.item.create")
    assert entries.count() == 30
    assert set(entries.values_list("actor_id", flat=True)) == {str(importer.pk)} or set(
        entries.values_list("actor_id", flat=True)
    ) == {importer.pk}
    assert AuditEntry.objects.filter(action="catalog.import.run").count() == 1


def test_thirty_items_published_when_asked(importer, market, django_capture_on_commit_callbacks):
    data = spreadsheet.write_workbook(workbook_with(30, market))
    job = run_import(importer, data, django_capture_on_commit_callbacks, publish=True)
    assert job.state == ImportState.DONE, job.errors
    assert job.summary["published"] == 30
    assert ServiceItem.objects.filter(current__state=VersionState.PUBLISHED).count() == 30
    assert AuditEntry.objects.filter(action="catalog.version.publish").count() == 30


def test_one_bad_cell_among_a_thousand_rows_rejects_everything(
    importer, market, django_capture_on_commit_callbacks
):
    rows = workbook_with(1000, market)
    rows.items[611][column(spreadsheet.ITEM_COLUMNS, "承诺办结时限")] = "十天"
    job = run_import(importer, spreadsheet.write_workbook(rows), django_capture_on_commit_callbacks)
    assert job.state == ImportState.REJECTED
    assert job.summary["error_count"] == 1
    [error] = job.errors
    assert error["sheet"] == "事项"
    assert error["row"] == 613  # header is row 1, the 612th item is on row 613
    assert error["column"] == "承诺办结时限"
    assert "第613行" in error["message"]
    assert "十天" in error["message"]
    assert "整数（工作日）" in error["message"]
    assert ServiceItem.objects.count() == 0
    assert ItemVersion.objects.count() == 0
    assert PowerItem.objects.count() == 0
    assert not AuditEntry.objects.filter(action="catalog.item.create").exists()
    assert AuditEntry.objects.filter(action="catalog.import.reject").count() == 1


def test_every_kind_of_problem_is_reported_with_its_place(market):
    rows = workbook_with(8, market)
    items = spreadsheet.ITEM_COLUMNS
    rows.items[0][column(items, "事项类型")] = "行政审批"  # row 2
    rows.items[1][column(items, "自然人可申请")] = "可以"  # row 3
    rows.items[2][column(items, "承诺办结时限")] = 30  # row 4: longer than legal
    rows.items[3][column(items, "上级事项实施编码")] = "NOSUCHPARENT"  # row 5
    rows.items[3][column(items, "事项层级")] = "子项"
    rows.items[4][column(items, "实施编码")] = "WRONGCODE"  # row 6
    rows.items[5][column(items, "部门编码")] = "NOSUCH"  # row 7
    rows.items[6][column(items, "在线表单JSON")] = "{not json"  # row 8
    rows.items.append(list(rows.items[7]))  # row 10: a duplicate of row 9
    rows.materials.append(list(rows.materials[0]))
    rows.materials[-1][column(spreadsheet.MATERIAL_COLUMNS, "基本编码")] = "000000000999"
    rows.materials[-1][column(spreadsheet.MATERIAL_COLUMNS, "序号")] = 9
    bad_material = 3 * 7 + 2  # the 3rd material of the 8th item (授权委托书)
    rows.materials[bad_material][column(spreadsheet.MATERIAL_COLUMNS, "提交条件")] = ""
    rows.bases[7][column(spreadsheet.BASIS_COLUMNS, "法律法规名称")] = "《没有登记的条例》"
    parsed = spreadsheet.parse_workbook(spreadsheet.write_workbook(rows))
    found = {(e.sheet, e.row, e.column): e.message for e in parsed.errors}

    assert "行政审批" in found[("事项", 2, "事项类型")]
    assert "应为以下之一" in found[("事项", 2, "事项类型")]
    assert "“是”或“否”" in found[("事项", 3, "自然人可申请")]
    assert "承诺时限不能长于法定时限" in found[("事项", 4, "承诺办结时限")]
    assert "NOSUCHPARENT" in found[("事项", 5, "上级事项实施编码")]
    assert "不一致" in found[("事项", 6, "实施编码")]
    assert "NOSUCH" in found[("事项", 7, "部门编码")]
    assert "JSON" in found[("事项", 8, "在线表单JSON")]
    assert "第9行" in found[("事项", 10, "基本编码")]
    assert "“事项”表中没有" in found[("申请材料", len(rows.materials) + 1, "")]
    assert "授权委托书" in found[("申请材料", bad_material + 2, "")]
    assert "没有登记的条例" in found[("设定依据", 9, "法律法规名称")]
    for message in found.values():
        assert message.startswith("“")  # every message names its sheet
    assert len(parsed.errors) == len(found)


def test_unknown_sheet_and_missing_columns(market):
    book = load_workbook(io.BytesIO(spreadsheet.template_workbook()))
    book.create_sheet("我的备注")
    book[spreadsheet.SHEET_STEPS].delete_cols(5)  # 环节名称
    buffer = io.BytesIO()
    book.save(buffer)
    parsed = spreadsheet.parse_workbook(buffer.getvalue())
    found = {(e.sheet, e.column): e.message for e in parsed.errors}
    assert "无法识别的工作表" in found[("我的备注", "")]
    assert "缺少必填列“环节名称”" in found[("办理流程", "环节名称")]


def test_missing_sheet(market):
    book = Workbook()
    book.active.title = "事项"
    buffer = io.BytesIO()
    book.save(buffer)
    parsed = spreadsheet.parse_workbook(buffer.getvalue())
    assert any("缺少工作表“申请材料”" in message for message in messages(parsed))


def test_not_a_workbook_is_a_clear_error():
    for data in (b"%PDF-1.4 not a spreadsheet", b"PK\x03\x04broken zip", "姓名,年龄\n".encode()):
        parsed = spreadsheet.parse_workbook(data)
        assert [e.message for e in parsed.errors] == [
            "文件不是有效的Excel工作簿（.xlsx），请使用导入模板填写后上传"
        ]


def test_too_many_rows_is_refused(market, monkeypatch):
    monkeypatch.setattr(spreadsheet, "MAX_ROWS", 20)
    parsed = spreadsheet.parse_workbook(spreadsheet.write_workbook(workbook_with(21, market)))
    [error] = parsed.errors
    assert error.sheet == "事项"
    assert "超过上限20行" in error.message
    assert (
        spreadsheet.parse_workbook(spreadsheet.write_workbook(workbook_with(20, market))).errors
        == []
    )


def test_parent_in_the_same_file_and_children_created_after_it(
    importer, market, django_capture_on_commit_callbacks
):
    rows = spreadsheet.WorkbookRows()
    parent_code = services.implementation_code_build(
        basic_code=basic(1), department=market, suffix="000"
    )
    # the child row comes first in the sheet
    spreadsheet.item_rows(
        rows,
        department_code=market.code,
        basic_code=basic(1),
        level="handling",
        parent_code=parent_code,
        implementation_code="",
        content=builders.content(name="子事项", handling_suffix="001"),
    )
    workbook_with(1, market, rows=rows)
    job = run_import(importer, spreadsheet.write_workbook(rows), django_capture_on_commit_callbacks)
    assert job.state == ImportState.DONE, job.errors
    child = ServiceItem.objects.get(implementation_code=parent_code[:-3] + "001")
    assert child.parent.implementation_code == parent_code


def test_publish_needs_complete_guides(market):
    rows = workbook_with(1, market, result_name="")
    parsed = spreadsheet.parse_workbook(spreadsheet.write_workbook(rows), publish=True)
    assert any("请填写办理结果名称" in m for m in messages(parsed))
    assert spreadsheet.parse_workbook(spreadsheet.write_workbook(rows)).errors == []


def test_progress_is_reported_while_parsing(market):
    seen: list[tuple[int, int]] = []
    spreadsheet.parse_workbook(
        spreadsheet.write_workbook(workbook_with(60, market)), lambda d, t: seen.append((d, t))
    )
    total = 60 * 8
    assert seen[-1] == (total, total)
    assert [done for done, _ in seen[:-1]] == list(range(100, total, 100))


# ---------------------------------------------------------------- powers


def power_rows(holder: Department, code: str = "SCJG-XK-001") -> spreadsheet.WorkbookRows:
    rows = spreadsheet.WorkbookRows()
    spreadsheet.power_rows(
        rows,
        services.PowerContent(
            code=code,
            name="食品经营许可",
            power_type="licensing",
            holder_code=holder.code,
            accountability="不依法履行职责的，依法追责。",
            bases=(services.BasisInput(title=builders.FOOD_LAW, article="第三十五条"),),
            duties=(("受理责任", "一次性告知补正材料。"), ("审查责任", "审查申请材料。")),
        ),
    )
    return rows


def test_power_items_import_with_duties_and_items_may_cite_them(
    importer, market, django_capture_on_commit_callbacks
):
    rows = workbook_with(2, market, rows=power_rows(market), power_code="SCJG-XK-001")
    job = run_import(importer, spreadsheet.write_workbook(rows), django_capture_on_commit_callbacks)
    assert job.state == ImportState.DONE, job.errors
    assert job.summary["powers"] == 1
    power = PowerItem.objects.get(code="SCJG-XK-001")
    assert [(d.order, d.stage) for d in power.duties.all()] == [(1, "受理责任"), (2, "审查责任")]
    assert [b.article for b in power.bases.all()] == ["第三十五条"]
    assert ItemVersion.objects.filter(power=power).count() == 2


def test_power_problems_are_placed(market):
    rows = power_rows(market)
    rows.powers[0][column(spreadsheet.POWER_COLUMNS, "实施主体部门编码")] = "NOSUCH"
    rows.duties.append(["OTHER-001", 1, "受理", "内容"])
    rows.power_bases[0][1] = "《没有登记的条例》"
    parsed = spreadsheet.parse_workbook(spreadsheet.write_workbook(rows))
    found = {(e.sheet, e.row, e.column): e.message for e in parsed.errors}
    assert "NOSUCH" in found[("权力事项", 2, "实施主体部门编码")]
    assert "“权力事项”表中没有" in found[("责任清单", 4, "")]
    assert "没有登记的条例" in found[("权力依据", 2, "法律法规名称")]


# ---------------------------------------------------------------- round trip and exports


def rich_catalogue(market: Department) -> None:
    centre = ServiceCentre.objects.create(division=market.division, name="示范市政务服务中心")
    Window.objects.create(centre=centre, number="A01", name="综合窗口", kind="comprehensive")
    services.theme_save(actor=None, code="food", name="餐饮", audience="enterprise")
    services.power_save(actor=None, content=_power(market))
    main = builders.published_item(
        market,
        basic_code=basic(1),
        power_code="SCJG-XK-001",
        is_free=False,
        fee_amount=Decimal("12.50"),
        fee_basis="收费文件",
        special_procedures=("hearing", "expert_review"),
        delivery_methods=("post", "online"),
        window_codes=("示范市政务服务中心/A01",),
        theme_codes=("food",),
        for_legal_persons=True,
        consult_phone="0999-12345",
        complaint_phone="12345",
        scope="=本市范围内\n第二行",
        form_schema={
            "type": "object",
            "properties": {"shop": {"type": "string", "title": "店名", "maxLength": 20}},
            "required": ["shop"],
        },
        bases=(
            services.BasisInput(title=builders.FOOD_LAW, article="第三十五条"),
            services.BasisInput(title=builders.LICENCE_LAW, article="第十二条", is_setting=False),
        ),
    )
    sub = services.item_create(
        actor=None,
        department=market,
        basic_code=basic(1),
        level="handling",
        parent=main.item,
        content=builders.content(
            name="变更", handling_suffix="002", case_type="instant", promised_limit_days=0
        ),
    )
    services.version_publish_now(actor=None, version=sub)


def _power(market: Department) -> services.PowerContent:
    return services.PowerContent(
        code="SCJG-XK-001",
        name="食品经营许可",
        power_type="licensing",
        holder_code=market.code,
        bases=(services.BasisInput(title=builders.FOOD_LAW, article="第三十五条"),),
        duties=(("受理责任", "一次性告知补正材料。"),),
    )


def cells(data: bytes) -> dict[str, list[tuple[Any, ...]]]:
    book = load_workbook(io.BytesIO(data))
    return {
        name: [tuple(row) for row in book[name].iter_rows(values_only=True)]
        for name in spreadsheet.DATA_SHEETS
    }


def test_round_trip_is_lossless(importer, market, django_capture_on_commit_callbacks):
    rich_catalogue(market)
    first = spreadsheet.export_workbook()
    job = run_import(importer, first, django_capture_on_commit_callbacks, publish=True)
    assert job.state == ImportState.DONE, job.errors
    assert job.summary == {**job.summary, "created": 0, "updated": 2, "published": 2, "powers": 1}
    assert ItemVersion.objects.filter(number=2, state=VersionState.PUBLISHED).count() == 2
    second = spreadsheet.export_workbook()
    assert cells(second) == cells(first)
    exported = cells(first)
    assert len(exported["事项"]) == 3
    assert len(exported["责任清单"]) == 2
    item = exported["事项"][1]
    headers = [c.header for c in spreadsheet.ITEM_COLUMNS]
    assert item[headers.index("是否收费")] == "是"
    assert item[headers.index("收费金额")] == 12.5
    assert item[headers.index("特别程序")] == "听证、专家评审"
    assert item[headers.index("送达方式")] == "邮寄送达、网上送达"
    assert item[headers.index("适用范围")] == "=本市范围内\n第二行"
    assert item[headers.index("受理窗口编码")] == "示范市政务服务中心/A01"


def test_csv_has_bom_chinese_headers_and_flattened_materials(market):
    builders.published_item(market, basic_code=basic(1))
    data = spreadsheet.export_csv()
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    header, row = text.splitlines()[:2]
    assert header.startswith("部门编码,基本编码,业务办理项编码,事项层级")
    assert header.endswith("申请材料")
    assert "食品经营许可申请书（必要）；营业执照（必要）；授权委托书（非必要）" in row
    assert "行政许可" in row
    assert "承诺件" in row


# ---------------------------------------------------------------- permissions and failures


def test_permission_checked_before_anything_is_kept(market):
    unit = factories.unit(market, "SCJG-X", "科室")
    clerk = factories.staff(
        "clerk", unit, role_obj=factories.role("viewer", [permissions.ITEM_EDIT])
    )
    data = spreadsheet.write_workbook(workbook_with(1, market))
    with pytest.raises(PermissionDenied):
        imports.import_job_create(
            actor=clerk, upload=SimpleUploadedFile("a.xlsx", data), publish=False
        )
    editor = factories.staff(
        "editor",
        unit,
        role_obj=factories.role("importer-only", [permissions.IMPORT, permissions.ITEM_EDIT]),
    )
    with pytest.raises(PermissionDenied):
        imports.import_job_create(
            actor=editor, upload=SimpleUploadedFile("a.xlsx", data), publish=True
        )
    assert ImportJob.objects.count() == 0
    assert AuditEntry.objects.filter(action="catalog.import", outcome="denied").count() == 1


def test_items_of_a_department_out_of_the_importers_scope_are_rejected(
    market, django_capture_on_commit_callbacks
):
    other = builders.department("GAJ", "示范市公安局")
    unit = factories.unit(market, "SCJG-Y", "科室")
    role = factories.role("own-department", ALL_CATALOGUE)
    user = factories.staff("own", unit, role_obj=role, scope=Scope.DEPARTMENT)
    rows = workbook_with(1, market)
    workbook_with(1, other, start=2, rows=rows)
    job = run_import(user, spreadsheet.write_workbook(rows), django_capture_on_commit_callbacks)
    assert job.state == ImportState.REJECTED
    assert [(e["row"], e["column"]) for e in job.errors] == [(3, "部门编码")]
    assert ServiceItem.objects.count() == 0


def test_non_xlsx_upload_is_refused_without_a_job(importer):
    with pytest.raises(FileRejected):
        imports.import_job_create(
            actor=importer, upload=SimpleUploadedFile("a.xlsx", b"%PDF-1.4\n%%EOF\n"), publish=False
        )
    assert ImportJob.objects.count() == 0


def test_unexpected_error_rolls_back_and_fails_the_job(
    importer, market, monkeypatch, django_capture_on_commit_callbacks
):
    calls = {"n": 0}
    real = services.version_publish_now

    def flaky(**kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 5:
            raise RuntimeError("disk full")
        return real(**kwargs)

    monkeypatch.setattr(services, "version_publish_now", flaky)
    data = spreadsheet.write_workbook(workbook_with(10, market))
    job = run_import(importer, data, django_capture_on_commit_callbacks, publish=True)
    assert job.state == ImportState.FAILED
    assert "disk full" in job.errors[0]["message"]
    assert ServiceItem.objects.count() == 0
    assert not AuditEntry.objects.filter(action="catalog.item.create").exists()
    assert cache.get(imports.progress_key(job.pk)) is None


def test_progress_reads_the_row_then_the_cache(importer, market):
    stored_job = ImportJob.objects.create(
        file=_stored(importer),
        created_by=importer,
        total_rows=400,
        processed_rows=100,
        state=ImportState.VALIDATING,
    )
    assert imports.import_job_progress(stored_job)[1:] == (100, 400, 25)
    ImportJob.objects.filter(pk=stored_job.pk).update(state=ImportState.IMPORTING)
    cache.set(imports.progress_key(stored_job.pk), {"done": 30, "total": 40})
    phase, done, total, percent = imports.import_job_progress(stored_job)
    assert (phase, done, total, percent) == ("导入中", 30, 40, 75)
    ImportJob.objects.filter(pk=stored_job.pk).update(state=ImportState.DONE)
    assert imports.import_job_progress(stored_job)[3] == 100


def _stored(user: Any) -> Any:
    from tongban.platform.files.services import file_store

    data = spreadsheet.template_workbook()
    return file_store(actor=user, upload=SimpleUploadedFile("t.xlsx", data))


def test_an_existing_open_draft_is_overwritten_and_files_kept(
    importer, market, django_capture_on_commit_callbacks
):
    version = builders.published_item(market, basic_code=basic(1))
    draft = services.version_draft_open(actor=None, item=version.item)
    stored = _stored(importer)
    draft.materials.filter(name="营业执照").update(template_file=stored)
    rows = workbook_with(1, market, keywords="新关键词")
    job = run_import(importer, spreadsheet.write_workbook(rows), django_capture_on_commit_callbacks)
    assert job.state == ImportState.DONE, job.errors
    draft.refresh_from_db()
    assert draft.keywords == "新关键词"
    assert draft.materials.get(name="营业执照").template_file_id == stored.pk
    assert LegalBasis.objects.count() == 2


def test_bulk_created_items_are_identical_to_item_create(
    importer, market, django_capture_on_commit_callbacks
):
    centre = ServiceCentre.objects.create(division=market.division, name="示范市政务服务中心")
    Window.objects.create(centre=centre, number="A01", name="综合窗口", kind="comprehensive")
    services.theme_save(actor=None, code="food", name="餐饮", audience="enterprise")
    services.power_save(actor=None, content=_power(market))
    content = builders.content(
        name=" 对照事项 ",
        remedy="",
        power_code="SCJG-XK-001",
        window_codes=("A01",),
        theme_codes=("food",),
        special_procedures=("hearing",),
        bases=(
            services.BasisInput(title=builders.FOOD_LAW, article="第三十五条"),
            services.BasisInput(title=builders.LICENCE_LAW, is_setting=False),
        ),
    )
    by_service = services.item_create(
        actor=importer, department=market, basic_code=basic(1), level="main", content=content
    )
    rows = spreadsheet.WorkbookRows()
    spreadsheet.item_rows(
        rows,
        department_code=market.code,
        basic_code=basic(2),
        level="main",
        parent_code="",
        implementation_code="",
        content=content,
    )
    job = run_import(importer, spreadsheet.write_workbook(rows), django_capture_on_commit_callbacks)
    assert job.state == ImportState.DONE, job.errors
    imported = ItemVersion.objects.exclude(pk=by_service.pk).get()
    by_service = ItemVersion.objects.get(pk=by_service.pk)
    assert services.version_snapshot(imported) == services.version_snapshot(by_service)
    for name in ("number", "state", "created_by_id", "power_id"):
        assert getattr(imported, name) == getattr(by_service, name)
    assert imported.item.level == by_service.item.level
    assert imported.item.department_id == by_service.item.department_id
    first, second = AuditEntry.objects.filter(action="catalog.item.create").order_by("seq")
    assert (second.object_type, second.actor_id) == (first.object_type, first.actor_id)
    assert second.object_label == imported.item.implementation_code
    assert second.detail == first.detail
    report = verify_chain()
    assert report.ok, report
