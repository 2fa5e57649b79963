"""The demo city's service catalogue: legal bases, themes, life events, the power list,
the negative list, ~450 published service items with their guides and online forms, two
“一件事” bundles and search synonyms.

Everything is written through the catalogue services (``actor=None``: the system). A second
run finds every record by its natural key (title, code, implementation code) and writes
nothing, so it adds no audit entries either.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from tongban.apps.catalog import services
from tongban.apps.catalog.models import (
    Bundle,
    LegalBasis,
    LifeEvent,
    NegativeListEntry,
    PowerItem,
    ServiceItem,
    Theme,
    VersionState,
)
from tongban.demo import data
from tongban.demo.catalog_data import forms, powers, vocab
from tongban.demo.catalog_data.items_key import KEY_ITEMS
from tongban.demo.catalog_data.items_table import TABLE
from tongban.demo.catalog_data.spec import LICENCE_FAMILY, TYPE, Spec
from tongban.platform.audit.models import AuditEntry
from tongban.platform.audit.services import audit_record
from tongban.platform.orgs.models import Department, ServiceCentre, Window

logger = logging.getLogger(__name__)

CENTRE = "示范市政务服务中心"
DISTRICT_CENTRE = "东湖区政务服务中心"
HOURS = "工作日 9:00-12:00 13:30-17:00（法定节假日除外）"
COMPLAINT_PHONE = "0999-12345"
SYNONYMS_MARKER = "demo.catalog.synonyms"
AGENT_CONDITION = "委托他人办理的"
AGENT_MATERIAL = "授权委托书及受托人身份证件"
TYPE_DIGIT = {value: str(index) for index, value in enumerate(TYPE.values(), start=1)}
DEPARTMENT_INDEX = {code: index for index, (code, *_rest) in enumerate(data.CITY_DEPARTMENTS, 1)}
POWER_DUTIES = {
    "licensing": "licensing",
    "penalty": "penalty",
    "coercion": "coercion",
    "inspection": "inspection",
    "levy": "levy",
}

BUNDLES: list[dict[str, Any]] = [
    {
        "code": "business-startup",
        "name": "企业开办",
        "audience": "enterprise",
        "lead": "SCJ",
        "joint_limit_days": 1,
        "life_event": "business-startup",
        "items": [
            "company_setup",
            "seal_filing",
            "tax_registration",
            "tax_invoice",
            "employer_insurance",
            "fund_employer",
        ],
        "description": (
            "企业开办“一网通办”：一次填报营业执照、印章刻制、涉税事项确认和发票申领、"
            "社会保险登记、住房公积金单位缴存登记，各部门同步办理，全流程1个工作日内办结，"
            "营业执照、印章、税务UKey免费寄递。"
        ),
    },
    {
        "code": "newborn",
        "name": "新生儿出生",
        "audience": "person",
        "lead": "WJW",
        "joint_limit_days": 5,
        "life_event": "birth",
        "items": ["birth_certificate", "birth_registration", "newborn_insurance", "social_card"],
        "description": (
            "新生儿出生“一件事”：在助产医疗机构或网上一次申请，同步办理出生医学证明、"
            "出生登记（落户）、城乡居民医保参保登记和社会保障卡申领，5个工作日内办结，"
            "结果免费邮寄。"
        ),
    },
]


@dataclass(frozen=True)
class Planned:
    key: str
    department_code: str
    basic_code: str
    level: str
    parent_key: str
    content: services.ItemContent


# ---------------------------------------------------------------- expanding the tables


def _table_specs() -> Iterator[Spec]:
    audiences = {"p": "person", "e": "enterprise", "b": "both"}
    for department_code, text in TABLE.items():
        for index, line in enumerate(text.strip().splitlines(), start=1):
            parts = line.split("|")
            legal, promised = (int(part) for part in parts[3].split("/"))
            visits, depth = (int(part) for part in parts[4].split("/"))
            bases = tuple(
                (key, article)
                for key, _, article in (basis.partition(":") for basis in parts[7].split(";"))
            )
            children = parts[12]
            yield Spec(
                key=f"{department_code.lower()}_{index:03d}",
                dept=department_code,
                name=parts[0],
                kind=parts[1],
                result=parts[2],
                legal=legal,
                promised=promised,
                visits=visits,
                depth=depth,
                audience=audiences[parts[5]],
                materials=tuple(name for name in parts[6].split(";") if name),
                bases=bases,
                themes=tuple(code for code in parts[8].split(",") if code),
                events=tuple(code for code in parts[9].split(",") if code),
                keywords=parts[10],
                power=parts[11],
                children=LICENCE_FAMILY if children == "F" else (),
                districts=_district_counterparts(department_code) if parts[-1] == "d" else (),
            )


def _district_counterparts(department_code: str) -> tuple[str, ...]:
    return tuple(
        f"{data.DISTRICTS[index][0][:6]}-{code}"
        for index, code, _ in data.DISTRICT_DEPARTMENTS
        if code == department_code
    )


def all_specs() -> list[Spec]:
    return [*KEY_ITEMS, *_table_specs()]


def _material(text: str, kind: str) -> services.MaterialInput:
    source = "applicant"
    condition = ""
    if text.startswith("?"):
        text, _, condition = text[1:].replace("@", "|").partition("|")
    if text[:2] in ("s:", "e:", "g:"):
        source = {"s": "shared", "e": "elicence", "g": "government"}[text[0]]
        text = text[2:]
    return services.MaterialInput(
        name=text,
        originals=1,
        copies=1 if source == "applicant" and ("证" in text or "合同" in text) else 0,
        media="electronic" if source in ("shared", "elicence") else "both",
        is_required=not condition,
        condition=condition,
        source=source,
        acceptance_standard=_acceptance(text, source),
    )


def _acceptance(name: str, source: str) -> str:
    if source == "shared":
        return "通过政务数据共享获取，申请人无需提交纸质材料。"
    if source == "elicence":
        return "通过电子证照库调取，证照应在有效期内且状态正常。"
    if any(word in name for word in ("申请书", "申请表", "登记表", "信息表", "采集表", "申报表")):
        return "使用规范格式文本，内容填写完整、准确，申请人签字（单位加盖公章）。"
    if "身份证" in name:
        return "居民身份证真实有效，在有效期内，人证一致。"
    if "委托" in name:
        return "授权委托书载明委托事项、权限和期限，委托人签字（盖章）；受托人身份证件真实有效。"
    if "照片" in name:
        return "近期正面免冠彩色照片，白色背景，符合证件照标准。"
    if "合同" in name or "协议" in name:
        return "合同（协议）内容完整，各方签字（盖章）齐全；复印件与原件一致。"
    if "证明" in name or "证书" in name or "执照" in name:
        return "由有权机关（单位）出具，内容真实有效，在有效期内；复印件与原件一致。"
    return "内容真实、完整、清晰；复印件由申请人签字或加盖公章确认与原件一致。"


# once-only (材料免提交): the 新生儿出生 bundle's items fetch their birth, household and
# identity materials through data sharing (resources of tongban.demo.sharing)
ONCE_ONLY_ITEMS = frozenset(
    {"birth_certificate", "birth_registration", "newborn_insurance", "social_card"}
)
ONCE_ONLY_MATERIALS = {
    "出生医学证明": "1010030001",  # 出生医学证明信息 (basedata.birth, the applicant as parent)
    "医疗机构分娩记录": "1010030001",
    "居民户口簿": "1010010002",  # 户籍登记信息 (basedata.person)
    "父母双方居民户口簿": "1010010002",
    "居民身份证": "1010010001",  # 人口基本信息 (basedata.person)
    "父母双方居民身份证": "1010010001",
    "监护人居民身份证": "1010010001",
}


def _once_only(spec: Spec, material: services.MaterialInput) -> services.MaterialInput:
    code = ONCE_ONLY_MATERIALS.get(material.name)
    if spec.key not in ONCE_ONLY_ITEMS or code is None:
        return material
    source = material.source if material.source in ("shared", "elicence") else "shared"
    return replace(
        material,
        source=source,
        shared_resource_code=code,
        media="electronic",
        copies=0,
        acceptance_standard=_acceptance(material.name, source),
    )


def _materials(spec: Spec, names: tuple[str, ...]) -> tuple[services.MaterialInput, ...]:
    given = [_material(text, spec.kind) for text in names]
    known = {material.name for material in given}
    extra: list[services.MaterialInput] = []
    if not any(word in name for name in known for word in ("申请", "登记表", "信息表", "采集表")):
        extra.append(_material(f"{spec.name}申请表", spec.kind))
    if spec.audience == "enterprise":
        identity = "e:营业执照"
    else:
        identity = "s:居民身份证"
    if not any(word in name for name in known for word in ("身份", "营业执照", "户口簿")):
        extra.append(_material(identity, spec.kind))
    materials = extra + given
    if len(materials) < 5 and not any("委托" in material.name for material in materials):
        materials.append(_material(f"?{AGENT_MATERIAL}|{AGENT_CONDITION}", spec.kind))
    return tuple(_once_only(spec, material) for material in materials[:8])


def _steps(spec: Spec, promised: int) -> tuple[services.StepInput, ...]:
    if promised == 0:
        return (
            services.StepInput("受理", "窗口或网上受理，申请材料齐全、符合法定形式的当场受理。"),
            services.StepInput("审核", "当场审核申请材料，核验申请人身份。"),
            services.StepInput("办结", f"当场办结，出具{spec.result}。"),
        )
    accept = 1 if promised >= 5 else 0
    decide = 1 if promised >= 2 else 0
    review = promised - accept - decide
    steps = [
        services.StepInput(
            "受理",
            "申请材料齐全、符合法定形式的予以受理，出具受理通知书；材料不全的，"
            "当场或者5个工作日内一次性告知需要补正的全部内容。",
            accept,
        ),
        services.StepInput(
            "审查", "对申请材料进行审查，需要核实的指派两名以上工作人员现场核查。", review
        ),
    ]
    labels = {
        "expert_review": ("专家评审", "组织专家评审，所需时间不计入办理时限，书面告知申请人。"),
        "inspection": ("现场检验", "依法进行检验，所需时间不计入办理时限，书面告知申请人。"),
    }
    for code in spec.special:
        if code in labels:
            steps.append(services.StepInput(*labels[code], 0))
    steps += [
        services.StepInput(
            "决定",
            f"作出准予或者不予办理的决定；不予办理的书面说明理由并告知救济途径。结果：{spec.result}。",
            decide,
        ),
        services.StepInput("送达", "自作出决定之日起10个工作日内，按申请人选择的方式送达。", 0),
    ]
    return tuple(steps)


class _Plan:
    """Turns the specs into item contents with codes, departments and windows."""

    def __init__(self, departments: dict[str, Department]) -> None:
        self.departments = departments
        self.serials: dict[tuple[str, str], int] = defaultdict(int)
        centre = ServiceCentre.objects.filter(name=CENTRE).first()
        self.address = (
            f"{centre.address} {CENTRE}" if centre else f"示范市东湖区市民大道100号 {CENTRE}"
        )
        district_centre = ServiceCentre.objects.filter(name=DISTRICT_CENTRE).first()
        self.district_address = (
            f"{district_centre.address} {DISTRICT_CENTRE}" if district_centre else DISTRICT_CENTRE
        )
        self.windows: dict[str, list[str]] = defaultdict(list)
        for number, department_code in Window.objects.filter(
            centre__name=CENTRE, kind="department"
        ).values_list("number", "department__code"):
            self.windows[department_code].append(f"{CENTRE}/{number}")
        self.has_district_windows = Window.objects.filter(centre__name=DISTRICT_CENTRE).exists()
        self.has_comprehensive = Window.objects.filter(centre__name=CENTRE, number="01").exists()

    def basic_code(self, spec: Spec) -> str:
        item_type = TYPE[spec.kind]
        key = (spec.dept, item_type)
        self.serials[key] += 1
        return (
            f"990100{DEPARTMENT_INDEX[spec.dept]:02d}{TYPE_DIGIT[item_type]}{self.serials[key]:03d}"
        )

    def phone(self, department_code: str) -> str:
        index = DEPARTMENT_INDEX.get(department_code.split("-")[-1], 0)
        return f"0999-86{index:02d}{(index * 37) % 100:02d}00"

    def where(self, department: Department) -> tuple[str, tuple[str, ...]]:
        if department.division.level == 2:
            windows = tuple(self.windows.get(department.code, []))
            if not windows and self.has_comprehensive:
                windows = (f"{CENTRE}/01", f"{CENTRE}/02")
            windows_text = "、".join(window.rsplit("/", 1)[1] for window in windows)
            return f"{self.address}（{windows_text}号窗口）", windows
        if department.division.name == "东湖区" and self.has_district_windows:
            return self.district_address, (f"{DISTRICT_CENTRE}/01", f"{DISTRICT_CENTRE}/02")
        name = department.division.name
        return f"示范市{name}政务服务中心（{name}行政中心一楼）", ()

    def content(self, spec: Spec, department: Department, **changes: Any) -> services.ItemContent:
        promised = spec.promised
        legal = max(spec.legal, promised)
        visits, depth = spec.visits, spec.depth
        if depth == 4:
            visits = 0
        address, windows = self.where(department)
        city_level = department.division.level == 2
        bases = tuple(
            services.BasisInput(
                title=vocab.LEGAL_BASES[key][0], article=article, is_setting=index == 0
            )
            for index, (key, article) in enumerate(spec.bases)
        )
        fee_amount, fee_basis = (
            (Decimal(spec.fee[0]), spec.fee[1]) if spec.fee else (Decimal(0), "")
        )
        if depth == 4:
            delivery: tuple[str, ...] = ("online", "post")
            method = "网上申请：登录示范市政务服务网或“示范办”APP在线提交，全程网办。"
        elif depth == 3:
            delivery = ("collect", "post")
            method = "网上申请后到窗口核验，或直接到窗口申请。"
        else:
            delivery = ("collect",)
            method = "窗口申请：携带申请材料到受理窗口办理，可网上预约、预审。"
        if "身份证" in spec.result or "驾驶证" in spec.result:
            delivery = ("collect", "post")
        who = {
            "person": "自然人",
            "enterprise": "法人和其他组织",
            "both": "自然人、法人和其他组织",
        }[spec.audience]
        first_title = vocab.LEGAL_BASES[spec.bases[0][0]][0]
        content = services.ItemContent(
            name=spec.name,
            item_type=TYPE[spec.kind],
            competent_department=department.name,
            conditions=spec.conditions
            or f"符合{first_title}规定的条件，申请材料齐全、符合法定形式。",
            legal_limit_days=legal,
            promised_limit_days=promised,
            case_type="instant" if promised == 0 else "promised",
            exercise_level="city" if city_level else "county",
            power_code=spec.power,
            scope=spec.scope or f"在{department.division.name}行政区域内申请办理本事项的{who}。",
            for_natural_persons=spec.audience in ("person", "both"),
            for_legal_persons=spec.audience in ("enterprise", "both"),
            acceptance_method=method,
            is_free=not spec.fee,
            fee_amount=fee_amount,
            fee_basis=fee_basis,
            visits=visits,
            online_depth=depth,
            special_procedures=spec.special,
            result_name=spec.result,
            delivery_methods=delivery,
            consult_phone=self.phone(department.code),
            complaint_phone=COMPLAINT_PHONE,
            address=address,
            office_hours=HOURS,
            keywords=spec.keywords,
            form_schema=forms.form_schema(spec.form) if spec.form else None,
            form_ui=forms.form_ui(spec.form) if spec.form else None,
            window_codes=windows,
            theme_codes=spec.themes,
            life_event_codes=spec.events,
            bases=bases,
            materials=_materials(spec, spec.materials),
            steps=_steps(spec, promised),
        )
        return replace(content, **changes) if changes else content

    def handling(
        self, spec: Spec, department: Department, label: str, suffix: str
    ) -> services.ItemContent:
        main = self.content(spec, department)
        name = f"{spec.name}（{label}）"
        licence = f"e:{spec.result}"
        if label == "新办":
            return replace(main, name=name, handling_suffix=suffix)
        promised = {"变更": max(1, spec.promised // 2), "延续": max(1, spec.promised // 2)}.get(
            label, 1 if spec.promised else 0
        )
        result = {
            "变更": f"{spec.result}（变更）",
            "延续": f"{spec.result}（延续）",
            "补证": f"{spec.result}（补发）",
            "校验": f"{spec.result}（校验）",
            "注销": f"{spec.name}注销通知书",
        }[label]
        materials = {
            "变更": (f"{spec.name}变更申请书", licence, "与变更事项有关的证明材料"),
            "延续": (f"{spec.name}延续申请书", licence, "申请人生产经营条件未发生变化的书面说明"),
            "补证": (f"{spec.name}补证申请书", "?遗失或损毁情况说明|许可证遗失或损毁的"),
            "校验": (f"{spec.name}校验申请书", licence, "校验期内执业情况报告"),
            "注销": (f"{spec.name}注销申请书", licence),
        }[label]
        events = {"变更": ("business-change",), "注销": ("closure",)}.get(label, spec.events)
        child = replace(spec, name=name, result=result, promised=promised, special=())
        if label in ("补证", "注销"):
            child = replace(child, depth=4, visits=0)
        return replace(
            self.content(child, department),
            handling_suffix=suffix,
            life_event_codes=events,
            materials=_materials(child, materials),
            form_schema=main.form_schema if label != "注销" else None,
            form_ui=main.form_ui if label != "注销" else None,
        )

    def items(self, specs: list[Spec]) -> Iterator[Planned]:
        for spec in specs:
            basic_code = self.basic_code(spec)
            for department_code in (spec.dept, *spec.districts):
                department = self.departments[department_code]
                prefix = (
                    spec.key if department_code == spec.dept else f"{spec.key}@{department_code}"
                )
                yield Planned(
                    prefix, department_code, basic_code, "main", "", self.content(spec, department)
                )
                for index, label in enumerate(spec.children, start=1):
                    yield Planned(
                        f"{prefix}#{index:03d}",
                        department_code,
                        basic_code,
                        "handling",
                        prefix,
                        self.handling(spec, department, label, f"{index:03d}"),
                    )


# ---------------------------------------------------------------- loading


class CatalogLoader:
    def __init__(self) -> None:
        self.departments = {
            department.code: department
            for department in Department.objects.select_related("division")
        }
        self.items: dict[str, ServiceItem] = {}

    def load(self) -> dict[str, int]:
        self.legal_bases()
        self.vocabularies()
        self.powers()
        self.negative_list()
        self.service_items()
        self.bundles()
        synonym_groups = self.synonyms()
        return {
            "legal_bases": LegalBasis.objects.count(),
            "themes": Theme.objects.count(),
            "life_events": LifeEvent.objects.count(),
            "powers": PowerItem.objects.count(),
            "negative_entries": NegativeListEntry.objects.count(),
            "items": ServiceItem.objects.filter(
                is_active=True, current__state=VersionState.PUBLISHED
            ).count(),
            "items_with_forms": ServiceItem.objects.filter(
                is_active=True, current__form_schema__isnull=False
            ).count(),
            "bundles": Bundle.objects.count(),
            "synonym_groups": synonym_groups,
        }

    def legal_bases(self) -> None:
        existing = set(LegalBasis.objects.values_list("title", flat=True))
        for title, kind, issuer, number, effective in vocab.LEGAL_BASES.values():
            if title not in existing:
                services.legal_basis_save(
                    actor=None,
                    title=title,
                    kind=kind,
                    issuer=issuer,
                    document_number=number,
                    effective_date=effective,
                )

    def vocabularies(self) -> None:
        themes = set(Theme.objects.values_list("code", flat=True))
        for order, (code, name, audience) in enumerate(vocab.THEMES, start=1):
            if code not in themes:
                services.theme_save(
                    actor=None, code=code, name=name, audience=audience, order=order * 10
                )
        events = set(LifeEvent.objects.values_list("code", flat=True))
        for order, (code, name, audience, keywords) in enumerate(vocab.LIFE_EVENTS, start=1):
            if code not in events:
                services.life_event_save(
                    actor=None,
                    code=code,
                    name=name,
                    audience=audience,
                    keywords=keywords,
                    order=order * 10,
                )

    def powers(self) -> None:
        existing = set(PowerItem.objects.values_list("code", flat=True))
        for code, name, power_type, holder, bases in powers.POWERS:
            if code in existing:
                continue
            duties = POWER_DUTIES.get(power_type, "other")
            services.power_save(
                actor=None,
                content=services.PowerContent(
                    code=code,
                    name=name,
                    power_type=power_type,
                    holder_code=holder,
                    accountability=powers.ACCOUNTABILITY[duties],
                    bases=tuple(
                        services.BasisInput(title=vocab.LEGAL_BASES[key][0], article=article)
                        for key, article in bases
                    ),
                    duties=powers.DUTIES[duties],
                ),
            )

    def negative_list(self) -> None:
        existing = set(NegativeListEntry.objects.values_list("code", flat=True))
        for number, kind, sector, measure, basis, department in vocab.NEGATIVE_LIST:
            code = f"{'1' if kind == 'prohibited' else '2'}-{number}"
            if code in existing:
                continue
            services.negative_entry_save(
                actor=None,
                code=code,
                kind=kind,
                sector=sector,
                measure=measure,
                basis=basis,
                department_code=department,
            )

    def service_items(self) -> None:
        plan = _Plan(self.departments)
        planned = list(plan.items(all_specs()))
        codes = {
            entry.key: services.implementation_code_build(
                basic_code=entry.basic_code,
                department=self.departments[entry.department_code],
                suffix=entry.content.handling_suffix,
            )
            for entry in planned
        }
        existing = {
            item.implementation_code: item
            for item in ServiceItem.objects.filter(implementation_code__in=codes.values())
        }
        for entry in planned:
            code = codes[entry.key]
            if code in existing:
                self.items[entry.key] = existing[code]
                continue
            version = services.item_create(
                actor=None,
                department=self.departments[entry.department_code],
                basic_code=entry.basic_code,
                level=entry.level,
                content=entry.content,
                parent=self.items[entry.parent_key] if entry.parent_key else None,
            )
            services.version_publish_now(actor=None, version=version)
            version.item.current_id = version.pk
            self.items[entry.key] = version.item

    def bundles(self) -> None:
        existing = set(Bundle.objects.values_list("code", flat=True))
        for bundle in BUNDLES:
            if bundle["code"] in existing:
                continue
            services.bundle_save(
                actor=None,
                code=bundle["code"],
                name=bundle["name"],
                audience=bundle["audience"],
                lead_department=self.departments[bundle["lead"]],
                items=[self.items[key] for key in bundle["items"]],
                joint_limit_days=bundle["joint_limit_days"],
                description=bundle["description"],
                life_event=LifeEvent.objects.get(code=bundle["life_event"]),
            )

    def synonyms(self) -> int:
        """Search synonym groups, once: a marker in the audit trail records that they were
        created (the search app owns their storage)."""
        from tongban.platform.search import services as search

        create = getattr(search, "synonym_group_create", None)
        if create is None:
            return 0
        marker = AuditEntry.objects.filter(action=SYNONYMS_MARKER).order_by("-pk").first()
        if marker is not None:
            return int(json.loads(marker.detail or "{}").get("groups", 0))
        created = 0
        for terms in vocab.SYNONYMS:
            try:
                create(actor=None, terms=list(terms), note="示范市演示数据")
            except ValidationError as error:
                logger.info("synonym group %s skipped: %s", "/".join(terms), error)
            else:
                created += 1
        audit_record(
            action=SYNONYMS_MARKER,
            object_type="demo.catalog",
            object_label="示范市检索同义词",
            detail={"groups": created},
        )
        return created


def load_demo_catalog() -> dict[str, int]:
    """Load (or complete) the demo catalogue; returns the catalogue's counts."""
    with transaction.atomic():
        return CatalogLoader().load()
