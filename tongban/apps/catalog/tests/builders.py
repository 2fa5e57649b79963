"""Test data for the catalogue: a department, legal bases and complete guides."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from tests import factories
from tongban.apps.catalog import services
from tongban.apps.catalog.models import ItemVersion, LegalBasis
from tongban.platform.orgs.models import Department, Division

LICENCE_LAW = "《中华人民共和国行政许可法》"
FOOD_LAW = "《中华人民共和国食品安全法》"


def legal_bases() -> None:
    LegalBasis.objects.get_or_create(title=LICENCE_LAW, defaults={"kind": "law"})
    LegalBasis.objects.get_or_create(title=FOOD_LAW, defaults={"kind": "law"})


def department(code: str = "SCJG", name: str = "示范市市场监督管理局") -> Department:
    division = Division.objects.filter(code="990100000000").first()
    if division is None:
        division = factories.division()
    return factories.department(division, code, name)


def content(**changes: Any) -> services.ItemContent:
    legal_bases()
    base = services.ItemContent(
        name="食品经营许可证核发（新办）",
        item_type="licensing",
        competent_department="示范市市场监督管理局",
        conditions="申请人应当具有与经营的食品品种、数量相适应的经营场所。",
        legal_limit_days=20,
        promised_limit_days=10,
        case_type="promised",
        keywords="开饭店 餐饮 奶茶店",
        result_name="食品经营许可证",
        consult_phone="0999-12345",
        address="示范市政务服务中心二楼",
        office_hours="工作日 9:00-12:00 13:30-17:30",
        bases=(services.BasisInput(title=FOOD_LAW, article="第三十五条"),),
        materials=(
            services.MaterialInput(name="食品经营许可申请书"),
            services.MaterialInput(name="营业执照", source="elicence"),
            services.MaterialInput(
                name="授权委托书", is_required=False, condition="委托他人办理的"
            ),
        ),
        steps=(
            services.StepInput(name="受理", days=1),
            services.StepInput(name="审查", days=7),
            services.StepInput(name="决定", days=2),
        ),
    )
    return replace(base, **changes)


def published_item(
    department_obj: Department | None = None, basic_code: str = "000117001000", **changes: Any
) -> ItemVersion:
    department_obj = department_obj or department()
    version = services.item_create(
        actor=None,
        department=department_obj,
        basic_code=basic_code,
        level="main",
        content=content(**changes),
    )
    return services.version_publish_now(actor=None, version=version)


def small_catalogue() -> dict[str, Any]:
    """Four published items of four departments, one life event, one online form."""
    market = department()
    police = department("GAJ", "示范市公安局")
    social = department("RSJ", "示范市人力资源和社会保障局")
    school = department("JYJ", "示范市教育局")
    services.life_event_save(
        actor=None, code="school", name="入学", audience="person", keywords="上学 小学 初中 入学"
    )
    food = published_item(market)
    shebao = published_item(
        social,
        basic_code="000120001000",
        name="社会保障卡申领",
        keywords="社保卡 社会保障卡",
        conditions="参加本市社会保险的人员。",
        result_name="社会保障卡",
    )
    enrol = published_item(
        school,
        basic_code="000130001000",
        name="义务教育阶段新生入学登记",
        keywords="",
        conditions="适龄儿童，户籍或居住证在本区。",
        result_name="入学通知书",
        life_event_codes=("school",),
    )
    birth = published_item(
        police,
        basic_code="000140001000",
        name="出生登记",
        keywords="新生儿 落户 报户口",
        conditions="本市户籍父母所生子女。",
        result_name="居民户口簿",
        form_schema={
            "type": "object",
            "properties": {
                "child_name": {"type": "string", "title": "新生儿姓名", "maxLength": 20}
            },
            "required": ["child_name"],
        },
    )
    return {"food": food, "shebao": shebao, "enrol": enrol, "birth": birth, "market": market}
