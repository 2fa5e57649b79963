"""The demo city's official documents (公文与协同办公).

Adds the city government's general office (示范市人民政府办公室, 机关代字 示范府办, issuing
示范府 documents with the city's seal) and the three district governments as sending and
receiving units, then runs real document flows through the documents app's services:

- a city government notice (文件) drafted, checked, countersigned by the market regulator
  and the data bureau, signed off, numbered, sealed and sent to 各区人民政府 and 市直各单位;
  some units signed for it, one returned it with reasons, the rest are still to sign; the
  market regulator registered it and its leader instructed the handling;
- the market regulator's own notice waiting for the printed ``leader``'s 签发 and one
  waiting for 核稿 by its office, so the printed logins have work in their workbench;
- a supervised task (督查督办) from the city notice, owned by the market regulator (lead) and
  the data bureau, with a progress report; and an overdue one that supervision hears of;
- an archived earlier notice, searchable.

Roles (department scope): 拟稿 for every section chief and the printed ``officer``; the
office (办公室) chief and first clerk of every department are its 文书 (核稿, 编号用印分发,
签收登记, 收文办理, 归档, 电子印章, 督办进展); department leaders 签发, 会签 and 批办; the
general office's 督查科 supervises tasks city-wide and its 办公室 manages the city's groups.

Runs after the city, idempotent: skipped when the general office already has documents.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from tongban.apps.documents import archive, drafting, exchange, receiving, seals, supervised
from tongban.apps.documents import permissions as p
from tongban.apps.documents.models import Delivery, Document, DocumentState, Retention
from tongban.demo.orgs import department as _department
from tongban.demo.orgs import unit as _unit
from tongban.platform.access.models import Permission, Role, RoleAssignment, Scope
from tongban.platform.access.services import access_sync_permissions, forget_grants
from tongban.platform.accounts.models import User
from tongban.platform.orgs.models import (
    BodyKind,
    Department,
    Division,
    GovernmentBody,
    Position,
    Posting,
    Unit,
)

OFFICE_CODE = "SZFB"
DEMO_PASSWORD = "Demo@2026"  # noqa: S105 - the demo's printed password (loader.DEMO_PASSWORD)

#: code: (name, permissions)
ROLES: dict[str, tuple[str, list[str]]] = {
    "document_drafter": ("公文拟稿人", [p.DRAFT, p.VIEW]),
    "document_secretary": (
        "文书（公文管理）",
        [
            p.DRAFT,
            p.CHECK,
            p.NUMBER_SEAL,
            p.VIEW,
            p.SEAL_MANAGE,
            p.RECEIVE,
            p.HANDLE,
            p.ARCHIVE,
            p.TASK_REPORT,
        ],
    ),
    "document_leader": ("公文签发领导", [p.SIGN_OFF, p.COUNTERSIGN, p.INSTRUCT, p.VIEW, p.HANDLE]),
    "document_supervisor": ("督查督办", [p.TASK_SUPERVISE]),
    "document_groups": ("公文分发分组管理", [p.GROUP_MANAGE]),
}

BODY = "\n".join(
    (
        "为深入推进政务服务“一网通办”，提升企业和群众办事便利度，经市人民政府同意，现就有关事项通知如下。",
        "一、总体要求",
        "以企业和群众办事“只进一扇门”“最多跑一次”为目标，全面推行网上审批和并联审批，做到应上尽上、全程在线。",
        "二、主要任务",
        "（一）统一事项目录。各地各部门要按照全市政务服务事项目录，逐项核对事项名称、设定依据、办理时限和申请材料，于12月20日前完成认领。",
        "（二）推进数据共享。能够通过共享获取的材料，一律不再要求申请人提供。",
        "（三）强化电子监察。对超期未办、临近时限的事项实行预警，纳入年度绩效考核。",
        "三、工作要求",
        "各地各部门要高度重视，明确分管领导和具体责任人，确保各项任务按时完成。工作中遇到的问题，请及时报市政务服务数据管理局。",
    )
)


def _user(username: str, name: str, unit: Unit, position: Position) -> User:
    user, created = User.objects.get_or_create(
        username=username,
        defaults={
            "display_name": name,
            "kind": "staff",
            "password": make_password(DEMO_PASSWORD),
        },
    )
    if created:
        Posting.objects.create(user=user, unit=unit, position=position)
    return user


def _positions() -> dict[str, Position]:
    return {position.code: position for position in Position.objects.all()}


def _units_and_people(city: Division) -> dict[str, Any]:
    """The general office and the district governments, each with an office and people."""
    positions = _positions()
    government = GovernmentBody.objects.filter(division=city, kind=BodyKind.GOVERNMENT).first()
    office = _department(city, OFFICE_CODE, "示范市人民政府办公室", "示范府办", government, None)
    office_units = [
        _unit(office, 1, "秘书科"),
        _unit(office, 2, "督查科"),
        _unit(office, 3, "文电科"),
    ]
    people = {
        "szfb_d01": _user("szfb_d01", "郑国华", office_units[0], positions["director"]),
        "szfb_u01c": _user("szfb_u01c", "林秀英", office_units[0], positions["section_chief"]),
        "szfb_u02c": _user("szfb_u02c", "韩立新", office_units[1], positions["section_chief"]),
        "szfb_u03c": _user("szfb_u03c", "何静", office_units[2], positions["section_chief"]),
    }
    districts = []
    for district in Division.objects.filter(parent=city).order_by("code"):
        body = GovernmentBody.objects.filter(division=district, kind=BodyKind.GOVERNMENT).first()
        code = f"{district.code[:6]}-GOV"
        department = _department(
            district, code, f"{district.name}人民政府", f"{district.name[:2]}政", body, None
        )
        unit = _unit(department, 1, "办公室")
        prefix = code.lower().replace("-", "")
        people[f"{prefix}_d01"] = _user(
            f"{prefix}_d01", f"{district.name[:2]}区长", unit, positions["director"]
        )
        people[f"{prefix}_u01c"] = _user(
            f"{prefix}_u01c", f"{district.name[:2]}文书", unit, positions["section_chief"]
        )
        districts.append(department)
    return {"office": office, "districts": districts, "people": people}


def _roles() -> dict[str, Role]:
    access_sync_permissions()
    roles = {}
    for code, (name, codes) in ROLES.items():
        roles[code], _ = Role.objects.update_or_create(code=code, defaults={"name": name})
        roles[code].permissions.add(*Permission.objects.filter(code__in=codes))
    return roles


def grant_document_roles(city: Division) -> None:
    """Department-scoped document roles for the people who draft, keep, sign and supervise."""
    roles = _roles()
    wanted: list[RoleAssignment] = []
    staff = (
        Posting.objects.filter(user__kind="staff", user__is_active=True)
        .select_related("user", "unit__department")
        .order_by("user_id", "pk")
    )
    seen: set[int] = set()
    for posting in staff:
        user = posting.user
        if user.pk in seen:
            continue
        seen.add(user.pk)
        name = user.username
        department = posting.unit.department
        codes: list[str] = []
        if name.endswith(("_d01", "_d02")) or name == "leader":
            codes.append("document_leader")
        if name.endswith(("_u01c", "_u01s1")):
            codes.append("document_secretary")
        elif name == "officer" or (name.endswith("c") and "_u" in name):
            codes.append("document_drafter")
        for code in codes:
            wanted.append(
                RoleAssignment(
                    user=user, role=roles[code], scope=Scope.DEPARTMENT, department=department
                )
            )
    have = set(
        RoleAssignment.objects.filter(role__code__in=ROLES).values_list(
            "user_id", "role_id", "department_id"
        )
    )
    RoleAssignment.objects.bulk_create(
        [a for a in wanted if (a.user_id, a.role_id, a.department_id) not in have]
    )
    for username, role in (("szfb_u02c", "document_supervisor"), ("szfb_u01c", "document_groups")):
        user = User.objects.get(username=username)
        RoleAssignment.objects.get_or_create(
            user=user, role=roles[role], scope=Scope.DIVISION, division=city
        )


def _fresh(username: str) -> User:
    user = User.objects.get(username=username)
    forget_grants(user)
    return user


def _flow_to_sealed(document: Document, *, secretary: str, leader: str) -> Document:
    """核稿 → 会签 (each countersigning department's leader) → 签发 → 编号 → 用印."""
    drafting.document_decide(
        actor=_fresh(secretary), document=document, decision="agree", text="文字已核，同意。"
    )
    for department in document.countersign_departments.all():
        countersigner = _fresh(f"{department.code.lower().replace('-', '')}_d01")
        drafting.document_decide(
            actor=countersigner,
            document=document,
            decision="agree",
            text="同意，我局将抓好落实。",
            department_id=department.pk,
        )
    drafting.document_sign_off(actor=_fresh(leader), document=document, text="同意印发。")
    drafting.document_number(actor=_fresh(secretary), document=document)
    drafting.document_seal_step(actor=_fresh(secretary), document=document)
    document.refresh_from_db()
    return document


def _city() -> Division | None:
    province = Division.objects.filter(parent__isnull=True).order_by("pk").first()
    if province is None:
        return None
    return Division.objects.filter(parent=province).order_by("pk").first() or province


def load_units() -> None:
    """The general office and the district governments with their people: right after the
    city's own departments, so the later parts (sharing's roles) treat them like the rest."""
    city = _city()
    if city is not None:
        with transaction.atomic():
            _units_and_people(city)


def load() -> dict[str, int]:
    """Load the documents part of the demo city (after the city and its people)."""
    city = _city()
    if city is None:
        return {}
    with transaction.atomic():
        made = _units_and_people(city)
        grant_document_roles(city)
    office: Department = made["office"]
    if Document.objects.filter(issuer=office).exists():
        return {"documents": Document.objects.count()}
    market = Department.objects.get(code="SCJ")
    data_bureau = Department.objects.get(code="ZSJ")
    for department in (office, market, *made["districts"]):
        seals.ensure_seal(department)

    groups_admin = _fresh("szfb_u01c")
    districts_group = exchange.group_create(
        actor=groups_admin,
        owner=None,
        name="各区人民政府",
        members=[d.pk for d in made["districts"]],
    )
    city_departments = list(
        Department.objects.filter(division=city, parent__isnull=True, is_active=True)
        .exclude(pk=office.pk)
        .exclude(code="JW")
        .values_list("pk", flat=True)
    )
    city_group = exchange.group_create(
        actor=groups_admin, owner=None, name="市直各单位", members=city_departments
    )

    # 1. the city government's notice, all the way to the units
    notice = drafting.document_create(
        actor=_fresh("szfb_u03c"),
        issuer_id=office.pk,
        values={
            "kind": "文件",
            "direction": "down",
            "issuer_mark": "示范市人民政府文件",
            "issuer_code": "示范府办",
            "urgency": "加急",
            "title": "示范市人民政府办公室关于深化政务服务“一网通办”改革的通知",
            "addressees": "各区人民政府，市政府各部门，各直属机构",
            "body": BODY,
            "signature": "示范市人民政府办公室",
            "cc": ["市委办公室", "市人大常委会办公室", "市政协办公室"],
            "printed_by": "示范市人民政府办公室",
            "retention": Retention.LONG,
        },
        countersign_ids=[market.pk, data_bureau.pk],
    )
    drafting.document_submit(actor=_fresh("szfb_u03c"), document=notice)
    notice = _flow_to_sealed(notice, secretary="szfb_u01c", leader="szfb_d01")
    dispatch = exchange.document_send(
        actor=_fresh("szfb_u01c"),
        document=notice,
        recipients=[],
        groups=[districts_group.pk, city_group.pk],
        message="请按通知要求抓好落实，12月20日前报送认领情况。",
        sign_within_hours=24,
    )
    deliveries = list(Delivery.objects.filter(dispatch=dispatch).select_related("recipient"))
    counts = {"document_deliveries": len(deliveries)}
    signed = 0
    for delivery in deliveries:
        code = delivery.recipient.code
        secretary = f"{code.lower().replace('-', '')}_u01c"
        if not User.objects.filter(username=secretary).exists():
            continue
        if code == "XFJ":
            exchange.delivery_return(
                actor=_fresh(secretary),
                delivery=delivery,
                reason="本单位不承担政务服务事项认领任务，请核实主送范围。",
            )
        elif code in ("SCJ", "ZSJ", "RSJ", "MZJ", "990102-GOV", "990103-GOV") or len(code) <= 3:
            if signed >= 24 and code not in ("SCJ", "ZSJ"):
                continue
            exchange.delivery_open(actor=_fresh(secretary), delivery=delivery)
            exchange.delivery_sign(actor=_fresh(secretary), delivery=delivery)
            signed += 1
    counts["document_deliveries_signed"] = signed

    # the market regulator registers it, proposes, and its leader instructs the handling
    market_delivery = next(d for d in deliveries if d.recipient_id == market.pk)
    receipt = receiving.receipt_register(actor=_fresh("scj_u01c"), delivery=market_delivery)
    receiving.receipt_propose(
        actor=_fresh("scj_u01c"),
        receipt=receipt,
        proposal="拟请登记注册科牵头落实，办公室跟踪督办。",
    )
    registration = User.objects.get(username="officer")
    receiving.receipt_instruct(
        actor=_fresh("leader"),
        receipt=receipt,
        instruction="同意。请登记注册科12月18日前完成事项认领，并报办公室汇总。",
        deadline=timezone.localdate() + dt.timedelta(days=18),
        handlers=[registration.pk],
        readers=[User.objects.get(username="scj_d02").pk],
    )

    # 2. the market regulator's own notices in progress
    waiting_sign_off = drafting.document_create(
        actor=_fresh("officer"),
        issuer_id=market.pk,
        values={
            "kind": "文件",
            "direction": "down",
            "issuer_code": "示范市监",
            "title": "关于开展2027年元旦春节期间食品安全专项检查的通知",
            "addressees": "各区市场监督管理局",
            "body": (
                "为保障节日期间食品安全，决定开展专项检查。\n一、检查范围\n"
                "大型商超、农贸市场、餐饮服务单位。\n二、时间安排\n2026年12月至2027年2月。"
            ),
            "signature": "示范市市场监督管理局",
        },
    )
    drafting.document_submit(actor=_fresh("officer"), document=waiting_sign_off)
    drafting.document_decide(
        actor=_fresh("scj_u01c"), document=waiting_sign_off, decision="agree", text="同意。"
    )
    waiting_check = drafting.document_create(
        actor=_fresh("officer"),
        issuer_id=market.pk,
        values={
            "kind": "信函",
            "direction": "parallel",
            "issuer_code": "示范市监函",
            "title": "关于商请提供食品经营许可相关数据的函",
            "addressees": "示范市政务服务数据管理局",
            "body": "因监管工作需要，商请贵局协助提供本市食品经营许可相关数据。\n特此函商。",
            "signature": "示范市市场监督管理局",
        },
    )
    drafting.document_submit(actor=_fresh("officer"), document=waiting_check)

    # 3. supervised tasks
    supervisor = _fresh("szfb_u02c")
    task = supervised.task_create(
        actor=supervisor,
        title="完成政务服务事项目录认领和办事指南核对",
        requirement="按通知要求完成认领，每周五报送进展。",
        deadline=timezone.localdate() + dt.timedelta(days=20),
        owners=[market.pk, data_bureau.pk],
        lead_owner=market.pk,
        source_document=notice,
    )
    supervised.task_report(
        actor=_fresh("scj_u01c"),
        task=task,
        text="已完成登记注册类42项事项的认领，正在核对办事指南。",
        percent=40,
        completed=False,
    )
    overdue = supervised.task_create(
        actor=supervisor,
        title="报送政务服务好差评整改情况",
        requirement="对差评件逐件整改并报送整改报告。",
        deadline=timezone.localdate() + dt.timedelta(days=1),
        owners=[Department.objects.get(code="RSJ").pk],
        lead_owner=Department.objects.get(code="RSJ").pk,
        meeting="市政府第12次常务会议",
    )
    # its deadline has passed: the sweep marks it overdue and tells supervision
    type(overdue).objects.filter(pk=overdue.pk).update(
        deadline=timezone.localdate() - dt.timedelta(days=3)
    )
    swept = supervised.tasks_sweep()

    # 4. an earlier notice, archived
    earlier = drafting.document_create(
        actor=_fresh("szfb_u03c"),
        issuer_id=office.pk,
        values={
            "kind": "文件",
            "direction": "down",
            "issuer_code": "示范府办",
            "title": "示范市人民政府办公室关于印发政务服务“好差评”管理办法的通知",
            "addressees": "各区人民政府，市政府各部门",
            "body": (
                "《示范市政务服务“好差评”管理办法》已经市政府同意，现印发给你们，请认真贯彻执行。"
            ),
            "signature": "示范市人民政府办公室",
            "retention": Retention.PERMANENT,
        },
    )
    drafting.document_submit(actor=_fresh("szfb_u03c"), document=earlier)
    earlier = _flow_to_sealed(earlier, secretary="szfb_u01c", leader="szfb_d01")
    exchange.document_send(
        actor=_fresh("szfb_u01c"),
        document=earlier,
        recipients=[],
        groups=[districts_group.pk],
        message="",
        sign_within_hours=24,
    )
    earlier.refresh_from_db()
    archive.document_archive(
        actor=_fresh("szfb_u01c"), document=earlier, retention=Retention.PERMANENT
    )

    counts.update(
        {
            "documents": Document.objects.count(),
            "documents_distributed": Document.objects.filter(
                state__in=[DocumentState.DISTRIBUTED, DocumentState.ARCHIVED]
            ).count(),
            "supervised_tasks": 2,
            "supervised_tasks_overdue": int(swept.get("overdue", 0)),
        }
    )
    return counts
