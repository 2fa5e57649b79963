"""The import and export pages through real HTTP: upload, progress, errors, downloads."""

from __future__ import annotations

import io
from typing import Any
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import include, path
from openpyxl import load_workbook

import tongban.urls
from tests import factories
from tongban.apps.catalog import permissions, spreadsheet
from tongban.apps.catalog.models import ImportJob, ImportState, ServiceItem, VersionState
from tongban.apps.catalog.tests import builders
from tongban.platform.access.models import Scope
from tongban.platform.files.services import file_store

pytestmark = pytest.mark.django_db(transaction=True)  # the job is queued on commit

PREFIX = "/catalog/manage/import/"


def _already_included() -> bool:
    return any(getattr(p, "namespace", None) == "catalog_import" for p in tongban.urls.urlpatterns)


# The project mounts these pages at catalog/manage/import/; until it does, the tests do.
urlpatterns = list(tongban.urls.urlpatterns)
if not _already_included():
    urlpatterns.insert(0, path(PREFIX[1:], include("tongban.apps.catalog.urls_import")))


@pytest.fixture(autouse=True)
def _urls(settings):
    settings.ROOT_URLCONF = __name__ if not _already_included() else "tongban.urls"


@pytest.fixture
def market():
    builders.legal_bases()
    return builders.department()


def user_with(market: Any, name: str, codes: list[str]) -> Any:
    unit = factories.unit(market, f"U-{name}", name)
    return factories.staff(name, unit, role_obj=factories.role(name, codes), scope=Scope.DIVISION)


@pytest.fixture
def importer(market):
    return user_with(
        market,
        "importer",
        [permissions.IMPORT, permissions.ITEM_EDIT, permissions.ITEM_REVIEW],
    )


@pytest.fixture
def staff_client(client, importer):
    client.force_login(importer)
    return client


def workbook(market: Any, count: int = 3, **changes: Any) -> bytes:
    rows = spreadsheet.WorkbookRows()
    for number in range(1, count + 1):
        spreadsheet.item_rows(
            rows,
            department_code=market.code,
            basic_code=f"{880000000 + number:012d}",
            level="main",
            parent_code="",
            implementation_code="",
            content=builders.content(name=f"页面事项{number}", **changes),
        )
    return spreadsheet.write_workbook(rows)


def assert_no_inline_code(page: str) -> None:
    assert " style=" not in page
    assert "<script>" not in page


def test_upload_page_offers_the_template_and_publish_choice(staff_client):
    response = staff_client.get(PREFIX)
    assert response.status_code == 200
    page = response.content.decode()
    assert "导入后直接发布" in page
    assert f'href="{PREFIX}template.xlsx"' in page
    assert f'href="{PREFIX}export.csv"' in page
    assert 'enctype="multipart/form-data"' in page
    assert_no_inline_code(page)


def test_upload_imports_and_the_job_page_shows_the_summary(staff_client, market):
    upload = SimpleUploadedFile("事项清单.xlsx", workbook(market, 3))
    response = staff_client.post(PREFIX, {"file": upload, "publish": "on"})
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{PREFIX}jobs/{job.pk}/"
    assert job.state == ImportState.DONE, job.errors
    assert ServiceItem.objects.filter(current__state=VersionState.PUBLISHED).count() == 3
    page = staff_client.get(response["Location"]).content.decode()
    assert "导入完成" in page
    assert "事项清单.xlsx" in page
    assert "hx-get" not in page  # finished: no more polling
    assert_no_inline_code(page)


def test_rejected_file_shows_the_error_table(staff_client, market):
    data = workbook(market, 3, legal_limit_days="二十天")
    staff_client.post(PREFIX, {"file": SimpleUploadedFile("bad.xlsx", data)})
    job = ImportJob.objects.get()
    assert job.state == ImportState.REJECTED
    page = staff_client.get(f"{PREFIX}jobs/{job.pk}/").content.decode()
    for text in ("工作表", "行", "列", "问题", "法定办结时限", "二十天", "没有导入任何内容"):
        assert text in page, text
    assert page.count("<tr><td>事项</td>") == 3
    assert ServiceItem.objects.count() == 0


def test_non_xlsx_upload_is_refused_on_the_page(staff_client):
    upload = SimpleUploadedFile("fake.xlsx", b"%PDF-1.4\nnot a workbook\n%%EOF\n")
    response = staff_client.post(PREFIX, {"file": upload})
    assert response.status_code == 400
    assert "Excel (XLSX)" in response.content.decode()
    assert ImportJob.objects.count() == 0


def test_missing_file_is_an_error(staff_client):
    response = staff_client.post(PREFIX, {})
    assert response.status_code == 400
    assert "请选择要导入的Excel文件" in response.content.decode()


def test_user_without_the_import_permission_gets_403_and_no_job(client, market):
    editor = user_with(market, "editor", [permissions.ITEM_EDIT, permissions.ITEM_REVIEW])
    client.force_login(editor)
    upload = SimpleUploadedFile("a.xlsx", workbook(market, 1))
    assert client.post(PREFIX, {"file": upload}).status_code == 403
    for url in ("", "template.xlsx", "export.xlsx", "export.csv"):
        assert client.get(PREFIX + url).status_code == 403
    assert ImportJob.objects.count() == 0


def test_publish_without_review_permission_is_denied(client, market):
    editor = user_with(market, "importer2", [permissions.IMPORT, permissions.ITEM_EDIT])
    client.force_login(editor)
    upload = SimpleUploadedFile("a.xlsx", workbook(market, 1))
    assert client.post(PREFIX, {"file": upload, "publish": "on"}).status_code == 403
    assert ImportJob.objects.count() == 0


def test_progress_partial_polls_while_running(staff_client, importer):
    stored = file_store(
        actor=importer, upload=SimpleUploadedFile("t.xlsx", spreadsheet.template_workbook())
    )
    job = ImportJob.objects.create(
        file=stored,
        created_by=importer,
        state=ImportState.VALIDATING,
        total_rows=200,
        processed_rows=50,
    )
    response = staff_client.get(f"{PREFIX}jobs/{job.pk}/progress/")
    assert response.status_code == 200
    partial = response.content.decode()
    assert "<html" not in partial
    assert f'hx-get="{PREFIX}jobs/{job.pk}/progress/"' in partial
    assert 'hx-trigger="every 1s"' in partial
    assert '<progress id="import-progress" max="100" value="25">' in partial
    assert "校验中" in partial
    assert_no_inline_code(partial)
    page = staff_client.get(f"{PREFIX}jobs/{job.pk}/").content.decode()
    assert "hx-get" in page


def test_another_users_job_is_not_shown(client, market, importer):
    stored = file_store(
        actor=importer, upload=SimpleUploadedFile("t.xlsx", spreadsheet.template_workbook())
    )
    job = ImportJob.objects.create(file=stored, created_by=importer)
    other = user_with(market, "other", [permissions.IMPORT])
    client.force_login(other)
    assert client.get(f"{PREFIX}jobs/{job.pk}/").status_code == 404


def _filename_star(response: Any, name: str) -> None:
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=utf-8''{quote(name)}" in disposition


def test_downloads(staff_client, market):
    builders.published_item(market)
    template = staff_client.get(f"{PREFIX}template.xlsx")
    assert template.status_code == 200
    _filename_star(template, "事项清单导入模板.xlsx")
    book = load_workbook(io.BytesIO(template.content))
    assert "事项" in book.sheetnames

    export = staff_client.get(f"{PREFIX}export.xlsx")
    assert export.status_code == 200
    assert "filename*=utf-8''" in export["Content-Disposition"]
    rows = list(load_workbook(io.BytesIO(export.content))["事项"].iter_rows(values_only=True))
    assert len(rows) == 2
    assert "食品经营许可证核发（新办）" in rows[1]

    csv = staff_client.get(f"{PREFIX}export.csv")
    assert csv.status_code == 200
    assert csv["Content-Type"].startswith("text/csv")
    assert ".csv" in csv["Content-Disposition"]
    assert csv.content.startswith(b"\xef\xbb\xbf")
    assert csv.content.decode("utf-8-sig").startswith("部门编码,基本编码")
