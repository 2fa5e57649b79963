"""Items: create, draft, review, publish, versions, power lists; rules and audit."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tests import factories
from tongban.apps.catalog import permissions, services
from tongban.apps.catalog.models import ItemVersion, ServiceItem, VersionState
from tongban.apps.catalog.tests import builders
from tongban.platform.access.models import Scope
from tongban.platform.audit.models import AuditEntry
from tongban.platform.audit.verify import verify_chain
from tongban.platform.events.models import Event

pytestmark = pytest.mark.django_db


@pytest.fixture
def market():
    return builders.department()


@pytest.fixture
def editor(market):
    unit = factories.unit(market, "SCJG-XK", "行政许可科")
    role = factories.role("catalog_editor", [permissions.ITEM_EDIT])
    return factories.staff("editor", unit, role_obj=role, scope=Scope.DEPARTMENT)


@pytest.fixture
def reviewer(market):
    unit = factories.unit(market, "SCJG-FG", "法规科")
    role = factories.role("catalog_reviewer", [permissions.ITEM_EDIT, permissions.ITEM_REVIEW])
    return factories.staff("reviewer", unit, role_obj=role, scope=Scope.DEPARTMENT)


def test_implementation_code_is_basic_code_area_uscc_and_suffix(market):
    version = services.item_create(
        actor=None,
        department=market,
        basic_code="000117001000",
        level="main",
        content=builders.content(handling_suffix="001"),
    )
    code = version.item.implementation_code
    assert code == "000117001000" + "990100000000" + market.uscc + "001"
    assert len(code) == 12 + 12 + 18 + 3


def test_draft_review_publish_and_new_version(editor, reviewer, market):
    draft = services.item_create(
        actor=editor,
        department=market,
        basic_code="000117001000",
        level="main",
        content=builders.content(),
    )
    assert draft.state == VersionState.DRAFT
    assert draft.item.current_id is None
    services.version_submit(actor=editor, version=draft)
    with pytest.raises(PermissionDenied):  # editors do not publish
        services.version_review(actor=editor, version=draft, approve=True)
    published = services.version_review(actor=reviewer, version=draft, approve=True)
    item = ServiceItem.objects.get(pk=draft.item_id)
    assert published.state == VersionState.PUBLISHED
    assert item.current_id == published.pk
    assert Event.objects.filter(name="catalog.item.published").count() == 1

    second = services.version_draft_open(actor=editor, item=item)
    assert second.number == 2
    assert [m.name for m in second.materials.all()] == [m.name for m in published.materials.all()]
    assert services.version_draft_open(actor=editor, item=item).pk == second.pk  # one open draft
    services.version_update(
        actor=editor, version=second, content=builders.content(promised_limit_days=5)
    )
    services.version_submit(actor=editor, version=second)
    services.version_review(actor=reviewer, version=second, approve=True)

    first = ItemVersion.objects.get(pk=published.pk)
    assert first.state == VersionState.SUPERSEDED
    assert first.promised_limit_days == 10  # a case opened on v1 still sees v1
    item.refresh_from_db()
    assert item.current.promised_limit_days == 5
    actions = list(
        AuditEntry.objects.filter(action__startswith="catalog.", outcome="success")
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == [
        "catalog.item.create",
        "catalog.version.submit",
        "catalog.version.publish",
        "catalog.version.draft_open",
        "catalog.version.update",
        "catalog.version.submit",
        "catalog.version.publish",
    ]
    assert verify_chain().ok


def test_published_version_cannot_be_updated(market):
    version = builders.published_item(market)
    with pytest.raises(ValidationError, match="只有草稿可以修改"):
        services.version_update(actor=None, version=version, content=builders.content())


def test_return_needs_a_comment_and_goes_back_to_draft(editor, reviewer, market):
    draft = services.item_create(
        actor=editor,
        department=market,
        basic_code="000117001000",
        level="main",
        content=builders.content(),
    )
    services.version_submit(actor=editor, version=draft)
    with pytest.raises(ValidationError):
        services.version_review(actor=reviewer, version=draft, approve=False, comment=" ")
    returned = services.version_review(
        actor=reviewer, version=draft, approve=False, comment="材料清单缺少健康证明"
    )
    assert returned.state == VersionState.DRAFT
    assert returned.review_comment == "材料清单缺少健康证明"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"promised_limit_days": 25}, "promised_limit_days", "承诺时限不能长于法定时限"),
        ({"case_type": "instant"}, "promised_limit_days", "即办件的承诺时限应为0个工作日"),
        ({"is_free": False}, "fee_amount", "收费事项应填写大于0的收费金额"),
        ({"online_depth": 4, "visits": 1}, "visits", "全程网办"),
        ({"name": " "}, "name", "请填写事项名称"),
        ({"item_type": "penalty"}, "item_type", "事项类型不正确"),
        ({"for_natural_persons": False}, "for_natural_persons", "至少选择一类申请人"),
        ({"special_procedures": ("magic",)}, "special_procedures", "未知的特别程序"),
        ({"power_code": "NOPE"}, "power_code", "不存在"),
        ({"window_codes": ("99",)}, "window_codes", "不存在"),
        (
            {"bases": (services.BasisInput(title="《不存在的法》"),)},
            "bases",
            "未登记",
        ),
        (
            {"materials": (services.MaterialInput(name="A", is_required=False),)},
            "materials.1",
            "应写明在什么情况下提交",
        ),
    ],
)
def test_content_rules_give_clear_chinese_errors_and_save_nothing(market, changes, field, message):
    with pytest.raises(ValidationError) as caught:
        services.item_create(
            actor=None,
            department=market,
            basic_code="000117001000",
            level="main",
            content=builders.content(**changes),
        )
    assert field in caught.value.message_dict
    assert any(message in text for text in caught.value.message_dict[field])
    assert not ServiceItem.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="catalog.").exists()


def test_duplicate_implementation_code_is_refused(market):
    builders.published_item(market)
    with pytest.raises(ValidationError, match="已存在"):
        builders.published_item(market)


def test_incomplete_guide_cannot_be_submitted(editor, market):
    draft = services.item_create(
        actor=editor,
        department=market,
        basic_code="000117001000",
        level="main",
        content=builders.content(materials=(), result_name=""),
    )
    with pytest.raises(ValidationError) as caught:
        services.version_submit(actor=editor, version=draft)
    assert "请至少列出一项申请材料" in caught.value.messages
    assert "请填写办理结果名称" in caught.value.messages


def test_editor_of_another_department_is_denied_and_audited(editor, market):
    other = builders.department("GAJ", "示范市公安局")
    with pytest.raises(PermissionDenied):
        services.item_create(
            actor=editor,
            department=other,
            basic_code="000117001000",
            level="main",
            content=builders.content(),
        )
    assert not ServiceItem.objects.exists()
    denied = AuditEntry.objects.get(action=permissions.ITEM_EDIT)
    assert denied.outcome == "denied"


def test_hierarchy_rules(market):
    main = builders.published_item(market, name="食品经营许可").item
    child = services.item_create(
        actor=None,
        department=market,
        basic_code="000117001000",
        level="handling",
        parent=main,
        content=builders.content(handling_suffix="001"),
    )
    assert child.item.parent_id == main.pk
    with pytest.raises(ValidationError, match="业务办理项下不能再设子事项"):
        services.item_create(
            actor=None,
            department=market,
            basic_code="000117001000",
            level="handling",
            parent=child.item,
            content=builders.content(handling_suffix="002"),
        )
    with pytest.raises(ValidationError, match="必须指定上级事项"):
        services.item_create(
            actor=None,
            department=market,
            basic_code="000117002000",
            level="sub",
            content=builders.content(),
        )


def test_retire_keeps_versions_and_publishes_event(market):
    version = builders.published_item(market)
    services.item_retire(actor=None, item=version.item, reason="国务院决定取消")
    version.refresh_from_db()
    assert version.state == VersionState.RETIRED
    assert Event.objects.filter(name="catalog.item.retired").exists()
    with pytest.raises(ValidationError):
        services.item_retire(actor=None, item=ServiceItem.objects.get(), reason="again")


def test_power_items_with_duties_and_link_from_item(market):
    builders.legal_bases()
    power = services.power_save(
        actor=None,
        content=services.PowerContent(
            code="XK-SCJG-0001",
            name="食品经营许可",
            power_type="licensing",
            holder_code=market.code,
            bases=(services.BasisInput(title=builders.FOOD_LAW, article="第三十五条"),),
            duties=(("受理", "依法受理或不予受理，不予受理的说明理由"), ("审查", "对申请材料审查")),
        ),
    )
    penalty = services.power_save(
        actor=None,
        content=services.PowerContent(
            code="CF-SCJG-0001",
            name="对未取得食品经营许可从事食品经营活动的处罚",
            power_type="penalty",
            holder_code=market.code,
            bases=(services.BasisInput(title=builders.FOOD_LAW, article="第一百二十二条"),),
            duties=(("立案", "对违法线索依法立案"),),
        ),
    )
    assert penalty.get_power_type_display() == "行政处罚"
    assert power.duties.count() == 2
    version = builders.published_item(market, power_code="XK-SCJG-0001")
    assert version.power_id == power.pk
    with pytest.raises(ValidationError) as caught:
        services.power_save(
            actor=None,
            content=services.PowerContent(
                code="X", name="", power_type="nope", holder_code="none", bases=(), duties=()
            ),
        )
    assert set(caught.value.message_dict) >= {"code", "name", "power_type", "holder_code", "bases"}


def test_bundle_needs_two_published_items(market):
    one = builders.published_item(market).item
    with pytest.raises(ValidationError, match="至少包含两个事项"):
        services.bundle_save(
            actor=None,
            code="qykb",
            name="企业开办",
            audience="enterprise",
            lead_department=market,
            items=[one],
        )
    two = builders.published_item(market, basic_code="000117002000", name="企业设立登记").item
    bundle = services.bundle_save(
        actor=None,
        code="qykb",
        name="企业开办",
        audience="enterprise",
        lead_department=market,
        items=[one, two],
        joint_limit_days=3,
    )
    assert bundle.items.count() == 2


def test_a_reviewer_cannot_publish_their_own_draft(reviewer, market):
    draft = services.item_create(
        actor=reviewer,
        department=market,
        basic_code="000117001000",
        level="main",
        content=builders.content(),
    )
    services.version_submit(actor=reviewer, version=draft)
    with pytest.raises(ValidationError, match="不能审核自己起草的版本"):
        services.version_review(actor=reviewer, version=draft, approve=True)
