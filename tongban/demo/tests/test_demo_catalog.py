"""The demo city's catalogue: complete, valid guides written through the services."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.db.models import F

from tongban.apps.catalog import services
from tongban.apps.catalog.models import (
    Bundle,
    ItemVersion,
    LegalBasis,
    LifeEvent,
    NegativeListEntry,
    PowerItem,
    ServiceItem,
    Theme,
    VersionState,
)
from tongban.apps.catalog.onlineforms import form_definition_check
from tongban.demo import data
from tongban.demo.catalog import load_demo_catalog
from tongban.platform.access.models import Role
from tongban.platform.audit.models import AuditEntry

pytestmark = pytest.mark.django_db


def published() -> list[ItemVersion]:
    """The current versions of the active items."""
    return list(
        ItemVersion.objects.filter(
            state=VersionState.PUBLISHED, item__is_active=True, item__current_id=F("pk")
        )
    )


def content_of(version: ItemVersion) -> services.ItemContent:
    """Rebuild what an editor would submit from a stored version."""
    snapshot = services.version_snapshot(version)
    scalars = {
        name: snapshot[name]
        for name in (
            "name",
            "item_type",
            "competent_department",
            "conditions",
            "legal_limit_days",
            "promised_limit_days",
            "case_type",
            "exercise_level",
            "handling_suffix",
            "scope",
            "for_natural_persons",
            "for_legal_persons",
            "acceptance_method",
            "is_free",
            "fee_basis",
            "visits",
            "online_depth",
            "result_name",
            "remedy",
            "consult_phone",
            "complaint_phone",
            "address",
            "office_hours",
            "keywords",
            "change_note",
            "form_schema",
            "form_ui",
        )
    }
    return services.ItemContent(
        **scalars,
        fee_amount=Decimal(snapshot["fee_amount"]),
        power_code=snapshot["power_code"],
        special_procedures=tuple(snapshot["special_procedures"]),
        delivery_methods=tuple(snapshot["delivery_methods"]),
        window_codes=tuple(snapshot["windows"]),
        theme_codes=tuple(snapshot["themes"]),
        life_event_codes=tuple(snapshot["life_events"]),
        bases=tuple(services.BasisInput(*row) for row in snapshot["bases"]),
        materials=tuple(services.MaterialInput(*row) for row in snapshot["materials"]),
        steps=tuple(services.StepInput(*row) for row in snapshot["steps"]),
    )


def test_the_catalogue_has_450_published_items_of_real_departments(demo):
    versions = published()
    assert len(versions) >= 450
    assert demo.counts["items"] == len(versions)
    real = {code for code, *_ in data.CITY_DEPARTMENTS} | {
        f"{data.DISTRICTS[index][0][:6]}-{code}" for index, code, _ in data.DISTRICT_DEPARTMENTS
    }
    used = set(ServiceItem.objects.values_list("department__code", flat=True))
    assert used <= real
    assert len(used) >= 25
    kinds = set(ItemVersion.objects.values_list("item_type", flat=True))
    assert len(kinds) == 8


def test_every_guide_is_complete_and_valid(demo):
    for version in ItemVersion.objects.filter(state=VersionState.PUBLISHED).select_related("power"):
        assert services.completeness_problems(version) == [], version.name
        errors, _ = services.content_check(content_of(version))
        assert errors == {}, (version.name, errors)
        materials = list(version.materials.all())
        assert 3 <= len(materials) <= 8, version.name
        assert version.promised_limit_days <= version.legal_limit_days
        if version.online_depth == 4:
            assert version.visits == 0


def test_guides_look_like_a_real_government_service_site(demo):
    versions = published()
    at_most_once = sum(1 for version in versions if version.visits <= 1)
    assert at_most_once / len(versions) >= 0.7
    assert sum(1 for version in versions if version.online_depth >= 3) / len(versions) >= 0.8
    assert {version.case_type for version in versions} == {"instant", "promised"}
    charged = [version for version in versions if not version.is_free]
    assert charged
    assert all(version.fee_basis for version in charged)
    transfer = ItemVersion.objects.get(
        name="国有建设用地使用权及房屋所有权转移登记", state=VersionState.PUBLISHED
    )
    assert transfer.fee_amount == Decimal("80.00")
    assert "2559号" in transfer.fee_basis
    sources = set(
        ItemVersion.objects.filter(state=VersionState.PUBLISHED).values_list(
            "materials__source", flat=True
        )
    )
    assert {"applicant", "shared", "elicence"} <= sources
    conditional = ItemVersion.objects.filter(
        materials__is_required=False, materials__condition__startswith="委托"
    )
    assert conditional.exists()
    food = ItemVersion.objects.get(name="食品经营许可（新办）", item__department__code="SCJ")
    assert food.power is not None
    assert food.power.code == "SCJ-XK-001"
    assert "开饭店" in food.keywords
    assert [step.name for step in food.steps.all()][:2] == ["受理", "审查"]
    assert food.windows.filter(department__code="SCJ").exists()


def test_licences_have_main_items_with_handling_items(demo):
    main = ServiceItem.objects.get(
        level="main", department__code="SCJ", current__name="食品经营许可"
    )
    children = main.children.order_by("implementation_code")
    assert [child.implementation_code[-3:] for child in children] == [
        "001",
        "002",
        "003",
        "004",
        "005",
    ]
    assert {child.level for child in children} == {"handling"}
    assert [child.current.name for child in children] == [
        "食品经营许可（新办）",
        "食品经营许可（变更）",
        "食品经营许可（延续）",
        "食品经营许可（补证）",
        "食品经营许可（注销）",
    ]


def test_implementation_codes_follow_the_national_scheme(demo):
    pattern = re.compile(r"^[0-9A-Z]{6,30}[0-9]{12}[0-9A-HJ-NPQRTUWXY]{18}[0-9]{3}$")
    for item in ServiceItem.objects.select_related("department__division", "current"):
        expected = (
            f"{item.basic_code}{item.department.division.code}{item.department.uscc}"
            f"{item.current.handling_suffix}"
        )
        assert item.implementation_code == expected
        assert pattern.match(item.implementation_code)


def test_online_forms_are_valid(demo):
    with_forms = [version for version in published() if version.form_schema]
    assert len(with_forms) >= 25
    for version in with_forms:
        assert form_definition_check(version.form_schema, version.form_ui) == [], version.name


def test_both_bundles_are_complete(demo):
    business = Bundle.objects.get(code="business-startup")
    assert business.lead_department.code == "SCJ"
    assert business.life_event is not None
    assert business.life_event.code == "business-startup"
    assert business.joint_limit_days <= 3
    newborn = Bundle.objects.get(code="newborn")
    assert newborn.life_event is not None
    assert newborn.life_event.code == "birth"
    for bundle, size in ((business, 6), (newborn, 4)):
        items = list(bundle.items.select_related("current"))
        assert len(items) == size
        for item in items:
            assert item.current.state == VersionState.PUBLISHED
            assert item.current.form_schema
        assert len({item.department_id for item in items}) >= 4
    names = {item.current.name for item in newborn.items.all()}
    assert {"出生医学证明签发", "出生登记", "社会保障卡申领"} <= names


def test_vocabularies_power_list_and_negative_list(demo):
    assert LegalBasis.objects.count() >= 40
    assert LegalBasis.objects.filter(title="《中华人民共和国行政许可法》", kind="law").exists()
    assert Theme.objects.count() == 15
    person = set(LifeEvent.objects.filter(audience="person").values_list("name", flat=True))
    enterprise = set(LifeEvent.objects.filter(audience="enterprise").values_list("name", flat=True))
    assert {"出生", "入学", "就业", "婚姻", "住房", "车辆", "退休", "身后事"} <= person
    assert {"企业开办", "经营许可", "变更", "投资建设", "纳税", "注销"} <= enterprise
    assert "开奶茶店" in LifeEvent.objects.get(code="business-startup").keywords
    assert PowerItem.objects.count() >= 80
    for power_type in ("penalty", "coercion", "inspection", "levy"):
        powers = PowerItem.objects.filter(power_type=power_type)
        assert powers.count() >= 5, power_type
        for power in powers:
            assert power.bases.count() >= 2
            assert power.duties.count() >= 4
            assert power.accountability
    penalty = PowerItem.objects.filter(power_type="penalty").first()
    assert penalty is not None
    assert [duty.stage for duty in penalty.duties.all()] == [
        "立案",
        "调查",
        "审查",
        "告知",
        "决定",
        "执行",
    ]
    entries = NegativeListEntry.objects.all()
    assert entries.count() >= 25
    assert {entry.kind for entry in entries} == {"prohibited", "licensed"}


def test_roles_are_granted_the_catalogue_permissions(demo):
    def codes(role: str) -> set[str]:
        return set(Role.objects.get(code=role).permissions.values_list("code", flat=True))

    assert not {code for code in codes("window_clerk") if code.startswith("catalog.")}
    assert "catalog.item.edit" in codes("department_officer")
    assert "catalog.item.review" not in codes("department_officer")
    assert {"catalog.item.edit", "catalog.item.review"} <= codes("department_leader")
    assert {
        "catalog.vocabulary.manage",
        "catalog.power.manage",
        "catalog.import",
        "catalog.item.review",
    } <= codes("centre_manager")


def test_a_second_load_creates_and_changes_nothing(demo):
    def state() -> tuple[int, ...]:
        return (
            ServiceItem.objects.count(),
            ItemVersion.objects.count(),
            LegalBasis.objects.count(),
            PowerItem.objects.count(),
            NegativeListEntry.objects.count(),
            Bundle.objects.count(),
            AuditEntry.objects.count(),
        )

    before = state()
    counts = load_demo_catalog()
    assert state() == before
    assert counts == {key: demo.counts[key] for key in counts}
