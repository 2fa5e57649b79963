"""Catalogue services: validation, the version flow, access, search and diff."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tongban.apps.sharing import catalogue
from tongban.apps.sharing import catalogue_selectors as selectors
from tongban.apps.sharing.catalogue import ItemInput
from tongban.apps.sharing.models import InfoItem, Resource, ResourceVersion, VersionStatus
from tongban.apps.sharing.tests.fixtures_catalogue import (
    PERSON_CODE,
    draft,
    items,
    published,
    values,
)
from tongban.platform.audit.models import AuditEntry
from tongban.platform.events.models import Event
from tongban.platform.notify.models import Message

pytestmark = pytest.mark.django_db


def _errors(excinfo: Any) -> dict[str, list[str]]:
    return excinfo.value.message_dict


def _current(resource: Resource) -> ResourceVersion:
    resource.refresh_from_db()
    assert resource.current is not None
    return resource.current


def _create(org: Any, **kwargs: Any) -> Resource:
    arguments = {
        "actor": org.police_officer,
        "code": PERSON_CODE,
        "resource_class": "base",
        "provider": org.police,
        "values": values(),
        "items": items(),
    }
    arguments.update(kwargs)
    return catalogue.resource_create(**arguments)


# --- creation and validation ---------------------------------------------------------------


def test_create_makes_a_resource_with_its_first_draft(sharing_org: Any) -> None:
    resource = draft(sharing_org.police_officer, sharing_org.police)

    version = resource.versions.get()
    assert (version.number, version.status) == (1, VersionStatus.DRAFT)
    assert resource.current is None
    assert [item.code for item in version.items.all()] == ["id_number", "name", "birth_date"]
    assert AuditEntry.objects.filter(action="sharing.resource_create").count() == 1


@pytest.mark.parametrize(
    ("code", "resource_class", "field"),
    [
        ("101001001", "base", "code"),  # too short
        ("0010010001", "base", "code"),  # 类 cannot be 0
        ("2010010001", "base", "code"),  # base resources start with 1
        ("1010010001", "other", "resource_class"),
    ],
)
def test_code_and_class_are_checked(
    sharing_org: Any, code: str, resource_class: str, field: str
) -> None:
    with pytest.raises(ValidationError) as excinfo:
        _create(sharing_org, code=code, resource_class=resource_class)
    assert field in _errors(excinfo)
    assert not Resource.objects.exists()


def test_code_must_be_unique(sharing_org: Any) -> None:
    _create(sharing_org)
    with pytest.raises(ValidationError) as excinfo:
        _create(sharing_org)
    assert "已被使用" in _errors(excinfo)["code"][0]


@pytest.mark.parametrize(
    ("classification", "code"),
    [
        ("1-01-002", "1010010001"),  # 目 differs
        ("1-01-001-001", "1010010001"),  # 细目 given, code has none
        ("1-01-001", "1010010010001"),  # code has 细目, classification none
        ("1.01.001", "1010010001"),  # wrong format
    ],
)
def test_classification_must_match_the_code(
    sharing_org: Any, classification: str, code: str
) -> None:
    with pytest.raises(ValidationError) as excinfo:
        _create(sharing_org, code=code, values=values(classification=classification))
    assert "classification" in _errors(excinfo)


def test_classification_with_detail_level(sharing_org: Any) -> None:
    resource = _create(
        sharing_org,
        code="3020030040001",
        resource_class="departmental",
        values=values(classification="3-02-003-004"),
    )
    assert resource.code == "3020030040001"


def test_not_shared_needs_a_legal_basis(sharing_org: Any) -> None:
    with pytest.raises(ValidationError) as excinfo:
        _create(sharing_org, values=values(share_type="none", share_conditions=" "))
    assert "依据" in _errors(excinfo)["share_conditions"][0]


def test_conditional_sharing_needs_conditions(sharing_org: Any) -> None:
    with pytest.raises(ValidationError) as excinfo:
        _create(sharing_org, values=values(share_type="conditional", share_conditions=""))
    assert "共享条件" in _errors(excinfo)["share_conditions"][0]


def test_unconditional_sharing_needs_no_conditions(sharing_org: Any) -> None:
    resource = _create(sharing_org, values=values(share_type="unconditional", share_conditions=""))
    assert resource.versions.get().share_type == "unconditional"


def test_conditional_opening_needs_conditions(sharing_org: Any) -> None:
    with pytest.raises(ValidationError) as excinfo:
        _create(sharing_org, values=values(open_type="conditional"))
    assert "open_conditions" in _errors(excinfo)


def test_required_fields_and_choices(sharing_org: Any) -> None:
    with pytest.raises(ValidationError) as excinfo:
        _create(
            sharing_org,
            values=values(name="", summary="", format="pdf", update_cycle="", share_type="x"),
        )
    assert {"name", "summary", "format", "update_cycle", "share_type"} <= set(_errors(excinfo))


def test_at_least_one_item(sharing_org: Any) -> None:
    with pytest.raises(ValidationError) as excinfo:
        _create(sharing_org, items=[])
    assert _errors(excinfo)["items"] == ["至少填写一个信息项。"]


def test_item_codes_unique_and_well_formed(sharing_org: Any) -> None:
    with pytest.raises(ValidationError) as excinfo:
        _create(
            sharing_org,
            items=[
                *items(),
                ItemInput("name", "姓名2", "string"),
                ItemInput("Bad-Code", "坏代码", "string"),
                ItemInput("gender", "", "colour", "secret", 0),
            ],
        )
    messages = " ".join(_errors(excinfo)["items"])
    assert "第4个信息项：代码name重复" in messages
    assert "第5个信息项：代码应以小写字母开头" in messages
    assert "第6个信息项：请填写名称" in messages
    assert "第6个信息项：请选择数据类型" in messages
    assert "第6个信息项：请选择敏感级别" in messages
    assert "第6个信息项：数据长度" in messages


def test_related_codes_are_checked(sharing_org: Any) -> None:
    with pytest.raises(ValidationError) as excinfo:
        _create(sharing_org, values=values(related_codes=("12", PERSON_CODE)))
    messages = _errors(excinfo)["related_codes"]
    assert any("格式不正确" in line for line in messages)
    assert any("自身" in line for line in messages)


def test_related_resources_must_be_in_the_catalogue_to_go_to_review(sharing_org: Any) -> None:
    org = sharing_org
    resource = draft(org.police_officer, org.police, related_codes=("1010010009", "1010010008"))
    version = resource.versions.get()
    draft(org.police_officer, org.police, code="1010010008")  # one of the two exists
    with pytest.raises(ValidationError) as excinfo:
        catalogue.version_submit(actor=org.police_officer, version=version)
    assert _errors(excinfo)["related_codes"] == ["关联资源1010010009不在目录中。"]
    version.refresh_from_db()
    assert version.status == VersionStatus.DRAFT
    draft(org.police_officer, org.police, code="1010010009")
    catalogue.version_submit(actor=org.police_officer, version=version)
    version.refresh_from_db()
    assert version.status == VersionStatus.SUBMITTED


def test_other_department_cannot_create_for_a_provider(sharing_org: Any) -> None:
    with pytest.raises(PermissionDenied):
        _create(sharing_org, actor=sharing_org.health_officer)
    assert not Resource.objects.exists()


def test_reviewer_cannot_draft(sharing_org: Any) -> None:
    with pytest.raises(PermissionDenied):
        _create(sharing_org, actor=sharing_org.reviewer)
    assert not Resource.objects.exists()


# --- the version flow --------------------------------------------------------------------


def test_update_replaces_fields_and_items(sharing_org: Any) -> None:
    resource = draft(sharing_org.police_officer, sharing_org.police)
    version = resource.versions.get()

    catalogue.version_update(
        actor=sharing_org.police_officer,
        version=version,
        values=values(name="人口信息"),
        items=[ItemInput("id_number", "公民身份号码", "string", "personal", 18)],
    )

    version.refresh_from_db()
    assert version.name == "人口信息"
    assert list(version.items.values_list("code", flat=True)) == ["id_number"]


def test_update_invalid_leaves_version_unchanged(sharing_org: Any) -> None:
    resource = draft(sharing_org.police_officer, sharing_org.police)
    version = resource.versions.get()
    with pytest.raises(ValidationError):
        catalogue.version_update(
            actor=sharing_org.police_officer, version=version, values=values(name=""), items=[]
        )
    version.refresh_from_db()
    assert version.name == "人口基本信息"
    assert version.items.count() == 3


def test_submit_and_publish_make_the_version_current(sharing_org: Any) -> None:
    resource = draft(sharing_org.police_officer, sharing_org.police)
    version = resource.versions.get()

    catalogue.version_submit(actor=sharing_org.police_officer, version=version)
    catalogue.version_publish(actor=sharing_org.reviewer, version=version)

    resource.refresh_from_db()
    version.refresh_from_db()
    assert resource.current == version
    assert version.status == VersionStatus.PUBLISHED
    assert version.published_on is not None
    assert version.reviewed_by == sharing_org.reviewer
    assert Event.objects.filter(name="sharing.catalogue.published").count() == 1
    message = Message.objects.get(recipient=sharing_org.police_officer)
    assert message.link == f"/sharing/catalogue/{PERSON_CODE}/v1/"


def test_published_version_cannot_be_edited(sharing_org: Any) -> None:
    resource = published(sharing_org.police_officer, sharing_org.reviewer, sharing_org.police)
    with pytest.raises(ValidationError):
        catalogue.version_update(
            actor=sharing_org.police_officer,
            version=_current(resource),
            values=values(name="改名"),
            items=items(),
        )


def test_only_submitted_versions_can_be_published(sharing_org: Any) -> None:
    resource = draft(sharing_org.police_officer, sharing_org.police)
    with pytest.raises(ValidationError):
        catalogue.version_publish(actor=sharing_org.reviewer, version=resource.versions.get())


def test_editor_cannot_publish(sharing_org: Any) -> None:
    resource = draft(sharing_org.police_officer, sharing_org.police)
    version = resource.versions.get()
    catalogue.version_submit(actor=sharing_org.police_officer, version=version)
    with pytest.raises(PermissionDenied):
        catalogue.version_publish(actor=sharing_org.police_officer, version=version)
    version.refresh_from_db()
    assert version.status == VersionStatus.SUBMITTED


def test_new_version_supersedes_the_old_on_publish(sharing_org: Any) -> None:
    org = sharing_org
    resource = published(org.police_officer, org.reviewer, org.police)
    first = _current(resource)

    second = catalogue.version_draft(actor=org.police_officer, resource=resource)
    assert (second.number, second.status) == (2, VersionStatus.DRAFT)
    assert second.items.count() == 3
    resource.refresh_from_db()
    assert resource.current == first  # still the published one until review

    catalogue.version_update(
        actor=org.police_officer,
        version=second,
        values=values(name="人口基本信息（2026版）", change_note="增加性别"),
        items=items(ItemInput("gender", "性别", "string", "personal", 1)),
    )
    catalogue.version_submit(actor=org.police_officer, version=second)
    catalogue.version_publish(actor=org.reviewer, version=second)

    resource.refresh_from_db()
    first.refresh_from_db()
    assert resource.current == second
    assert first.status == VersionStatus.SUPERSEDED
    assert InfoItem.objects.filter(version=first).count() == 3  # history kept


def test_only_one_open_version(sharing_org: Any) -> None:
    org = sharing_org
    resource = published(org.police_officer, org.reviewer, org.police)
    catalogue.version_draft(actor=org.police_officer, resource=resource)
    with pytest.raises(ValidationError) as excinfo:
        catalogue.version_draft(actor=org.police_officer, resource=resource)
    assert "正在编制或审核中" in excinfo.value.messages[0]
    assert resource.versions.count() == 2


def test_draft_needs_a_published_version(sharing_org: Any) -> None:
    resource = draft(sharing_org.police_officer, sharing_org.police)
    with pytest.raises(ValidationError):
        catalogue.version_draft(actor=sharing_org.police_officer, resource=resource)


def test_reject_needs_reasons_and_allows_resubmission(sharing_org: Any) -> None:
    org = sharing_org
    resource = draft(org.police_officer, org.police)
    version = resource.versions.get()
    catalogue.version_submit(actor=org.police_officer, version=version)

    with pytest.raises(ValidationError) as excinfo:
        catalogue.version_reject(actor=org.reviewer, version=version, reasons="  ")
    assert "reasons" in _errors(excinfo)
    version.refresh_from_db()
    assert version.status == VersionStatus.SUBMITTED

    catalogue.version_reject(actor=org.reviewer, version=version, reasons="摘要过于简单")
    version.refresh_from_db()
    assert version.status == VersionStatus.REJECTED
    assert version.review_comment == "摘要过于简单"
    assert Message.objects.filter(
        recipient=org.police_officer, body__contains="摘要过于简单"
    ).exists()

    catalogue.version_update(
        actor=org.police_officer,
        version=version,
        values=values(summary="更详细的摘要"),
        items=items(),
    )
    catalogue.version_submit(actor=org.police_officer, version=version)
    version.refresh_from_db()
    assert version.status == VersionStatus.SUBMITTED


def test_other_department_cannot_edit_or_submit(sharing_org: Any) -> None:
    org = sharing_org
    resource = draft(org.police_officer, org.police)
    version = resource.versions.get()
    with pytest.raises(PermissionDenied):
        catalogue.version_update(
            actor=org.health_officer, version=version, values=values(name="x"), items=items()
        )
    with pytest.raises(PermissionDenied):
        catalogue.version_submit(actor=org.health_officer, version=version)
    version.refresh_from_db()
    assert (version.name, version.status) == ("人口基本信息", VersionStatus.DRAFT)
    assert AuditEntry.objects.filter(outcome="denied").count() == 2


def test_withdraw(sharing_org: Any) -> None:
    org = sharing_org
    resource = published(org.police_officer, org.reviewer, org.police)
    catalogue.version_draft(actor=org.police_officer, resource=resource)

    with pytest.raises(ValidationError):
        catalogue.resource_withdraw(actor=org.reviewer, resource=resource, reason="")
    with pytest.raises(PermissionDenied):
        catalogue.resource_withdraw(actor=org.police_officer, resource=resource, reason="停用")

    catalogue.resource_withdraw(actor=org.reviewer, resource=resource, reason="系统停用")

    resource.refresh_from_db()
    assert resource.is_withdrawn
    assert set(resource.versions.values_list("status", flat=True)) == {VersionStatus.WITHDRAWN}
    assert not selectors.published_resources(org.viewer).exists()
    with pytest.raises(ValidationError):
        catalogue.version_draft(actor=org.police_officer, resource=resource)
    assert selectors.catalogue_search(org.viewer, text="人口")[0] == []
    assert Event.objects.filter(name="sharing.catalogue.withdrawn").count() == 1


# --- reads -------------------------------------------------------------------------------


def test_drafts_invisible_to_other_departments(sharing_org: Any) -> None:
    from django.http import Http404

    org = sharing_org
    draft(org.police_officer, org.police)
    assert selectors.access_resource_by_code(org.police_officer, PERSON_CODE).may_edit
    assert selectors.access_resource_by_code(org.reviewer, PERSON_CODE).may_review
    for outsider in (org.health_officer, org.viewer, org.plain_staff, org.citizen):
        with pytest.raises(Http404):
            selectors.access_resource_by_code(outsider, PERSON_CODE)
    assert not selectors.catalogue_list(org.health_officer).exists()


def test_viewers_see_published_versions_only(sharing_org: Any) -> None:
    org = sharing_org
    resource = published(org.police_officer, org.reviewer, org.police)
    catalogue.version_draft(actor=org.police_officer, resource=resource)

    access = selectors.access_resource_by_code(org.viewer, PERSON_CODE)
    assert [v.number for v in selectors.versions_for(access)] == [1]
    editor_access = selectors.access_resource_by_code(org.police_officer, PERSON_CODE)
    assert [v.number for v in selectors.versions_for(editor_access)] == [2, 1]
    assert not selectors.published_resources(org.plain_staff).exists()


def test_browse_counts(sharing_org: Any) -> None:
    org = sharing_org
    published(org.police_officer, org.reviewer, org.police)
    published(
        org.health_officer,
        org.reviewer,
        org.health,
        code="3010010001",
        resource_class="departmental",
        classification="3-01-001",
        name="出生医学证明信息",
    )
    draft(org.police_officer, org.police, code="1010010002", classification="1-01-001")

    classes = {entry.value: entry.count for entry in selectors.counts_by_class(org.viewer)}
    assert classes == {"base": 1, "thematic": 0, "departmental": 1}
    departments = {
        entry.department.code: entry.count for entry in selectors.counts_by_department(org.viewer)
    }
    assert departments == {"GAJ": 1, "WJW": 1}
    assert [r.code for r in selectors.catalogue_list(org.viewer, department="WJW")] == [
        "3010010001"
    ]


def test_search_finds_published_entries_only(sharing_org: Any) -> None:
    org = sharing_org
    published(org.police_officer, org.reviewer, org.police)
    draft(
        org.police_officer,
        org.police,
        code="1010010002",
        classification="1-01-001",
        name="人口迁移草稿",
    )

    hits, total = selectors.catalogue_search(org.viewer, text="人口")
    assert [hit.resource.code for hit in hits] == [PERSON_CODE]
    assert total == 1
    # items and provider are indexed too
    assert [
        h.resource.code for h in selectors.catalogue_search(org.viewer, text="公民身份号码")[0]
    ] == [PERSON_CODE]
    assert [h.resource.code for h in selectors.catalogue_search(org.viewer, text="公安局")[0]] == [
        PERSON_CODE
    ]
    assert selectors.catalogue_search(org.plain_staff, text="人口") == ([], 0)


def test_search_follows_the_current_version(sharing_org: Any) -> None:
    org = sharing_org
    resource = published(org.police_officer, org.reviewer, org.police)
    second = catalogue.version_draft(actor=org.police_officer, resource=resource)
    catalogue.version_update(
        actor=org.police_officer, version=second, values=values(name="户籍人口信息"), items=items()
    )
    catalogue.version_submit(actor=org.police_officer, version=second)
    before, _total = selectors.catalogue_search(org.viewer, text="户籍人口信息")
    assert _current(before[0].resource).number == 1
    catalogue.version_publish(actor=org.reviewer, version=second)
    hits, _total = selectors.catalogue_search(org.viewer, text="户籍人口信息")
    assert _current(hits[0].resource).name == "户籍人口信息"


def test_diff(sharing_org: Any) -> None:
    org = sharing_org
    resource = published(org.police_officer, org.reviewer, org.police)
    second = catalogue.version_draft(actor=org.police_officer, resource=resource)
    catalogue.version_update(
        actor=org.police_officer,
        version=second,
        values=values(share_type="unconditional", share_conditions="", update_cycle="daily"),
        items=[
            ItemInput("id_number", "公民身份号码", "string", "personal", 18),
            ItemInput("name", "姓名", "string", "sensitive", 60),
            ItemInput("gender", "性别", "string", "personal", 1),
        ],
    )

    diff = selectors.version_diff(_current(resource), ResourceVersion.objects.get(pk=second.pk))

    assert {change.name: (change.old, change.new) for change in diff.fields} == {
        "share_type": ("有条件共享", "无条件共享"),
        "share_conditions": ("用于法定职责范围内的政务服务事项办理", ""),
        "update_cycle": ("实时", "每日"),
    }
    assert [item.code for item in diff.items_added] == ["gender"]
    assert [item.code for item in diff.items_removed] == ["birth_date"]
    assert len(diff.items_changed) == 1
    changed = diff.items_changed[0]
    assert changed.code == "name"
    assert {c.name: (c.old, c.new) for c in changed.changes} == {
        "length": ("50", "60"),
        "sensitivity": ("个人敏感信息", "敏感"),
    }
    assert selectors.version_diff(_current(resource), _current(resource)).is_empty


def test_workbench_lines(sharing_org: Any) -> None:
    from tongban.apps.sharing import workbench

    org = sharing_org
    resource = draft(org.police_officer, org.police)
    version = resource.versions.get()
    catalogue.version_submit(actor=org.police_officer, version=version)
    assert [item.title for item in workbench.todo(org.reviewer, 10)] == [
        "待审核资源目录：人口基本信息（1010010001）"
    ]
    assert workbench.todo(org.police_officer, 10) == []
    catalogue.version_reject(actor=org.reviewer, version=version, reasons="补充信息项")
    assert workbench.todo(org.reviewer, 10) == []
    assert len(workbench.todo(org.police_officer, 10)) == 1
    assert workbench.todo(org.health_officer, 10) == []
