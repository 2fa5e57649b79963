"""The 预警纠错 pages through Django's client: the alert list and page with the htmx
correction actions, the manual alert form, the correction inbox, the rules and the intake
systems; scoping (another department gets 404 and changes nothing), denials (403)."""

from __future__ import annotations

import datetime as dt

from tests import factories
from tongban.apps.supervision import services
from tongban.apps.supervision.models import (
    Alert,
    AlertKind,
    CorrectionAction,
    CorrectionEntry,
    CorrectionState,
    RuleSetVersion,
    ScoringVersion,
    Source,
    SupervisedCase,
)
from tongban.apps.supervision.sources import source_authenticate
from tongban.apps.supervision.tests.conftest import at, opened_and_accepted
from tongban.apps.supervision.tests.test_corrections import yellow_card
from tongban.platform.access.models import Scope

HTMX = {"HTTP_HX_REQUEST": "true"}


def two_cards(city) -> tuple[Alert, Alert]:
    market = yellow_card(city, "C1")
    city.ingest(
        *opened_and_accepted("H1", at(2026, 3, 2), department="WJW", unit="WJW-YZ", handler="li"),
        now=at(2026, 3, 2, 11),
    )
    services.clock_sweep(now=at(2026, 3, 17, 0, 0))
    health = Alert.objects.get(case__key="H1", kind=AlertKind.YELLOW_CARD)
    return market, health


def test_the_alert_list_filters_and_is_scoped(client, city):
    market, health = two_cards(city)
    client.force_login(city.supervisor)
    response = client.get("/supervision/alerts/")
    assert response.status_code == 200
    assert response.context["page"].paginator.count == 6
    response = client.get("/supervision/alerts/", {"kind": "yellow_card"})
    assert [a.pk for a in response.context["page"].object_list] == [health.pk, market.pk]
    response = client.get(
        "/supervision/alerts/",
        {"kind": "yellow_card", "department": city.health.pk, "severity": "yellow"},
    )
    assert [a.pk for a in response.context["page"].object_list] == [health.pk]
    response = client.get("/supervision/alerts/", {"date": "2026-03-13", "state": "open"})
    assert response.context["page"].paginator.count == 4  # the four prompts
    assert "示范市卫生健康委员会" in response.content.decode()
    # a department officer sees only the department's alerts
    client.force_login(city.handler)
    response = client.get("/supervision/alerts/")
    keys = {a.case.key for a in response.context["page"].object_list}
    assert keys == {"C1"}


def test_the_alert_list_is_refused_without_the_permission(client, city):
    outsider = factories.staff("outsider", city.market_unit)
    client.force_login(outsider)
    assert client.get("/supervision/alerts/").status_code == 403
    assert client.get("/supervision/corrections/").status_code == 403
    assert client.get("/supervision/rules/").status_code == 403
    assert client.get("/supervision/sources/").status_code == 403
    assert client.get("/supervision/alerts/new/").status_code == 403


def test_the_alert_page_shows_the_case_and_the_history(client, city):
    market, _health = two_cards(city)
    client.force_login(city.handler)
    response = client.get(f"/supervision/alerts/{market.pk}/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "C1" in body
    assert "食品经营许可" in body
    assert "2026-03-16" in body  # the promised deadline
    assert response.context["actions"] == {"explain"}
    assert f'hx-post="/supervision/alerts/{market.pk}/explain/"' in body


def test_explain_accept_through_htmx(client, city):
    market, _health = two_cards(city)
    client.force_login(city.handler)
    response = client.post(
        f"/supervision/alerts/{market.pk}/explain/",
        {"text": "已办结并向申请人致歉", "rectified": "1"},
        **HTMX,
    )
    assert response.status_code == 200
    assert response.templates[0].name == "supervision/alerts/_correction.html"
    assert "已提交，等待监察人员审核" in response.content.decode()
    item = market.correction
    item.refresh_from_db()
    assert item.state == CorrectionState.EXPLAINED
    client.force_login(city.supervisor)
    response = client.get(f"/supervision/alerts/{market.pk}/")
    assert response.context["actions"] == {"accept", "reject"}
    response = client.post(f"/supervision/alerts/{market.pk}/reject/", {"reason": ""}, **HTMX)
    assert response.status_code == 422
    assert "退回时必须填写理由" in response.content.decode()
    item.refresh_from_db()
    assert item.state == CorrectionState.EXPLAINED
    response = client.post(f"/supervision/alerts/{market.pk}/accept/", {"note": "同意"}, **HTMX)
    assert response.status_code == 200
    item.refresh_from_db()
    assert item.state == CorrectionState.ACCEPTED
    assert list(item.entries.values_list("action", flat=True)) == [
        CorrectionAction.OPENED,
        CorrectionAction.RECTIFIED,
        CorrectionAction.ACCEPTED,
    ]


def test_a_plain_post_redirects_back_to_the_alert(client, city):
    market, _health = two_cards(city)
    client.force_login(city.supervisor)
    response = client.post(f"/supervision/alerts/{market.pk}/remind/", {"text": "请抓紧"})
    assert response.status_code == 302
    assert response["Location"] == f"/supervision/alerts/{market.pk}/"
    assert CorrectionEntry.objects.filter(action=CorrectionAction.REMINDED).count() == 1


def test_another_department_gets_404_and_nothing_changes(client, city):
    market, _health = two_cards(city)
    client.force_login(city.health_handler)
    assert client.get(f"/supervision/alerts/{market.pk}/").status_code == 404
    response = client.post(
        f"/supervision/alerts/{market.pk}/explain/", {"text": "越权", "rectified": "1"}
    )
    assert response.status_code == 404
    market.correction.refresh_from_db()
    assert market.correction.state == CorrectionState.OPEN
    assert CorrectionEntry.objects.filter(correction=market.correction).count() == 1
    # an officer may not take the supervisor's verdict on their own department's item
    client.force_login(city.handler)
    client.post(f"/supervision/alerts/{market.pk}/explain/", {"text": "说明"}, **HTMX)
    response = client.post(f"/supervision/alerts/{market.pk}/accept/", {}, **HTMX)
    assert response.status_code == 403
    market.correction.refresh_from_db()
    assert market.correction.state == CorrectionState.EXPLAINED


def test_the_correction_inbox(client, city):
    market, health = two_cards(city)
    client.force_login(city.health_handler)
    response = client.get("/supervision/corrections/")
    assert response.status_code == 200
    assert [i.alert_id for i in response.context["to_respond"]] == [health.pk]
    assert response.context["to_review"] == []
    client.force_login(city.handler)
    client.post(f"/supervision/alerts/{market.pk}/explain/", {"text": "说明"})
    client.force_login(city.supervisor)
    response = client.get("/supervision/corrections/")
    assert [i.alert_id for i in response.context["to_review"]] == [market.pk]
    assert [i.alert_id for i in response.context["supervised"]] == [health.pk]
    assert "待审核的说明" in response.content.decode()


def test_the_manual_alert_form(client, city):
    city.ingest(*opened_and_accepted("C3", at(2026, 3, 2)), now=at(2026, 3, 2, 11))
    case = SupervisedCase.objects.get(key="C3")
    client.force_login(city.supervisor)
    response = client.get("/supervision/alerts/new/", {"case": case.pk})
    assert response.status_code == 200
    assert response.context["selected_department"] == city.market.pk
    assert response.context["handler"] == "zhang"
    response = client.post(
        "/supervision/alerts/new/",
        {"case": case.pk, "department": city.market.pk, "dimension": "attitude", "detail": ""},
    )
    assert response.status_code == 422
    assert "请填写督办事由" in response.content.decode()
    assert not Alert.objects.exists()
    response = client.post(
        "/supervision/alerts/new/",
        {
            "case": case.pk,
            "department": city.market.pk,
            "dimension": "attitude",
            "detail": "12345热线投诉",
            "handler": "zhang",
        },
    )
    alert = Alert.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/supervision/alerts/{alert.pk}/"
    assert (alert.kind, alert.case, alert.dimension) == (AlertKind.MANUAL, case, "attitude")
    assert alert.correction.state == CorrectionState.OPEN
    # a case outside the supervisor's reach is not found
    role = factories.role("local_alert", ["supervision.alert.open"])
    local = factories.staff("jubu", city.health_unit, role_obj=role, scope=Scope.DEPARTMENT)
    client.force_login(local)
    assert client.get("/supervision/alerts/new/", {"case": case.pk}).status_code == 404


def test_the_rules_page_writes_a_new_version_or_nothing(client, city):
    client.force_login(city.supervisor)
    response = client.get("/supervision/rules/")
    assert response.status_code == 200
    assert RuleSetVersion.objects.count() == 1
    form = {
        "which": "rules",
        "prompt_days_before": "2",
        "prompt_elapsed_ratio": "0.75",
        "correction_days": "5",
        "red_card_after_days": "1",
        "max_corrections": "1",
        "max_pause_days": "30",
        "fee_tolerance": "0.00",
        "enabled": ["yellow_card", "red_card", "legal_breach"],
        "min_handling_minutes": "ITEM-1=30\n*=5",
        "note": "提前两天提醒",
    }
    bad = {**form, "prompt_elapsed_ratio": "1.5", "correction_days": "-1"}
    response = client.post("/supervision/rules/", bad)
    assert response.status_code == 422
    body = response.content.decode()
    assert "提醒比例应小于1" in body
    assert "参数“correction_days”应为非负数" in body
    assert RuleSetVersion.objects.count() == 1
    response = client.post("/supervision/rules/", form)
    assert response.status_code == 302
    version = RuleSetVersion.objects.get(number=2)
    assert version.created_by == city.supervisor
    assert version.note == "提前两天提醒"
    assert version.params["correction_days"] == 5
    assert version.params["prompt_elapsed_ratio"] == "0.75"
    assert version.params["enabled"] == ["yellow_card", "red_card", "legal_breach"]
    assert version.params["min_handling_minutes"] == {"ITEM-1": 30, "*": 5}
    response = client.get("/supervision/rules/")
    assert "提前两天提醒" in response.content.decode()
    assert response.context["rule_version"].number == 2


def test_the_scoring_form(client, city):
    client.force_login(city.supervisor)
    context = client.get("/supervision/rules/").context
    form = {"which": "scoring", "note": "调整权重"}
    for name, _label, value in context["scoring_fields"]:
        form[name] = value
    for key, _label, value in context["weights"]:
        form[f"weight_{key}"] = value
    for key, _label, value in context["alert_points"]:
        form[f"points_{key}"] = value
    for key, _label, value in context["grades"]:
        form[f"grade_{key}"] = value
    form["weight_fees"] = "6"
    response = client.post("/supervision/rules/", {**form, "grade_good": "95"})
    assert response.status_code == 422
    assert "等级分数线应满足：优秀 ≥ 良好 ≥ 合格" in response.content.decode()
    assert ScoringVersion.objects.count() == 1
    response = client.post("/supervision/rules/", form)
    assert response.status_code == 302
    version = ScoringVersion.objects.get(number=2)
    assert version.params["weights"]["fees"] == "6"
    assert version.params["weights"]["process"] == "14"


def test_the_sources_page_shows_a_key_once(client, city):
    client.force_login(city.admin)
    response = client.get("/supervision/sources/")
    assert response.status_code == 200
    assert "hotline" in response.content.decode()
    response = client.post(
        "/supervision/sources/", {"code": "xinfang", "name": "信访系统", "department": ""}
    )
    assert response.status_code == 200
    key = response.context["key"]
    assert key.startswith("tbsrc_xinfang.")
    assert response["Cache-Control"] == "no-store"
    assert source_authenticate(key) == Source.objects.get(code="xinfang")
    assert key not in client.get("/supervision/sources/").content.decode()
    response = client.post("/supervision/sources/", {"code": "xinfang", "name": "重复"})
    assert response.status_code == 422
    assert "系统代码已存在：xinfang" in response.content.decode()
    source = Source.objects.get(code="xinfang")
    response = client.post(f"/supervision/sources/{source.pk}/rotate/")
    new_key = response.context["key"]
    assert new_key != key
    assert source_authenticate(key) is None
    assert source_authenticate(new_key) == source
    response = client.post(f"/supervision/sources/{source.pk}/deactivate/")
    assert response.status_code == 302
    assert source_authenticate(new_key) is None
    client.post(f"/supervision/sources/{source.pk}/activate/")
    assert source_authenticate(new_key) == source


def test_a_prompt_page_has_no_correction_forms(client, city):
    city.ingest(*opened_and_accepted("C5", at(2026, 3, 2)), now=at(2026, 3, 2, 11))
    services.clock_sweep(now=at(2026, 3, 13, 0, 1))
    prompt = Alert.objects.filter(kind=AlertKind.PROMPT_DAYS).get()
    client.force_login(city.supervisor)
    response = client.get(f"/supervision/alerts/{prompt.pk}/")
    assert response.status_code == 200
    assert response.context["correction"] is None
    assert "提醒类预警只通知承办人和负责人" in response.content.decode()
    assert client.post(f"/supervision/alerts/{prompt.pk}/remind/").status_code == 404
    assert prompt.occurred_on == dt.date(2026, 3, 13)
