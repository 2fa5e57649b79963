"""Catalogue pages end to end (Django client) and the catalogue API."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tongban.apps.sharing import catalogue
from tongban.apps.sharing.models import Resource, ResourceVersion, VersionStatus
from tongban.apps.sharing.tests.fixtures_catalogue import PERSON_CODE, draft, published
from tongban.platform.events.models import Event

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


FORM = {
    "provider": "",
    "resource_class": "base",
    "code": PERSON_CODE,
    "service_code": "basedata.person",
    "classification": "1-01-001",
    "name": "人口基本信息",
    "summary": "全市户籍人口的基本信息。",
    "format": "database",
    "update_cycle": "realtime",
    "share_type": "conditional",
    "share_conditions": "法定职责范围内使用",
    "share_method": "api",
    "open_type": "closed",
    "open_conditions": "",
    "related_codes": "",
    "change_note": "",
    "item_code": ["id_number", "name", ""],
    "item_name": ["公民身份号码", "姓名", ""],
    "item_type": ["string", "string", "string"],
    "item_length": ["18", "", ""],
    "item_sensitivity": ["personal", "personal", "internal"],
    "item_description": ["", "", ""],
}


def test_home_browse_and_search(sharing_org: Any) -> None:
    org = sharing_org
    published(org.police_officer, org.reviewer, org.police)
    client = _client(org.viewer)

    page = client.get(reverse("sharing:catalogue"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "人口基本信息" in text
    assert "示范市公安局" in text
    assert "基础信息资源" in text

    found = client.get(reverse("sharing:catalogue"), {"q": "身份号码"})
    assert PERSON_CODE in found.content.decode()
    nothing = client.get(reverse("sharing:catalogue"), {"q": "不存在的东西"})
    assert PERSON_CODE not in nothing.content.decode()
    by_class = client.get(reverse("sharing:catalogue"), {"class": "thematic"})
    assert PERSON_CODE not in by_class.content.decode()
    by_department = client.get(reverse("sharing:catalogue"), {"department": "GAJ"})
    assert PERSON_CODE in by_department.content.decode()


def test_detail_page(sharing_org: Any) -> None:
    org = sharing_org
    draft(org.police_officer, org.police, code="1010010009")  # the related resource
    published(
        org.police_officer,
        org.reviewer,
        org.police,
        related_codes=("1010010009",),
    )
    page = _client(org.viewer).get(reverse("sharing:catalogue_resource", args=[PERSON_CODE]))
    assert page.status_code == 200
    text = page.content.decode()
    for expected in (
        "1-01-001",
        "公民身份号码",
        "个人敏感信息",
        "有条件共享",
        "法定职责范围内",
        "接口服务",
        "不予开放",
        "实时",
        "1010010009",
        f"/sharing/requests/new/?resource={PERSON_CODE}",
        "版本历史",
    ):
        assert expected in text, expected


def test_staff_without_permission_and_citizens_are_refused(sharing_org: Any) -> None:
    org = sharing_org
    published(org.police_officer, org.reviewer, org.police)
    urls = [
        reverse("sharing:catalogue"),
        reverse("sharing:catalogue_resource", args=[PERSON_CODE]),
        reverse("sharing:catalogue_diff", args=[PERSON_CODE]),
        reverse("sharing:catalogue_mine"),
        reverse("sharing:catalogue_new"),
        reverse("sharing:catalogue_review"),
    ]
    for user in (org.plain_staff, org.citizen):
        client = _client(user)
        for url in urls:
            assert client.get(url).status_code == 403, (user, url)
    anonymous = Client().get(urls[0])
    assert anonymous.status_code == 302


def test_viewer_cannot_open_drafts_or_edit(sharing_org: Any) -> None:
    org = sharing_org
    draft(org.police_officer, org.police)
    for user in (org.viewer, org.health_officer):
        client = _client(user)
        assert (
            client.get(reverse("sharing:catalogue_resource", args=[PERSON_CODE])).status_code == 404
        )
        assert (
            client.get(reverse("sharing:catalogue_version", args=[PERSON_CODE, 1])).status_code
            == 404
        )
    # another department's editor cannot edit or submit
    client = _client(org.health_officer)
    assert (
        client.get(reverse("sharing:catalogue_version_edit", args=[PERSON_CODE, 1])).status_code
        == 404
    )
    response = client.post(reverse("sharing:catalogue_version_submit", args=[PERSON_CODE, 1]))
    assert response.status_code == 404
    assert ResourceVersion.objects.get().status == VersionStatus.DRAFT


def test_create_edit_submit_review_through_pages(sharing_org: Any) -> None:
    org = sharing_org
    editor = _client(org.police_officer)
    form = editor.get(reverse("sharing:catalogue_new"))
    assert form.status_code == 200
    assert "示范市公安局" in form.content.decode()
    assert "示范市卫生健康委员会" not in form.content.decode()

    row = editor.get(reverse("sharing:catalogue_item_row"))
    assert row.status_code == 200
    assert 'name="item_code"' in row.content.decode()

    invalid = editor.post(
        reverse("sharing:catalogue_new"),
        {
            **FORM,
            "provider": org.police.pk,
            "share_conditions": "",
            "item_code": ["", "", ""],
            "item_name": ["", "", ""],
        },
    )
    assert invalid.status_code == 400
    text = invalid.content.decode()
    assert "有条件共享的资源须写明共享条件。" in text
    assert "至少填写一个信息项。" in text
    assert not Resource.objects.exists()

    created = editor.post(reverse("sharing:catalogue_new"), {**FORM, "provider": org.police.pk})
    assert created.status_code == 302
    resource = Resource.objects.get()
    version = resource.versions.get()
    assert list(version.items.values_list("code", "length")) == [("id_number", 18), ("name", None)]

    edit_url = reverse("sharing:catalogue_version_edit", args=[PERSON_CODE, 1])
    assert editor.get(edit_url).status_code == 200
    saved = editor.post(edit_url, {**FORM, "name": "人口基础信息", "then": "submit"})
    assert saved.status_code == 302
    version.refresh_from_db()
    assert (version.name, version.status) == ("人口基础信息", VersionStatus.SUBMITTED)

    mine = editor.get(reverse("sharing:catalogue_mine"))
    assert "人口基础信息" in mine.content.decode()

    reviewer = _client(org.reviewer)
    queue = reviewer.get(reverse("sharing:catalogue_review"))
    assert "人口基础信息" in queue.content.decode()
    # the editor cannot publish
    assert (
        editor.post(reverse("sharing:catalogue_version_publish", args=[PERSON_CODE, 1])).status_code
        == 403
    )
    refused = reviewer.post(
        reverse("sharing:catalogue_version_reject", args=[PERSON_CODE, 1]), {"reasons": ""}
    )
    assert refused.status_code == 302
    version.refresh_from_db()
    assert version.status == VersionStatus.SUBMITTED
    published_response = reviewer.post(
        reverse("sharing:catalogue_version_publish", args=[PERSON_CODE, 1])
    )
    assert published_response.status_code == 302
    resource.refresh_from_db()
    assert resource.current_id == version.pk

    # a new version through the page, then the diff page
    started = editor.post(reverse("sharing:catalogue_version_new", args=[PERSON_CODE]))
    assert started.status_code == 302
    assert started["Location"] == reverse("sharing:catalogue_version_edit", args=[PERSON_CODE, 2])
    editor.post(
        reverse("sharing:catalogue_version_edit", args=[PERSON_CODE, 2]),
        {
            **FORM,
            "name": "人口基础信息",
            "update_cycle": "daily",
            "item_code": ["id_number", "gender", ""],
            "item_name": ["公民身份号码", "性别", ""],
        },
    )
    diff = editor.get(reverse("sharing:catalogue_diff", args=[PERSON_CODE]), {"from": 1, "to": 2})
    assert diff.status_code == 200
    text = diff.content.decode()
    assert "每日" in text
    assert "gender" in text
    assert "新增信息项" in text
    assert "删除信息项" in text
    # the viewer sees neither the draft nor a diff with it
    viewer = _client(org.viewer)
    assert (
        viewer.get(
            reverse("sharing:catalogue_diff", args=[PERSON_CODE]), {"from": 1, "to": 2}
        ).status_code
        == 404
    )


def test_withdraw_page(sharing_org: Any) -> None:
    org = sharing_org
    published(org.police_officer, org.reviewer, org.police)
    url = reverse("sharing:catalogue_withdraw", args=[PERSON_CODE])
    assert _client(org.police_officer).post(url, {"reason": "停用"}).status_code == 403
    assert not Resource.objects.get().is_withdrawn
    assert _client(org.reviewer).post(url, {"reason": "停用"}).status_code == 302
    assert Resource.objects.get().is_withdrawn
    page = _client(org.reviewer).get(reverse("sharing:catalogue_resource", args=[PERSON_CODE]))
    assert page.status_code == 200
    assert "资源已撤销" in page.content.decode()
    assert "申请共享" not in page.content.decode()
    assert (
        _client(org.viewer)
        .get(reverse("sharing:catalogue_resource", args=[PERSON_CODE]))
        .status_code
        == 404
    )
    assert Event.objects.filter(name="sharing.catalogue.withdrawn").count() == 1


# --- API ---------------------------------------------------------------------------------


def test_api_list_and_detail(sharing_org: Any) -> None:
    org = sharing_org
    published(org.police_officer, org.reviewer, org.police)
    draft(org.police_officer, org.police, code="1010010002", classification="1-01-001")
    client = _client(org.viewer)

    listing = client.get("/api/sharing/catalogue/resources")
    assert listing.status_code == 200
    body = listing.json()
    assert body["count"] == 1
    assert body["items"][0]["code"] == PERSON_CODE
    assert body["items"][0]["provider_code"] == "GAJ"
    assert body["items"][0]["version"] == 1

    filtered = client.get("/api/sharing/catalogue/resources", {"resource_class": "thematic"})
    assert filtered.json()["count"] == 0

    detail = client.get(f"/api/sharing/catalogue/resources/{PERSON_CODE}")
    assert detail.status_code == 200
    data = detail.json()
    assert [item["code"] for item in data["items"]] == ["id_number", "name", "birth_date"]
    assert data["share_conditions"] == "用于法定职责范围内的政务服务事项办理"

    assert client.get("/api/sharing/catalogue/resources/1010010002").status_code == 404


def test_api_refuses_without_permission(sharing_org: Any) -> None:
    org = sharing_org
    published(org.police_officer, org.reviewer, org.police)
    for user in (org.plain_staff, org.citizen):
        client = _client(user)
        assert client.get("/api/sharing/catalogue/resources").status_code == 403
        assert client.get(f"/api/sharing/catalogue/resources/{PERSON_CODE}").status_code == 403
    assert Client().get("/api/sharing/catalogue/resources").status_code == 401


def test_catalogue_reindex(sharing_org: Any) -> None:
    from tongban.apps.sharing import catalogue_selectors as selectors

    org = sharing_org
    published(org.police_officer, org.reviewer, org.police)
    assert catalogue.catalogue_reindex() == 1
    assert len(selectors.catalogue_search(org.viewer, text="人口")[0]) == 1
