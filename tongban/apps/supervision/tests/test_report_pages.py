"""Evaluation pages and exports through Django's client: figures, scoping, denials."""

from __future__ import annotations

import io
import subprocess

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from tongban.apps.supervision.tests.test_evaluation import build_figures
from tongban.platform.audit.models import AuditEntry

MARCH = {"period": "2026-03"}


@pytest.fixture
def figures_city(city):
    return build_figures(city)


def _client(client, user):
    client.force_login(user)
    return client


def test_the_supervisor_sees_every_department_the_ranking_and_the_charts_data(client, figures_city):
    city = figures_city
    response = _client(client, city.supervisor).get(reverse("supervision:evaluation"), MARCH)
    assert response.status_code == 200
    page = response.content.decode()
    assert "2026年3月绩效评估" in page
    report = response.context["report"]
    assert [row.name for row in report.rows] == ["示范市卫生健康委员会", "示范市市场监督管理局"]
    assert [(e.position, e.name) for e in report.ranking] == [
        (1, "示范市卫生健康委员会"),
        (2, "示范市市场监督管理局"),
    ]
    assert response.context["chart"]["ranking"]["scores"] == [101.0, 82.0]
    assert 'id="sv-report-data"' in page
    assert "sv-ranking-chart" in page
    assert ">82.00<" in page
    assert ">66.67<" in page  # 提前办结率 of the market department
    # counts link to the case list with the documented filters
    market = city.market.pk
    assert f"/supervision/cases/?department={market}&amp;period=2026-03" in page
    assert (
        f"/supervision/cases/?department={market}&amp;period=2026-03&amp;status=completed"
        "&amp;overdue=1" in page
    )
    assert "<script>" not in page  # CSP: no inline script


def test_levels_show_units_and_staff(client, figures_city):
    city = figures_city
    client = _client(client, city.supervisor)
    units = client.get(reverse("supervision:evaluation"), {**MARCH, "level": "unit"})
    assert [row.name for row in units.context["report"].rows] == ["医政科", "行政许可科"]
    staff = client.get(reverse("supervision:evaluation"), {**MARCH, "level": "staff"})
    names = [(row.department_name, row.name) for row in staff.context["report"].rows]
    assert names == [
        ("示范市卫生健康委员会", "li"),
        ("示范市卫生健康委员会", "（未指定承办人）"),
        ("示范市市场监督管理局", "zhang"),
    ]
    assert "handler=zhang" in staff.content.decode()
    assert city.market.pk == staff.context["report"].rows[2].department_id


def test_a_bad_period_is_explained_and_the_default_month_shown(client, figures_city):
    response = _client(client, figures_city.supervisor).get(
        reverse("supervision:evaluation"), {"period": "2026-13", "level": "bogus"}
    )
    assert response.status_code == 200
    assert response.context["errors"] == ["月份应为1至12：2026-13", "统计层级无效：bogus"]
    assert response.context["level"] == "department"


def test_a_department_officer_sees_its_own_row_and_the_ranking_but_not_other_departments(
    client, figures_city
):
    city = figures_city
    client = _client(client, city.handler)  # EVALUATION_VIEW scoped to the market department
    response = client.get(reverse("supervision:evaluation"), MARCH)
    assert response.status_code == 200
    report = response.context["report"]
    assert [row.name for row in report.rows] == ["示范市市场监督管理局"]
    assert [e.name for e in report.ranking] == ["示范市卫生健康委员会", "示范市市场监督管理局"]
    links = {item["entry"].name: item["detail_url"] for item in response.context["ranking"]}
    assert links["示范市卫生健康委员会"] == ""
    assert links["示范市市场监督管理局"].startswith(
        f"/supervision/evaluation/departments/{city.market.pk}/"
    )
    own = client.get(reverse("supervision:evaluation_department", args=[city.market.pk]), MARCH)
    assert own.status_code == 200
    other = client.get(reverse("supervision:evaluation_department", args=[city.health.pk]), MARCH)
    assert other.status_code == 404
    # the trend counts only the viewer's department
    march = response.context["trend_rows"][-1]
    assert (march["month"].key, march["received"], march["completed"]) == ("2026-03", 4, 4)


def test_the_drill_down_shows_the_score_term_by_term(client, figures_city):
    city = figures_city
    response = _client(client, city.supervisor).get(
        reverse("supervision:evaluation_department", args=[city.market.pk]), MARCH
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert response.context["detail"].position == 2
    assert str(response.context["total"]) == "82.00"
    terms = dict(response.context["terms"])
    assert str(terms["九项维度合计"]) == "76.00"
    assert str(terms["黄牌扣分"]) == "-5.00"
    assert str(terms["提前办结加分"]) == "6.00"
    assert str(terms["压缩承诺时限加分"]) == "5.00"
    assert "良好" in page
    assert "黄牌（超承诺时限）" in page
    half = _client(client, city.supervisor).get(
        reverse("supervision:evaluation_department", args=[city.market.pk]), {"period": "2026-H1"}
    )
    assert [m["total"] for m in half.context["months"]] == [100, 82, 115]
    assert str(half.context["total"]) == "99.00"


def test_the_xlsx_export_opens_with_the_table_and_the_ranking(client, figures_city):
    response = _client(client, figures_city.supervisor).get(
        reverse("supervision:evaluation_export"), {**MARCH, "format": "xlsx"}
    )
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        'attachment; filename="evaluation-2026-03-department.xlsx"'
    )
    workbook = load_workbook(io.BytesIO(response.content))
    sheet = workbook["指标"]
    assert sheet["A1"].value == "2026年3月绩效评估（按部门）"
    assert [cell.value for cell in sheet[3]][:4] == ["部门", "收件数", "办结数", "办结率(%)"]
    market = [cell.value for cell in sheet[5]]
    assert market[:4] == ["示范市市场监督管理局", 4, 4, 100]
    assert market[-2:] == [82, "良好"]
    assert [cell.value for cell in sheet[6]][:3] == ["合计", 7, 7]
    ranking = workbook["排名"]
    assert [[c.value for c in row] for row in ranking.iter_rows(min_row=2)] == [
        [1, "示范市卫生健康委员会", 101, "优秀"],
        [2, "示范市市场监督管理局", 82, "良好"],
    ]


def test_the_pdf_export_is_a_pdf_naming_the_departments(client, figures_city, tmp_path):
    response = _client(client, figures_city.supervisor).get(
        reverse("supervision:evaluation_export"), {**MARCH, "format": "pdf", "level": "unit"}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    path = tmp_path / "report.pdf"
    path.write_bytes(response.content)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout
    assert "示范市市场监督管理局" in text
    assert "行政许可科" in text
    assert "部门排名" in text


def test_exports_refuse_a_bad_format_or_period(client, figures_city):
    client = _client(client, figures_city.supervisor)
    url = reverse("supervision:evaluation_export")
    bad_format = client.get(url, {**MARCH, "format": "docx"})
    assert (bad_format.status_code, bad_format.content.decode()) == (400, "导出格式应为xlsx或pdf")
    bad_period = client.get(url, {"period": "2026-Q9", "format": "xlsx"})
    assert (bad_period.status_code, bad_period.content.decode()) == (400, "季度应为Q1至Q4：2026-Q9")


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("supervision:evaluation", []),
        ("supervision:ranking", []),
        ("supervision:evaluation_export", []),
        ("supervision:evaluation_department", ["market"]),
    ],
)
def test_users_without_evaluation_view_are_denied_and_audited(client, figures_city, name, args):
    city = figures_city
    args = [city.market.pk if arg == "market" else arg for arg in args]
    before = AuditEntry.objects.filter(action="supervision.evaluation.view").count()
    response = _client(client, city.admin).get(reverse(name, args=args), MARCH)
    assert response.status_code == 403
    assert AuditEntry.objects.filter(action="supervision.evaluation.view").count() == before + 1


def test_anonymous_visitors_are_sent_to_log_in(client, figures_city):
    response = client.get(reverse("supervision:evaluation"), MARCH)
    assert response.status_code == 302
    assert "/login" in response["Location"]
