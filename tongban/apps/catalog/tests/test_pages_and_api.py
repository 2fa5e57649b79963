"""Public guide pages, search and routing, power lists, and the API, through real HTTP."""

from __future__ import annotations

import pytest

from tests import factories
from tongban.apps.catalog import permissions, services
from tongban.apps.catalog.models import ServiceItem
from tongban.apps.catalog.tests import builders
from tongban.platform.access.models import Scope
from tongban.platform.audit.models import AuditEntry

pytestmark = pytest.mark.django_db(transaction=True)  # search indexing runs on commit


@pytest.fixture
def catalogue():
    return builders.small_catalogue()


def test_home_lists_departments_and_life_events(client, catalogue):
    response = client.get("/services/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "示范市市场监督管理局" in page
    assert "入学" in page


def test_item_guide_shows_every_element(client, catalogue):
    food = catalogue["food"]
    page = client.get(f"/services/items/{food.item_id}/").content.decode()
    for text in (
        "食品经营许可证核发（新办）",
        food.item.implementation_code,
        "受理条件",
        "食品经营许可申请书",
        "委托他人办理的",
        "电子证照获取",
        "10个工作日",
        "20个工作日",
        "不收费",
        "《中华人民共和国食品安全法》",
        "第三十五条",
        "0999-12345",
        "行政复议",
    ):
        assert text in page, text


def test_past_version_stays_readable(client, catalogue):
    food = catalogue["food"]
    draft = services.version_draft_open(actor=None, item=food.item)
    services.version_update(
        actor=None, version=draft, content=builders.content(promised_limit_days=3)
    )
    services.version_publish_now(actor=None, version=draft)
    old = client.get(f"/services/versions/{food.pk}/").content.decode()
    assert "历史版本" in old
    assert "10个工作日" in old
    current = client.get(f"/services/items/{food.item_id}/").content.decode()
    assert "3个工作日" in current


def test_search_by_word_pinyin_and_initials(client, catalogue):
    for query in ("社保卡", "shebao", "sb"):
        body = client.get("/api/catalog/search", {"q": query}).json()
        names = [hit["name"] for hit in body["hits"]]
        assert "社会保障卡申领" in names, (query, body)
        assert body["hits"][0]["reasons"]


def test_route_a_sentence_to_items_and_departments(client, catalogue):
    body = client.get("/api/catalog/route", {"q": "孩子上小学要办什么"}).json()
    assert body["hits"][0]["name"] == "义务教育阶段新生入学登记"
    assert body["departments"][0]["name"] == "示范市教育局"
    assert "school" in body["life_events"]
    assert any("入学" in reason for reason in body["hits"][0]["reasons"])

    body = client.get("/api/catalog/route", {"q": "我想开一家奶茶店"}).json()
    assert body["hits"][0]["name"] == "食品经营许可证核发（新办）"
    assert body["departments"][0]["name"] == "示范市市场监督管理局"


def test_search_page_renders_results_and_reasons(client, catalogue):
    page = client.get("/services/search/", {"q": "奶茶店"}).content.decode()
    assert "食品经营许可证核发（新办）" in page
    assert "建议您找这些部门" in page
    partial = client.get("/services/search/", {"q": "奶茶店"}, HTTP_HX_REQUEST="true")
    assert "<html" not in partial.content.decode()


def test_hostile_queries_are_harmless(client, catalogue):
    for query in ['" OR 1=1 --', "NEAR(", "*", "'", "<script>alert(1)</script>", "a" * 500]:
        response = client.get("/services/search/", {"q": query})
        assert response.status_code == 200
        assert "<script>alert(1)</script>" not in response.content.decode()
        assert client.get("/api/catalog/search", {"q": query}).status_code == 200


def test_online_form_validates_on_the_server(client, catalogue, monkeypatch):
    from tongban.apps.catalog import public

    monkeypatch.setattr(public, "_application_urls", {})  # no application takes them
    birth = catalogue["birth"]
    url = f"/services/items/{birth.item_id}/apply/"
    assert client.get(url).status_code == 302  # sign in first
    client.force_login(factories.citizen())
    assert "新生儿姓名" in client.get(url).content.decode()
    response = client.post(url, {})
    assert response.status_code == 400
    assert "新生儿姓名" in response.content.decode()


def test_apply_leads_to_the_application_that_takes_applications(client, catalogue):
    birth = catalogue["birth"]
    client.force_login(factories.citizen())
    response = client.get(f"/services/items/{birth.item_id}/apply/", follow=True)
    assert response.redirect_chain[-1][0] == f"/cases/apply/{birth.item_id}/"
    assert "新生儿姓名" in response.content.decode()
    posted = client.post(f"/cases/apply/{birth.item_id}/", {"idempotency_key": "k1"})
    assert posted.status_code == 400
    assert "新生儿姓名" in posted.content.decode()


def test_api_lists_and_reads_items(client, catalogue):
    listing = client.get("/api/catalog/items", {"department": "SCJG"}).json()
    assert listing["count"] == 1
    item_id = listing["items"][0]["id"]
    detail = client.get(f"/api/catalog/items/{item_id}").json()
    assert detail["materials"][0]["name"] == "食品经营许可申请书"
    assert detail["bases"][0]["title"] == "《中华人民共和国食品安全法》"
    assert client.get("/api/catalog/items/999999").status_code == 404


def test_api_write_flow_and_permissions(client, catalogue):
    market = catalogue["market"]
    unit = factories.unit(market, "SCJG-XK", "行政许可科")
    editor = factories.staff(
        "editor",
        unit,
        role_obj=factories.role("catalog_editor", [permissions.ITEM_EDIT]),
        scope=Scope.DEPARTMENT,
    )
    payload = {
        "department_code": "SCJG",
        "basic_code": "000117009000",
        "level": "main",
        "content": {
            "name": "食品经营许可证注销",
            "item_type": "licensing",
            "competent_department": "示范市市场监督管理局",
            "conditions": "持证者申请注销。",
            "legal_limit_days": 20,
            "promised_limit_days": 5,
            "case_type": "promised",
            "result_name": "注销通知书",
            "consult_phone": "0999-12345",
            "address": "政务服务中心",
            "office_hours": "工作日",
            "bases": [{"title": "《中华人民共和国食品安全法》", "article": "第三十五条"}],
            "materials": [{"name": "注销申请书"}],
            "steps": [{"name": "受理"}],
        },
    }
    citizen = factories.citizen("someone")
    client.force_login(citizen)
    denied = client.post("/api/catalog/items", payload, content_type="application/json")
    assert denied.status_code == 403
    assert ServiceItem.objects.count() == 4
    client.force_login(editor)
    bad = dict(payload, content=dict(payload["content"], promised_limit_days=30))
    response = client.post("/api/catalog/items", bad, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["message"] == "承诺时限不能长于法定时限"
    assert ServiceItem.objects.count() == 4
    created = client.post("/api/catalog/items", payload, content_type="application/json")
    assert created.status_code == 201, created.json()
    version_id = created.json()["id"]
    submitted = client.post(f"/api/catalog/versions/{version_id}/submit")
    assert submitted.json()["state"] == "in_review"
    refused = client.post(
        f"/api/catalog/versions/{version_id}/review",
        {"approve": True},
        content_type="application/json",
    )
    assert refused.status_code == 403  # editors do not publish
    assert AuditEntry.objects.filter(action=permissions.ITEM_REVIEW, outcome="denied").exists()


def test_power_list_and_negative_list_pages(client, catalogue):
    market = catalogue["market"]
    services.power_save(
        actor=None,
        content=services.PowerContent(
            code="CF-SCJG-0001",
            name="对未取得食品经营许可从事食品经营活动的处罚",
            power_type="penalty",
            holder_code=market.code,
            bases=(services.BasisInput(title=builders.FOOD_LAW, article="第一百二十二条"),),
            duties=(("立案", "对违法线索依法立案"), ("决定", "依法作出处罚决定")),
        ),
    )
    services.negative_entry_save(
        actor=None, code="101", kind="prohibited", sector="农业", measure="禁止违规开展转基因种植"
    )
    page = client.get("/services/powers/", {"department": "SCJG"}).content.decode()
    assert "对未取得食品经营许可从事食品经营活动的处罚" in page
    assert "行政处罚" in page
    detail = client.get("/services/powers/CF-SCJG-0001/").content.decode()
    assert "依法作出处罚决定" in detail
    assert "禁止违规开展转基因种植" in client.get("/services/negative-list/").content.decode()
    body = client.get("/api/catalog/powers").json()
    assert body["items"][0]["duties"][0]["stage"] == "立案"
