"""The demo city's cases (办件): a year of history, and today's live cases.

Both parts are idempotent (a second run writes nothing):

- **History** (``History``): about 24,000 cases (``TONGBAN_DEMO_CASES``) submitted
  between 2025-12-01 and 2026-11-27 over the published items, every one finished by the
  end of that period, timed on the platform's working-day calendar (submitted in office
  hours on working days, more on Mondays and fewer in holiday weeks; accepted the same or
  the next working day; most decided early, a few on the last day, past the promised limit
  or past the legal one; some corrected, paused, extended, refused, not accepted or
  withdrawn; 即办件 decided on the spot; ~60% rated), plus a few hundred 企业开办 and
  新生儿出生 joint cases. The rows are written with ``bulk_create`` straight into the
  approvals tables (the services would take hours), keeping what the services keep: the
  case numbers and ``CaseCounter``, timeline rows with the working days used and left,
  notices, corrections, pauses, extensions, ratings and materials. History cases have no
  workflow instance (``process_instance_id`` is null: their page shows the timeline
  without a diagram) and publish NO events: supervision backfills a year from
  ``approvals.public`` instead of replaying ``approvals.case.*``. Their applicants are a
  pool of residents and enterprises created here (``resident0001`` …), besides a few
  cases of the printed citizen and agent. One audit entry marks the load.
- **Live** (``LiveCases``): ~45 cases written today through the real services (submit,
  correction, acceptance, review, special procedure, extension, decision, delivery,
  rating, joint bundles), with real PDF materials, so the printed clerk, officer and
  leader find work in their queue and inbox, and the citizen and agent find their cases
  in every state. Each carries an idempotency key ``demo-live-NN``; a key already present
  is skipped.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import os
import random
import time
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection, models, transaction
from django.utils import translation

from tongban.apps.approvals import services
from tongban.apps.approvals.clock import clock_compute
from tongban.apps.approvals.models import (
    TIMELINE_LABELS,
    ApplicantKind,
    Case,
    CaseCounter,
    CaseEvent,
    CaseMaterial,
    CaseState,
    CaseType,
    CorrectionRequest,
    DeliveryMethod,
    Extension,
    ExtensionState,
    Notice,
    NoticeKind,
    Outcome,
    Pause,
    PauseKind,
    Rating,
)
from tongban.apps.catalog import public as catalog
from tongban.apps.catalog.models import ServiceItem, VersionState
from tongban.demo import data
from tongban.demo.roles import grant_approvals_permissions
from tongban.platform.access.models import RoleAssignment, Scope
from tongban.platform.accounts.idnumbers import make_resident_id, make_uscc
from tongban.platform.accounts.models import AgentAuthorisation, LegalPerson, NaturalPerson, User
from tongban.platform.audit.models import AuditEntry
from tongban.platform.audit.services import audit_record
from tongban.platform.calendar.services import get_calendar
from tongban.platform.calendar.workdays import WorkCalendar
from tongban.platform.crypto.masking import mask_id_number, mask_phone
from tongban.platform.crypto.sm import lookup_hmac
from tongban.platform.files.services import file_store
from tongban.platform.orgs.models import Department, Division
from tongban.platform.pdf import render_notice

logger = logging.getLogger(__name__)

HISTORY_CASES_ENV = "TONGBAN_DEMO_CASES"
DEFAULT_HISTORY_CASES = 24000
TEST_HISTORY_CASES = 240  # TONGBAN_ENV=test: every demo test loads the city
HISTORY_FIRST = dt.date(2025, 12, 1)
HISTORY_LAST = dt.date(2026, 11, 27)
HISTORY_MARKER = "demo.approvals.history"
LIVE_KEY = "demo-live-{:02d}"
BEIJING = ZoneInfo("Asia/Shanghai")
OFFICIAL_LANGUAGE = "zh-hans"
RESIDENT_USERNAME = "resident{:04d}"
CITY_AREA = data.CITY[0]

# timing of a decided promised case against its promised limit (shares in %)
EARLY, LAST_DAY, LATE, LATE_LEGAL = "early", "last_day", "late", "late_legal"
TIMING_WEIGHTS = ((EARLY, 86.0), (LAST_DAY, 8.0), (LATE, 5.0), (LATE_LEGAL, 1.0))
TIMINGS = tuple(name for name, _share in TIMING_WEIGHTS)
# how a history case ends (shares of all cases, in %)
NOT_ACCEPTED_SHARE = 2.0
WITHDRAWN_SHARE = 1.0
REFUSED_SHARE = 2.0
REFUSED_WITHOUT_REASONS = 8  # of the refusals, in %: written without reasons
CORRECTION_SHARE = 8.5
SECOND_CORRECTION_SHARE = 1.0  # of the corrected ones, in tenths of all: ~0.8%
PAUSE_SHARE = 3.0
EXTENSION_SHARE = 2.0
RATED_SHARE = 60.0
RATING_WEIGHTS = ((5, 78.0), (4, 15.0), (3, 4.0), (2, 2.0), (1, 1.0))

# uneven demand: how much of the city's work each department sees (others: 0.4)
DEPARTMENT_WEIGHTS = {
    "GAJ": 14.0,
    "RSJ": 13.0,
    "SCJ": 12.0,
    "TSJ": 9.0,
    "BDC": 8.0,
    "GJJ": 7.0,
    "YBJ": 7.0,
    "MZJ": 6.0,
    "WJW": 5.0,
    "ZJJ": 4.0,
    "JTJ": 4.0,
    "990102-SCJ": 3.5,
    "990103-SCJ": 2.5,
    "990104-SCJ": 2.0,
    "990102-RSJ": 2.5,
    "990103-RSJ": 2.0,
    "990104-RSJ": 1.5,
    "990102-MZJ": 1.5,
    "990104-ZJJ": 1.0,
    "JYJ": 2.0,
    "WLJ": 1.5,
    "HJJ": 1.0,
    "ZRZYJ": 1.2,
    "SFJ": 0.8,
    "XFZD": 0.8,
    "CGJ": 0.7,
}
# disputes, rewards and internal powers are rare next to licences and certificates
ITEM_TYPE_WEIGHTS = {"adjudication": 0.05, "reward": 0.15, "other_power": 0.4}
MONTH_WEIGHTS = {1: 1.05, 2: 0.7, 3: 1.15, 4: 1.0, 5: 0.95, 6: 1.05, 7: 1.0, 8: 0.95}
WEEKDAY_WEIGHTS = (1.35, 1.1, 1.0, 0.95, 0.85, 0.6, 0.6)  # Monday … Sunday (make-up days)

REFUSAL_REASONS = (
    "经现场核查，经营场所与申请材料载明的情况不符，不符合法定条件。",
    "申请人提交的专业技术人员资格证明不符合规定要求。",
    "申请人未能提供符合要求的安全管理制度和应急预案，不符合法定条件。",
    "经核查，申请人存在尚未履行完毕的行政处罚决定，依法不予许可。",
    "经审查，申请事项不符合国土空间规划和用途管制要求。",
)
NOT_ACCEPTED_REASONS = (
    "申请事项依法不需要取得行政许可。",
    "申请事项不属于本机关职权范围，请向有权机关申请。",
    "申请人不具备申请资格。",
    "申请人隐瞒有关情况、提供虚假材料，依法不予受理。",
)
NOT_ACCEPTED_AFTER_CORRECTION = "申请人未在规定期限内补正全部材料，申请材料仍不符合法定形式。"
CORRECTION_REASONS = (
    "未加盖单位公章",
    "复印件不清晰，无法辨认",
    "缺少法定代表人签字",
    "证明文件已过有效期",
    "内容填写不完整",
    "与原件核对不一致",
)
WITHDRAW_REASONS = ("申请人主动撤回申请", "经营计划调整，申请撤回", "已通过其他途径办理，申请撤回")
REVIEW_OPINION = "经审查，申请材料齐全、符合法定形式，申请人符合法定条件，拟同意，报请领导审批。"
REFUSAL_OPINION = "经审查，申请人不符合法定条件，拟不予许可，报请领导审批。"
PAUSE_REASONS = {
    PauseKind.EXPERT_REVIEW: (
        "申请事项技术性较强，需组织专家进行技术评审。",
        "专家评审意见：符合要求。",
    ),
    PauseKind.INSPECTION: ("需对生产条件和设施设备进行现场检验。", "现场检验合格。"),
    PauseKind.TESTING: ("需委托法定检测机构对样品进行检测。", "检测报告结论：合格。"),
    PauseKind.APPRAISAL: ("需对申请材料所涉技术事项进行鉴定。", "鉴定意见已出具。"),
    PauseKind.HEARING: (
        "申请事项直接涉及他人重大利益，依法组织听证。",
        "听证已结束，听证笔录已归档。",
    ),
}
DEFAULT_PAUSE = [PauseKind.EXPERT_REVIEW]
PAUSE_KINDS = {
    "licensing": [PauseKind.EXPERT_REVIEW, PauseKind.INSPECTION, PauseKind.TESTING],
    "adjudication": [PauseKind.HEARING, PauseKind.APPRAISAL],
    "confirmation": [PauseKind.APPRAISAL, PauseKind.EXPERT_REVIEW],
}
EXTENSION_REASON = "申请事项情况复杂，需进一步现场核查"
RATING_COMMENTS = {
    5: ("", "", "办事效率高，一次办成", "窗口工作人员热情耐心", "网上办理很方便，不用跑腿"),
    4: ("", "流程清楚，等待时间稍长", "服务不错，材料清单可以再简化"),
    3: ("材料要求说明可以更清楚", "排队时间较长"),
    2: ("补正告知不够清楚，来回跑了两次", "办理时间比承诺的长"),
    1: ("等待时间太长，咨询电话一直打不通", "窗口人员态度生硬"),
}
PAPER_MATERIAL = "窗口收取纸质材料，已核验归档"
ONLINE_MATERIAL = "网上提交的电子材料，已核验归档"
# two-character trade names (字号), read two by two
_WORDS = (
    "华信恒通瑞丰嘉禾宏远鼎盛汇通金桥锦程康泰利民隆盛明辉宁远鹏程启航荣昌盛世顺达泰和"
    "同创万福祥瑞新源兴业益丰永安裕华卓越众合智联博远诚信东方丰泽国安海纳和畅红星华瑞"
    "佳和锦华凯达蓝天龙腾美佳南方普惠青松润泽三和天成旺达鑫源亚泰远航云帆正大志诚中和"
)
ENTERPRISE_WORDS = tuple(_WORDS[index : index + 2] for index in range(0, len(_WORDS), 2))
ENTERPRISE_TRADES = (
    "科技",
    "商贸",
    "餐饮管理",
    "建筑工程",
    "物流",
    "食品",
    "医药",
    "电子",
    "文化传媒",
    "农业发展",
    "家政服务",
    "装饰工程",
    "信息技术",
    "机械制造",
    "汽车服务",
    "教育咨询",
    "环保科技",
    "物业管理",
    "旅游开发",
    "新能源",
)


def history_size() -> int:
    """How many history cases to write: ``TONGBAN_DEMO_CASES``, else 24,000 (240 under
    ``TONGBAN_ENV=test``, where every demo test loads the city)."""
    raw = os.environ.get(HISTORY_CASES_ENV, "").strip()
    if raw:
        return max(0, int(raw))
    if "test" in (os.environ.get("TONGBAN_ENV"), getattr(settings, "TONGBAN_ENV", "")):
        return TEST_HISTORY_CASES
    return DEFAULT_HISTORY_CASES


# ----------------------------------------------------------------------------- the staff


def scope_case_handlers() -> None:
    """Give the window clerks and the printed officer a data scope cases can express.

    A case reaches the organisation tree through its department (``access.CASE_SCOPE``):
    a unit-scoped grant opens no case. The centre's comprehensive-window clerks (the
    printed ``clerk`` and ``zxck01``…) accept for every department of the city, so they
    are scoped to the city's division; the printed ``officer`` reviews for the whole
    market regulator (the workflow puts its tasks in the inbox of everyone posted there),
    so they are scoped to that department.
    """
    city = Division.objects.filter(code=CITY_AREA).first()
    market = Department.objects.filter(code="SCJ").first()
    if city is None or market is None:
        return
    clerks = ["clerk", *(f"zxck{number:02d}" for number in range(1, 21))]
    RoleAssignment.objects.filter(
        user__username__in=clerks, role__code="window_clerk", scope=Scope.UNIT
    ).update(scope=Scope.DIVISION, division=city, unit=None, department=None)
    RoleAssignment.objects.filter(
        user__username="officer", role__code="department_officer", scope=Scope.UNIT_TREE
    ).update(scope=Scope.DEPARTMENT, department=market, unit=None, division=None)


def _prefix(department_code: str) -> str:
    return department_code.lower().replace("-", "")


class _Staff:
    """Who handles a department's cases in the history (existing demo staff)."""

    def __init__(self, departments: Sequence[Department]) -> None:
        names: set[str] = {"clerk", "officer", "leader"}
        names.update(f"zxck{number:02d}" for number in range(1, 21))
        for department in departments:
            prefix = _prefix(department.code)
            names.update(
                f"{prefix}_{suffix}" for suffix in ("d01", "d02", "u03c", "u03s1", "u03s2")
            )
        self.users = {user.username: user for user in User.objects.filter(username__in=names)}
        self.windows: dict[int, list[User]] = {}
        self.officers: dict[int, list[User]] = {}
        self.leaders: dict[int, list[User]] = {}
        centre = self._found(["clerk", *(f"zxck{number:02d}" for number in range(1, 21))])
        for department in departments:
            prefix = _prefix(department.code)
            officers = self._found([f"{prefix}_u03c", f"{prefix}_u03s1", f"{prefix}_u03s2"])
            leaders = self._found([f"{prefix}_d01", f"{prefix}_d02"])
            if department.code == "SCJ":
                officers = self._found(["officer"]) + officers
                leaders = self._found(["leader"]) + leaders
            self.officers[department.pk] = officers or centre
            self.leaders[department.pk] = leaders or officers or centre
            is_city = department.division.code == CITY_AREA
            self.windows[department.pk] = (centre if is_city else officers[-1:]) or centre

    def _found(self, names: Sequence[str]) -> list[User]:
        return [self.users[name] for name in names if name in self.users]


# ----------------------------------------------------------------------------- the items


@dataclass(frozen=True)
class _Item:
    item_id: int
    version_id: int
    name: str
    implementation_code: str
    item_type: str
    result_name: str
    case_type: str
    legal: int
    promised: int
    special: tuple[str, ...]
    steps: tuple[tuple[str, int], ...]
    department: Department
    for_persons: bool
    for_legal: bool
    materials: tuple[tuple[str, bool, str], ...]  # name, required, source
    delivery: tuple[str, ...]
    online_depth: int

    @property
    def review_steps(self) -> list[str]:
        return [name for name, _days in self.steps if services._step_role(name) == "review"]


def _published_items() -> dict[int, _Item]:
    """The items a case can be opened on: published, active, not a parent of handling items."""
    items = (
        ServiceItem.objects.filter(is_active=True, current__state=VersionState.PUBLISHED)
        .exclude(children__is_active=True)
        .select_related("current", "department__division")
        .prefetch_related("current__steps", "current__materials")
        .order_by("pk")
    )
    found = {}
    for item in items:
        version = item.current
        assert version is not None
        found[item.pk] = _Item(
            item_id=item.pk,
            version_id=version.pk,
            name=version.name,
            implementation_code=item.implementation_code,
            item_type=version.item_type,
            result_name=version.result_name,
            case_type=version.case_type,
            legal=version.legal_limit_days,
            promised=version.promised_limit_days,
            special=tuple(version.special_procedures),
            steps=tuple((step.name, step.days) for step in sorted(version.steps.all(), key=_order)),
            department=item.department,
            for_persons=version.for_natural_persons,
            for_legal=version.for_legal_persons,
            materials=tuple(
                (material.name, material.is_required and not material.condition, material.source)
                for material in sorted(version.materials.all(), key=_order)
            ),
            delivery=tuple(
                method for method in version.delivery_methods if method in DeliveryMethod.values
            )
            or (DeliveryMethod.COLLECT,),
            online_depth=version.online_depth,
        )
    return found


def _order(row: Any) -> tuple[int, int]:
    return (row.order, row.pk)


# ----------------------------------------------------------------------------- applicants


@dataclass(frozen=True)
class _Applicant:
    user: User
    name: str
    phone: str
    legal_person: LegalPerson | None = None
    agent_name: str = ""


def _phone(rng: random.Random) -> str:
    return f"1{rng.choice('3578')}{rng.randint(0, 9)}{rng.randint(0, 99999999):08d}"


def _enterprise_name(rng: random.Random, used: set[str]) -> str:
    while True:
        district = rng.choice(data.DISTRICTS)[1]
        name = (
            f"示范市{district[:2] if rng.random() < 0.3 else ''}{rng.choice(ENTERPRISE_WORDS)}"
            f"{rng.choice(ENTERPRISE_TRADES)}{rng.choice(('有限公司', '有限公司', '股份有限公司'))}"
        )
        if name not in used:
            used.add(name)
            return name


def _population(
    rng: random.Random, residents: int, enterprises: int
) -> tuple[list[_Applicant], list[_Applicant]]:
    """The history's applicants: residents with accounts, and enterprises each with one
    of them as its authorised agent (created once; found again on a second run)."""
    password = User.objects.filter(username="citizen").values_list("password", flat=True).first()
    areas = [code[:6] for code, _name, _towns in data.DISTRICTS]
    existing = {
        user.username: user
        for user in User.objects.filter(username__startswith="resident").select_related("person")
    }
    people: list[NaturalPerson] = []
    planned: list[tuple[str, str, str]] = []
    for index in range(1, residents + 1):
        username = RESIDENT_USERNAME.format(index)
        name = rng.choice(data.SURNAMES) + "".join(
            rng.choice(data.GIVEN) for _ in range(rng.choice((1, 2, 2)))
        )
        phone = _phone(rng)
        birth = dt.date(1950 + index % 55, 1 + (index * 7) % 12, 1 + (index * 13) % 28)
        number = make_resident_id(areas[index % 3], birth, 200 + index % 797)
        planned.append((username, name, phone))
        if username in existing:
            continue
        people.append(
            NaturalPerson(
                name=name,
                id_number=number,
                id_number_hmac=lookup_hmac(number, purpose="person.id_number"),
                id_number_masked=mask_id_number(number),
                birth_date=birth,
                gender="M" if int(number[16]) % 2 else "F",
                mobile=phone,
                mobile_masked=mask_phone(phone),
            )
        )
    NaturalPerson.objects.bulk_create(people)
    by_name = iter(people)
    new_users = []
    for username, name, phone in planned:
        if username in existing:
            continue
        user = User(
            username=username,
            display_name=name,
            kind="public",
            password=password or "!",
            person=next(by_name),
        )
        user.set_mobile(phone)
        new_users.append(user)
    User.objects.bulk_create(new_users)
    users = {
        user.username: user
        for user in User.objects.filter(username__startswith="resident").select_related("person")
    }
    persons = [
        _Applicant(
            user=users[username],
            name=users[username].display_name,
            phone=str(users[username].mobile or phone) if username in existing else phone,
        )
        for username, _name, phone in planned
        if username in users
    ]
    # enterprises, each with a resident as its agent
    used = set(LegalPerson.objects.values_list("name", flat=True))
    legal_people: list[tuple[LegalPerson, _Applicant]] = []
    for index in range(enterprises):
        agent = persons[(index * 7) % len(persons)] if persons else None
        if agent is None:
            break
        area = areas[index % 3]
        seeded = random.Random(f"history-enterprise-{index}")  # noqa: S311 - demo data
        code = "".join(seeded.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(9))
        uscc = make_uscc("9", "1", area, code)
        legal_people.append(
            (
                LegalPerson(
                    uscc=uscc,
                    name=_enterprise_name(rng, used),
                    kind="enterprise",
                    legal_representative=agent.name,
                    legal_representative_person=agent.user.person,
                    address=f"示范市{data.DISTRICTS[index % 3][1]}{rng.choice(ENTERPRISE_WORDS)}路"
                    f"{rng.randint(1, 300)}号",
                    registered_on=dt.date(2005 + index % 20, 1 + index % 12, 1 + index % 28),
                ),
                agent,
            )
        )
    known = {
        legal.uscc: legal
        for legal in LegalPerson.objects.filter(uscc__in=[lp.uscc for lp, _ in legal_people])
    }
    LegalPerson.objects.bulk_create([lp for lp, _ in legal_people if lp.uscc not in known])
    known = {
        legal.uscc: legal
        for legal in LegalPerson.objects.filter(uscc__in=[lp.uscc for lp, _ in legal_people])
    }
    authorised = set(
        AgentAuthorisation.objects.filter(
            legal_person__in=known.values(), revoked_at__isnull=True
        ).values_list("agent_id", "legal_person_id")
    )
    AgentAuthorisation.objects.bulk_create(
        [
            AgentAuthorisation(
                agent=agent.user, legal_person=known[lp.uscc], valid_from=dt.date(2025, 1, 1)
            )
            for lp, agent in legal_people
            if (agent.user.pk, known[lp.uscc].pk) not in authorised
        ]
    )
    companies = [
        _Applicant(
            user=agent.user,
            name=known[lp.uscc].name,
            phone=agent.phone,
            legal_person=known[lp.uscc],
            agent_name=agent.name,
        )
        for lp, agent in legal_people
    ]
    return persons, companies


def _printed_applicants() -> tuple[_Applicant | None, list[_Applicant]]:
    """The printed citizen, and the printed agent for each enterprise they act for."""
    citizen = User.objects.filter(username="citizen").select_related("person").first()
    agent = User.objects.filter(username="agent").first()
    person = None
    if citizen is not None:
        person = _Applicant(
            user=citizen,
            name=citizen.person.name if citizen.person else citizen.display_name,
            phone=str(citizen.mobile or "13800000000"),
        )
    companies = []
    if agent is not None:
        for authorisation in (
            AgentAuthorisation.objects.filter(agent=agent, revoked_at__isnull=True)
            .select_related("legal_person")
            .order_by("legal_person_id")
        ):
            companies.append(
                _Applicant(
                    user=agent,
                    name=authorisation.legal_person.name,
                    phone=str(agent.mobile or "13800000001"),
                    legal_person=authorisation.legal_person,
                    agent_name=agent.display_name,
                )
            )
    return person, companies


# ----------------------------------------------------------------------------- history


@dataclass
class _Plan:
    submitted_at: dt.datetime
    item: _Item | None  # None: a joint parent
    applicant: _Applicant | None = None
    bundle: catalog.BundleInfo | None = None
    lead: Department | None = None
    children: list[_Plan] = field(default_factory=list)
    number: str = ""


@dataclass
class _Row:
    """One timeline row before its working-day figures are known."""

    verb: str
    at: dt.datetime
    actor: User | None
    state_from: str
    state_to: str
    step_name: str = ""
    note: str = ""


@dataclass
class _Material:
    """One ``CaseMaterial`` row before it is written."""

    name: str
    is_required: bool
    source: str
    reference: str
    created_at: dt.datetime
    round: int = 0
    is_current: bool = True
    is_checked: bool = False
    checked_by: User | None = None
    checked_at: dt.datetime | None = None


@dataclass
class _Built:
    case: Case
    rows: list[_Row] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    corrections: list[CorrectionRequest] = field(default_factory=list)
    pauses: list[Pause] = field(default_factory=list)
    extensions: list[Extension] = field(default_factory=list)
    materials: list[_Material] = field(default_factory=list)
    rating: Rating | None = None
    timing: str = ""

    @property
    def end(self) -> dt.datetime:
        return max(row.at for row in self.rows)


@contextmanager
def _kept_timestamps(*model_classes: type[models.Model]) -> Iterator[None]:
    """Let ``bulk_create`` keep the historic ``created_at``/``updated_at`` given on each
    row (``auto_now``/``auto_now_add`` would stamp the loading time)."""
    touched = [
        (found, found.auto_now, found.auto_now_add)
        for model_class in model_classes
        for found in model_class._meta.concrete_fields
        if isinstance(found, models.DateTimeField) and (found.auto_now or found.auto_now_add)
    ]
    for found, _now, _add in touched:
        found.auto_now = found.auto_now_add = False
    try:
        yield
    finally:
        for found, now, add in touched:
            found.auto_now, found.auto_now_add = now, add


def _label(verb: str) -> str:
    with translation.override(OFFICIAL_LANGUAGE):
        return str(TIMELINE_LABELS.get(verb, verb))


def _appeal_rights(department_name: str) -> str:
    with translation.override(OFFICIAL_LANGUAGE):
        return services.appeal_rights_default(department_name)


@functools.cache
def _labels() -> dict[str, str]:
    """Every timeline verb's stored (Chinese) label."""
    return {verb: _label(verb) for verb in TIMELINE_LABELS}


EVENT_COLUMNS = (
    "case_id",
    "verb",
    "label",
    "actor_id",
    "actor_label",
    "occurred_at",
    "state_from",
    "state_to",
    "step_name",
    "note",
    "working_days_used",
    "working_days_left",
)
MATERIAL_COLUMNS = (
    "case_id",
    "name",
    "is_required",
    "source",
    "file_id",
    "reference",
    "round",
    "is_current",
    "is_checked",
    "checked_by_id",
    "checked_at",
    "created_at",
)


def _insert(
    model: type[models.Model], columns: Sequence[str], rows: Iterable[tuple[Any, ...]]
) -> None:
    """A plain multi-row INSERT of values already in database form (ids, strings,
    numbers, booleans, datetimes through ``adapt_datetimefield_value``).

    Used for the two largest history tables (timeline rows and materials: ~250,000 rows
    for a year), where ``bulk_create`` spends ~80 µs a row in Django preparing each value
    and this ``executemany`` ~6 µs (30,000 timeline rows on SQLite: 2.5 s against 0.17 s),
    which brings the year of history from ~47 s to ~20 s. The other tables go through
    ``bulk_create`` (their ids are needed, or they are small). Every column is checked
    against the model, so a renamed field fails here instead of writing garbage.
    """
    known = {found.column for found in model._meta.concrete_fields}
    missing = [column for column in columns if column not in known]
    if missing:
        raise ValueError(f"{model.__name__} has no column {missing}")
    quote = connection.ops.quote_name
    # table and column names come from the model (checked above), values are parameters
    table = quote(model._meta.db_table)
    names = ", ".join(quote(column) for column in columns)
    marks = ", ".join(["%s"] * len(columns))
    sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"  # noqa: S608
    batch: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        for row in rows:
            batch.append(row)
            if len(batch) >= 5000:
                cursor.executemany(sql, batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)


NOTICE_CODES = {
    NoticeKind.ACCEPTANCE: "SL",
    NoticeKind.NOT_ACCEPTED: "BSL",
    NoticeKind.CORRECTION: "BZ",
    NoticeKind.SPECIAL_PROCEDURE: "TB",
    NoticeKind.EXTENSION: "YQ",
    NoticeKind.APPROVAL: "ZY",
    NoticeKind.REFUSAL: "BY",
    NoticeKind.RETURNED: "TJ",
}
NOTICE_TITLES = {
    NoticeKind.ACCEPTANCE: "受理通知书",
    NoticeKind.NOT_ACCEPTED: "不予受理决定书",
    NoticeKind.CORRECTION: "补正材料告知书",
    NoticeKind.SPECIAL_PROCEDURE: "特别程序告知书",
    NoticeKind.EXTENSION: "延长审查期限告知书",
    NoticeKind.APPROVAL: "准予许可决定书",
    NoticeKind.REFUSAL: "不予许可决定书",
}


class History:
    """Writes ``size`` finished cases of the past year in bulk (see the module's doc)."""

    def __init__(self, size: int, *, seed: int = 2026) -> None:
        self.size = size
        self.rng = random.Random(seed)  # noqa: S311 - deterministic demo data
        self.calendar: WorkCalendar = get_calendar()
        self.cutoff = dt.datetime.combine(HISTORY_LAST, dt.time(23, 59), tzinfo=BEIJING)

    # ------------------------------------------------------------------ calendar helpers

    def add(self, day: dt.date, days: int) -> dt.date:
        return self.calendar.add_working_days(day, days) if days else day

    def _minute(self) -> int:
        if self.rng.random() < 0.58:
            return self.rng.randint(540, 719)  # 9:00-12:00
        return self.rng.randint(810, 1019)  # 13:30-17:00

    def at(
        self, day: dt.date, after: dt.datetime | None = None, gap: tuple[int, int] = (5, 120)
    ) -> dt.datetime:
        """A moment in office hours on ``day``, later than ``after`` (on the same day,
        ``gap`` minutes later at least, running into the evening when it must)."""
        minute = self._minute()
        if after is not None:
            local = after.astimezone(BEIJING)
            if local.date() == day:
                earliest = local.hour * 60 + local.minute + self.rng.randint(*gap)
                minute = max(minute, min(earliest, 1439))
        moment = dt.datetime.combine(
            day, dt.time(minute // 60, minute % 60, self.rng.randint(0, 59)), tzinfo=BEIJING
        )
        if after is not None and moment <= after:
            moment = after + dt.timedelta(seconds=self.rng.randint(20, 90))
        return moment

    def day_of(self, moment: dt.datetime) -> dt.date:
        return moment.astimezone(BEIJING).date()

    def pick(self, weighted: Sequence[tuple[Any, float]]) -> Any:
        values = [value for value, _weight in weighted]
        return self.rng.choices(values, weights=[weight for _v, weight in weighted])[0]

    def chance(self, percent: float) -> bool:
        return self.rng.random() * 100 < percent

    # ------------------------------------------------------------------ planning

    def workdays(self) -> list[tuple[dt.date, float]]:
        """The history's working days with their relative demand."""
        holiday_weeks = set()
        day = HISTORY_FIRST - dt.timedelta(days=7)
        while day <= HISTORY_LAST + dt.timedelta(days=7):
            if day.weekday() < 5 and not self.calendar.is_workday(day):
                holiday_weeks.add(day.isocalendar()[:2])
            day += dt.timedelta(days=1)
        days = []
        day = HISTORY_FIRST
        while day <= HISTORY_LAST:
            if self.calendar.is_workday(day):
                weight = WEEKDAY_WEIGHTS[day.weekday()] * MONTH_WEIGHTS.get(day.month, 1.0)
                if day.isocalendar()[:2] in holiday_weeks:
                    weight *= 0.7
                if day.month == 12 and day.day >= 15:
                    weight *= 1.1  # year-end rush
                days.append((day, weight))
            day += dt.timedelta(days=1)
        return days

    def item_weights(self, items: Sequence[_Item]) -> list[float]:
        """Uneven demand: department weights, then a Zipf-like curve over its items."""
        by_department: dict[int, list[_Item]] = defaultdict(list)
        for item in items:
            by_department[item.department.pk].append(item)
        weights: dict[int, float] = {}
        for members in by_department.values():
            order = list(members)
            self.rng.shuffle(order)
            curve = [1.0 / (rank**1.05) for rank in range(1, len(order) + 1)]
            total = sum(curve)
            base = DEPARTMENT_WEIGHTS.get(members[0].department.code, 0.4)
            for item, share in zip(order, curve, strict=True):
                boost = 1.4 if item.case_type == CaseType.INSTANT else 1.0
                boost *= ITEM_TYPE_WEIGHTS.get(item.item_type, 1.0)
                if item.promised >= 30:  # long procedures are rare ones
                    boost *= 0.3
                weights[item.item_id] = base * boost * share / total
        return [weights[item.item_id] for item in items]

    def plans(
        self,
        items: dict[int, _Item],
        persons: list[_Applicant],
        companies: list[_Applicant],
        printed: tuple[_Applicant | None, list[_Applicant]],
    ) -> list[_Plan]:
        days = self.workdays()
        day_values = [day for day, _w in days]
        day_weights = [weight for _d, weight in days]
        bundles = [
            found
            for found in (catalog.bundle("business-startup"), catalog.bundle("newborn"))
            if found is not None and all(item in items for item in found.item_ids)
        ]
        joint_counts = {"business-startup": 0.0085, "newborn": 0.0055}
        joints: list[tuple[catalog.BundleInfo, int]] = [
            (found, max(1, round(self.size * joint_counts.get(found.code, 0.005))))
            for found in bundles
        ]
        children = sum(len(found.item_ids) * count for found, count in joints)
        singles = max(0, self.size - children) if self.size else 0
        if not self.size:
            return []
        chosen = list(items.values())
        picked = self.rng.choices(chosen, weights=self.item_weights(chosen), k=singles)
        moments = [
            self.at(day) for day in self.rng.choices(day_values, weights=day_weights, k=singles)
        ]
        plans = []
        person_plans: list[_Plan] = []
        company_plans: list[_Plan] = []
        for item, moment in zip(picked, moments, strict=True):
            as_person = item.for_persons and (not item.for_legal or self.rng.random() < 0.55)
            pool = persons if as_person or not companies else companies
            plan = _Plan(submitted_at=moment, item=item, applicant=self.rng.choice(pool))
            (person_plans if pool is persons else company_plans).append(plan)
            plans.append(plan)
        # the printed citizen and agent have a few cases of their own in the past year
        citizen, agent_companies = printed
        if citizen is not None and person_plans:
            for plan in person_plans[:: max(1, len(person_plans) // 6)][:6]:
                plan.applicant = citizen
        if agent_companies and company_plans:
            step = max(1, len(company_plans) // 9)
            for index, plan in enumerate(company_plans[::step][:9]):
                plan.applicant = agent_companies[index % len(agent_companies)]
        lead_departments = {
            department.code: department
            for department in Department.objects.select_related("division").filter(
                code__in=[found.lead_department_code for found, _count in joints]
            )
        }
        for found, count in joints:
            lead = lead_departments.get(found.lead_department_code)
            if lead is None:
                continue
            pool = companies if found.code == "business-startup" and companies else persons
            for day in self.rng.choices(day_values, weights=day_weights, k=count):
                moment = self.at(day)
                applicant = self.rng.choice(pool)
                parent = _Plan(
                    submitted_at=moment, item=None, applicant=applicant, bundle=found, lead=lead
                )
                parent.children = [
                    _Plan(submitted_at=moment, item=items[item_id], applicant=applicant)
                    for item_id in found.item_ids
                ]
                plans.append(parent)
        plans.sort(key=lambda plan: plan.submitted_at)
        return plans

    def number(self, plans: list[_Plan]) -> list[CaseCounter]:
        """Case numbers in submission order, per area and day (the services' scheme),
        continuing any counter already there; returns the counters to write."""
        first = HISTORY_FIRST
        existing = {
            (counter.area_code, counter.day): counter
            for counter in CaseCounter.objects.filter(day__gte=first, day__lte=HISTORY_LAST)
        }
        last: dict[tuple[str, dt.date], int] = {
            key: counter.last for key, counter in existing.items()
        }

        def take(department: Department, moment: dt.datetime) -> str:
            key = (department.division.code, self.day_of(moment))
            last[key] = last.get(key, 0) + 1
            return f"{key[0]}{key[1]:%Y%m%d}{last[key]:06d}"

        for plan in plans:
            if plan.item is None:
                assert plan.lead is not None
                plan.number = take(plan.lead, plan.submitted_at)
                for child in plan.children:
                    assert child.item is not None
                    child.number = take(child.item.department, child.submitted_at)
            else:
                plan.number = take(plan.item.department, plan.submitted_at)
        counters = []
        for (area, day), serial in last.items():
            counter = existing.get((area, day))
            if counter is None:
                counters.append(CaseCounter(area_code=area, day=day, last=serial))
            elif counter.last != serial:
                counter.last = serial
                counter.save(update_fields=["last"])
        return counters

    # ------------------------------------------------------------------ one case

    def new_case(self, plan: _Plan, item: _Item, parent: Case | None) -> Case:
        applicant = plan.applicant
        assert applicant is not None
        department = item.department
        return Case(
            number=plan.number,
            state=CaseState.SUBMITTED,
            item_id=item.item_id,
            item_version_id=item.version_id,
            bundle_code=parent.bundle_code if parent is not None else "",
            item_name=item.name,
            implementation_code=item.implementation_code,
            item_type=item.item_type,
            result_name=item.result_name,
            case_type=item.case_type,
            legal_limit_days=item.legal,
            promised_limit_days=item.promised,
            special_procedures=list(item.special),
            process_steps=[[name, days] for name, days in item.steps],
            department=department,
            department_code=department.code,
            department_name=department.name,
            department_path=department.path,
            division_path=department.division_path,
            parent=parent,
            applicant=applicant.user,
            applicant_kind=(
                ApplicantKind.LEGAL_PERSON
                if applicant.legal_person
                else ApplicantKind.NATURAL_PERSON
            ),
            legal_person=applicant.legal_person,
            applicant_name=applicant.name,
            agent_name=applicant.agent_name,
            contact_phone=applicant.phone,
            contact_phone_masked=mask_phone(applicant.phone),
            submitted_at=plan.submitted_at,
            created_at=plan.submitted_at,
        )

    def notice(
        self,
        built: _Built,
        kind: str,
        moment: dt.datetime,
        paragraphs: list[str],
        fields: Sequence[tuple[str, str]] = (),
    ) -> Notice:
        case = built.case
        sequence = 1 + sum(1 for notice in built.notices if notice.kind == kind)
        notice = Notice(
            case=case,
            kind=kind,
            number=f"{case.number}-{NOTICE_CODES[NoticeKind(kind)]}{sequence:02d}",
            title=NOTICE_TITLES[NoticeKind(kind)],
            issuer=case.department_name,
            recipient=case.applicant_name,
            paragraphs=paragraphs,
            fields=[[label, value] for label, value in fields],
            issued_on=self.day_of(moment),
            created_at=moment,
        )
        built.notices.append(notice)
        return notice

    def materials(self, built: _Built, item: _Item) -> None:
        """The version's materials as handed in (checked at acceptance, see ``accept``)."""
        case = built.case
        assert case.submitted_at is not None
        online = item.online_depth >= 3 and self.rng.random() < 0.6
        for name, required, source in item.materials:
            if not required and self.rng.random() < 0.7:
                continue
            shared = source in ("shared", "elicence")
            built.materials.append(
                _Material(
                    name=name,
                    is_required=required,
                    source=source if shared else "applicant",
                    reference="" if shared else (ONLINE_MATERIAL if online else PAPER_MATERIAL),
                    created_at=case.submitted_at,
                )
            )

    def before_acceptance(
        self,
        built: _Built,
        item: _Item | None,
        window: User,
        *,
        fast: bool,
        children: Sequence[tuple[_Built, _Item]] = (),
    ) -> dt.datetime:
        """收件 and up to two correction rounds (ONE notice each, on the parent of a joint
        application, naming the child's item); returns the last moment."""
        case = built.case
        moment = case.submitted_at
        assert moment is not None
        members = [*(child for child, _item in children), built]
        for member in members:
            member.rows.append(
                _Row(
                    "submitted", moment, member.case.applicant, CaseState.DRAFT, CaseState.SUBMITTED
                )
            )
        if fast or not self.chance(CORRECTION_SHARE):
            return moment
        # (the child it concerns or None, the item's name for the notice, the material)
        options: list[tuple[_Built | None, str, str]] = [
            (child, child_item.name, name)
            for child, child_item in children
            for name, required, source in child_item.materials
            if required and source not in ("shared", "elicence")
        ]
        if item is not None:
            options += [
                (None, "", name)
                for name, required, source in item.materials
                if required and source not in ("shared", "elicence")
            ]
        options = options or [(None, "", services.FORM_MATERIAL)]
        rounds = 2 if self.chance(SECOND_CORRECTION_SHARE * 10) else 1
        for sequence in range(1, rounds + 1):
            day = self.day_of(moment)
            asked_on = day if self.rng.random() < 0.7 else self.add(day, self.rng.randint(1, 4))
            asked = self.at(asked_on, moment)
            flagged = self.rng.sample(options, k=min(len(options), self.rng.randint(1, 2)))
            listing = [(*option, self.rng.choice(CORRECTION_REASONS)) for option in flagged]
            detail = "；".join(f"{name}（{reason}）" for _c, _i, name, reason in listing)
            notice = self.notice(
                built,
                NoticeKind.CORRECTION,
                asked,
                [
                    f"你（单位）于 {self.day_of(case.submitted_at or asked).isoformat()} 提出的"
                    f"“{case.item_name}”申请，经审查，申请材料不齐全或者不符合法定形式。根据"
                    "《中华人民共和国行政许可法》第三十二条的规定，现一次性告知需要补正的全部内容如下：",
                    *(
                        f"{index}. {f'{item_name}：' if item_name else ''}{name} —— {reason}"
                        for index, (_c, item_name, name, reason) in enumerate(listing, 1)
                    ),
                    "请补齐上述材料后重新提交，补正期间不计入办理时限。",
                ],
                [("办件编号", case.number), ("第几次补正", str(sequence))],
            )
            answered = self.at(self.add(self.day_of(asked), self.rng.randint(1, 8)), asked)
            built.corrections.append(
                CorrectionRequest(
                    case=case,
                    sequence=sequence,
                    items=[
                        {
                            "material": name,
                            "reason": reason,
                            "item_id": child.case.item_id if child is not None else None,
                        }
                        for child, _item_name, name, reason in listing
                    ],
                    requested_by=window,
                    opened_at=asked,
                    answered_at=answered,
                    answer_note="已按告知内容补齐材料",
                    notice=notice,
                )
            )
            for member in members:
                member.rows.append(
                    _Row(
                        "correction_requested",
                        asked,
                        window,
                        CaseState.SUBMITTED,
                        CaseState.CORRECTION,
                        note=detail if member is built else "",
                    )
                )
                member.rows.append(
                    _Row(
                        "correction_answered",
                        answered,
                        case.applicant,
                        CaseState.CORRECTION,
                        CaseState.SUBMITTED,
                    )
                )
            for child, _item_name, name, _reason in listing:
                self.resubmitted(child or built, name, sequence, answered)
            moment = answered
        return moment

    def resubmitted(self, built: _Built, name: str, sequence: int, moment: dt.datetime) -> None:
        """The corrected material: a new current row of round ``sequence``."""
        for material in built.materials:
            if material.name == name and material.is_current:
                material.is_current = False
                built.materials.append(
                    _Material(
                        name=name,
                        is_required=material.is_required,
                        source=material.source,
                        reference=material.reference,
                        created_at=moment,
                        round=sequence,
                    )
                )
                return

    def end_before_acceptance(
        self,
        built: _Built,
        children: list[_Built],
        moment: dt.datetime,
        window: User,
        *,
        withdraw: bool,
    ) -> None:
        case = built.case
        corrected = bool(built.corrections)
        day = self.day_of(moment)
        ended = self.at(day if self.rng.random() < 0.6 else self.add(day, 1), moment)
        if withdraw:
            reason = self.rng.choice(WITHDRAW_REASONS)
            verb, state, actor = "withdrawn", CaseState.WITHDRAWN, case.applicant
        else:
            reason = (
                NOT_ACCEPTED_AFTER_CORRECTION
                if corrected and self.rng.random() < 0.6
                else self.rng.choice(NOT_ACCEPTED_REASONS)
            )
            verb, state, actor = "not_accepted", CaseState.NOT_ACCEPTED, window
            self.notice(
                built,
                NoticeKind.NOT_ACCEPTED,
                ended,
                [
                    f"你（单位）于 {self.day_of(case.submitted_at or ended).isoformat()} 提出的"
                    f"“{case.item_name}”申请，因下列理由不予办理：",
                    reason,
                    _appeal_rights(case.department_name),
                ],
                [("办件编号", case.number)],
            )
        for member in (*children, built):
            member.case.state = state
            member.case.ended_at = ended
            member.case.end_reason = reason
            member.rows.append(
                _Row(verb, ended, actor, CaseState.SUBMITTED, state, note=reason, step_name="")
            )

    def accept(
        self, built: _Built, moment: dt.datetime, window: User, *, fast: bool, instant: bool
    ) -> dt.datetime:
        day = self.day_of(moment)
        if instant:
            accepted = self.at(day, moment, gap=(3, 25))
        else:
            next_day = not fast and self.rng.random() < 0.4
            accepted = self.at(self.add(day, 1) if next_day else day, moment, gap=(10, 150))
        case = built.case
        case.state = CaseState.ACCEPTED
        case.accepted_at = accepted
        case.accepted_by = window
        case.received_by = window
        for material in built.materials:
            if material.is_current and material.source == "applicant":
                material.is_checked = True
                material.checked_by = window
                material.checked_at = accepted
        return accepted

    def acceptance_notice(self, built: _Built, item_limits: tuple[int, int]) -> None:
        case = built.case
        accepted = case.accepted_at
        assert accepted is not None
        legal, promised = item_limits
        self.notice(
            built,
            NoticeKind.ACCEPTANCE,
            accepted,
            [
                f"你（单位）于 {self.day_of(case.submitted_at or accepted).isoformat()} 提出的"
                f"“{case.item_name}”申请，申请材料齐全、符合法定形式，根据《中华人民共和国"
                "行政许可法》第三十二条的规定，决定予以受理。",
                f"本机关将在法定期限内作出决定，承诺办结期限为 "
                f"{self.add(self.day_of(accepted), promised).isoformat()}，法定办结期限为 "
                f"{self.add(self.day_of(accepted), legal).isoformat()}。",
            ],
            [("办件编号", case.number), ("事项名称", case.item_name)],
        )

    def timing(self, promised: int, legal: int, extension: int) -> tuple[str, int]:
        """(category, working days used) for a decided promised case."""
        category = self.pick(TIMING_WEIGHTS)
        limit = promised + extension
        if category == LATE and legal <= promised:
            category = EARLY
        if category == EARLY:
            if limit <= 0:
                return LAST_DAY, 0
            low = max(0, promised - 1) if extension else 0
            used = low + int((limit - low) * self.rng.betavariate(1.3, 2.4))
            return EARLY, min(used, limit - 1)
        if category == LAST_DAY:
            return LAST_DAY, limit
        if category == LATE:
            return LATE, self.rng.randint(limit + 1, legal + extension)
        return LATE_LEGAL, legal + extension + self.rng.randint(1, 4)

    def review_and_decide(
        self, built: _Built, item: _Item, staff: _Staff, *, fast: bool, child: bool = False
    ) -> None:
        """Review steps, perhaps a pause and an extension, then the decision (or a
        withdrawal) on the working days the timing category asks for. A joint child is
        never paused, extended or withdrawn on its own here, and an instant item in a
        bundle is decided the day it is accepted."""
        case = built.case
        accepted = case.accepted_at
        assert accepted is not None
        acc_day = self.day_of(accepted)
        officer = self.rng.choice(staff.officers[item.department.pk])
        leader = self.rng.choice(staff.leaders[item.department.pk])
        extension = 0
        if not fast and not child and item.promised >= 3 and self.chance(EXTENSION_SHARE * 2.5):
            extension = self.rng.choice((5, 5, 10))
        if fast or (child and not item.promised):
            used = 0
        else:
            _category, used = self.timing(item.promised, item.legal, extension)
        paused = 0
        pause_at = 0
        pause_kind = ""
        eligible = item.promised >= 5 or bool(item.special)
        if not fast and not child and eligible and self.chance(PAUSE_SHARE * 2.4):
            kinds: list[str] = [kind for kind in item.special if kind in PAUSE_REASONS]
            if not kinds:  # what such an item plausibly needs (a listed one is required)
                kinds = [str(kind) for kind in PAUSE_KINDS.get(item.item_type, DEFAULT_PAUSE)]
            pause_kind = self.rng.choice(kinds)
            paused = self.rng.randint(3, 15)
            pause_at = self.rng.randint(0, used)

        def day_at(offset: int) -> dt.date:
            """The calendar day ``offset`` counted working days after acceptance."""
            if pause_kind and offset > pause_at:
                return self.add(acc_day, offset + paused)
            return self.add(acc_day, offset)

        withdraw = not fast and not child and self.chance(WITHDRAWN_SHARE * 0.8)
        refuse = not withdraw and not fast and self.chance(REFUSED_SHARE * 1.25)
        moment = accepted
        marks: list[tuple[int, str, Any]] = []
        steps = item.review_steps or ["审查"]
        for index, name in enumerate(steps, start=1):
            marks.append((round(used * index / (len(steps) + 1)), "step", name))
        if pause_kind:
            marks.append((pause_at, "pause", pause_kind))
        if extension:
            requested = max(0, min(used, item.promised) - 2)
            marks.append((requested, "extension", min(requested + 1, used)))
        marks.sort(key=lambda mark: (mark[0], mark[1] != "pause"))
        state = CaseState.ACCEPTED
        for offset, kind, value in marks:
            moment = self.at(day_at(offset), moment, gap=(10, 90))
            if kind == "step":
                built.rows.append(
                    _Row(
                        "step_completed",
                        moment,
                        officer,
                        state,
                        CaseState.IN_REVIEW,
                        step_name=str(value),
                        note=REFUSAL_OPINION if refuse else REVIEW_OPINION,
                    )
                )
                state = CaseState.IN_REVIEW
            elif kind == "pause":
                reason, result = PAUSE_REASONS[PauseKind(value)]
                label = str(PauseKind(value).label)
                with translation.override(OFFICIAL_LANGUAGE):
                    label = str(PauseKind(value).label)
                notice = self.notice(
                    built,
                    NoticeKind.SPECIAL_PROCEDURE,
                    moment,
                    [
                        f"你（单位）申请的“{case.item_name}”（办件编号 {case.number}）需要进行"
                        f"{label}。根据《中华人民共和国行政许可法》第四十五条的规定，{label}所需"
                        "时间不计算在办理期限内。",
                        f"理由：{reason}",
                        f"预计所需时间：{paused}个工作日。",
                    ],
                    [("特别程序", label)],
                )
                ended = self.at(self.add(self.day_of(moment), paused), moment)
                built.pauses.append(
                    Pause(
                        case=case,
                        kind=value,
                        reason=reason,
                        planned_days=paused,
                        started_at=moment,
                        started_by=officer,
                        ended_at=ended,
                        ended_by=officer,
                        result=result,
                        notice=notice,
                    )
                )
                built.rows.append(_Row("paused", moment, officer, state, state, note=reason))
                built.rows.append(_Row("resumed", ended, officer, state, state, note=result))
                moment = ended
            else:
                approved_on = self.at(day_at(int(value)), moment, gap=(30, 240))
                built.extensions.append(
                    Extension(
                        case=case,
                        days=extension,
                        reason=EXTENSION_REASON,
                        state=ExtensionState.APPROVED,
                        requested_by=officer,
                        requested_at=moment,
                        approver=leader,
                        approved_at=approved_on,
                        comment="同意延期",
                    )
                )
                built.rows.append(
                    _Row(
                        "extension_requested", moment, officer, state, state, note=EXTENSION_REASON
                    )
                )
                built.rows.append(
                    _Row("extended", approved_on, leader, state, state, note="同意延期")
                )
                self.notice(
                    built,
                    NoticeKind.EXTENSION,
                    approved_on,
                    [
                        f"你（单位）申请的“{case.item_name}”（办件编号 {case.number}），因"
                        f"{EXTENSION_REASON}，经本机关负责人批准，办理期限延长{extension}个工作日。",
                        "延长后的办结期限为 "
                        f"{self.add(acc_day, item.legal + extension + paused).isoformat()}。",
                    ],
                    [("延长工作日", str(extension))],
                )
                moment = approved_on
        if withdraw:
            ended = self.at(day_at(self.rng.randint(0, used)), moment)
            reason = self.rng.choice(WITHDRAW_REASONS)
            case.state = CaseState.WITHDRAWN
            case.ended_at = ended
            case.end_reason = reason
            built.rows.append(
                _Row("withdrawn", ended, case.applicant, state, CaseState.WITHDRAWN, note=reason)
            )
            return
        decided = self.at(day_at(used), moment, gap=(10, 120))
        self.decide(built, decided, leader, refuse=refuse, state=state)

    def decide(
        self, built: _Built, decided: dt.datetime, leader: User, *, refuse: bool, state: str
    ) -> None:
        case = built.case
        case.state = CaseState.DECIDED
        case.decided_at = decided
        case.decided_by = leader
        if refuse:
            case.outcome = Outcome.REFUSED
            case.decision_reasons = self.rng.choice(REFUSAL_REASONS)
            if zlib.crc32(case.number.encode()) % 100 < REFUSED_WITHOUT_REASONS:
                # a few refusals written without reasons (supervision flags them); chosen
                # by number so the generator's random sequence stays as it was
                case.decision_reasons = ""
            case.appeal_rights = _appeal_rights(case.department_name)
            self.notice(
                built,
                NoticeKind.REFUSAL,
                decided,
                [
                    f"你（单位）申请的“{case.item_name}”（办件编号 {case.number}），经审查，"
                    + ("决定不予许可。理由如下：" if case.decision_reasons else "决定不予许可。"),
                    *([case.decision_reasons] if case.decision_reasons else []),
                    case.appeal_rights,
                ],
            )
        else:
            case.outcome = Outcome.APPROVED
            self.notice(
                built,
                NoticeKind.APPROVAL,
                decided,
                [
                    f"你（单位）申请的“{case.item_name}”（办件编号 {case.number}），经审查，"
                    "符合法定条件、标准，根据《中华人民共和国行政许可法》第三十八条第一款的规定，"
                    "决定准予。"
                ],
            )
        built.rows.append(
            _Row(
                "decided",
                decided,
                leader,
                state,
                CaseState.DECIDED,
                note=case.decision_reasons,
            )
        )

    def close_and_deliver(
        self, built: _Built, item: _Item | None, window: User, *, fast: bool, instant: bool
    ) -> None:
        case = built.case
        decided = case.decided_at
        assert decided is not None
        closed = decided + dt.timedelta(minutes=self.rng.randint(1, 20))
        methods = item.delivery if item else (DeliveryMethod.POST, DeliveryMethod.COLLECT)
        method = self.rng.choice(methods)
        if instant or fast or method == DeliveryMethod.ONLINE:
            delivered = closed + dt.timedelta(minutes=self.rng.randint(1, 10))
        else:
            gap = (
                self.rng.randint(1, 3) if method == DeliveryMethod.POST else self.rng.randint(0, 4)
            )
            delivered = self.at(self.add(self.day_of(closed), gap), closed)
        self.deliver(built, closed, delivered, method, window)

    def deliver(
        self,
        built: _Built,
        closed: dt.datetime,
        delivered: dt.datetime,
        method: str,
        window: User,
    ) -> None:
        case = built.case
        case.state = CaseState.DELIVERED
        case.closed_at = closed
        case.delivered_at = delivered
        case.delivery_method = method
        built.rows.append(_Row("closed", closed, window, CaseState.DECIDED, CaseState.CLOSED))
        with translation.override(OFFICIAL_LANGUAGE):
            label = str(DeliveryMethod(method).label)
        built.rows.append(
            _Row("delivered", delivered, window, CaseState.CLOSED, CaseState.DELIVERED, note=label)
        )

    def rate(self, built: _Built) -> None:
        case = built.case
        delivered = case.delivered_at
        if delivered is None or not self.chance(RATED_SHARE):
            return
        weights = RATING_WEIGHTS
        if case.outcome == Outcome.REFUSED:
            weights = ((5, 30.0), (4, 30.0), (3, 25.0), (2, 10.0), (1, 5.0))
        level = int(self.pick(weights))
        day = self.day_of(delivered)
        rated = self.at(self.add(day, self.rng.choice((0, 0, 1, 2, 3))), delivered)
        if rated > self.cutoff:
            return
        comment = self.rng.choice(RATING_COMMENTS[level])
        bad = level <= 2
        built.rating = Rating(
            case=case,
            level=level,
            comment=comment,
            rated_by=case.applicant,
            needs_follow_up=bad,
            followed_up_at=(
                self.at(self.add(self.day_of(rated), self.rng.randint(1, 5)), rated)
                if bad and self.rng.random() < 0.9
                else None
            ),
            created_at=rated,
        )
        built.rows.append(
            _Row("rated", rated, case.applicant, case.state, case.state, note=comment)
        )

    def single(self, plan: _Plan, staff: _Staff, *, fast: bool) -> _Built:
        item = plan.item
        assert item is not None
        built = _Built(case=self.new_case(plan, item, None))
        window = self.rng.choice(staff.windows[item.department.pk])
        self.materials(built, item)
        instant = item.case_type == CaseType.INSTANT
        moment = self.before_acceptance(built, item, window, fast=fast)
        if not fast and self.chance(NOT_ACCEPTED_SHARE + WITHDRAWN_SHARE * 0.5):
            withdraw = self.rng.random() < WITHDRAWN_SHARE * 0.5 / (
                NOT_ACCEPTED_SHARE + WITHDRAWN_SHARE * 0.5
            )
            self.end_before_acceptance(built, [], moment, window, withdraw=withdraw)
            return built
        accepted = self.accept(built, moment, window, fast=fast, instant=instant)
        built.rows.append(
            _Row("accepted", accepted, window, CaseState.SUBMITTED, CaseState.ACCEPTED)
        )
        if instant:
            refuse = not fast and self.chance(REFUSED_SHARE * 0.75)
            decided = accepted + dt.timedelta(seconds=self.rng.randint(30, 240))
            self.decide(built, decided, window, refuse=refuse, state=CaseState.ACCEPTED)
            self.close_and_deliver(built, item, window, fast=fast, instant=True)
            self.rate(built)
            return built
        self.acceptance_notice(built, (item.legal, item.promised))
        self.review_and_decide(built, item, staff, fast=fast)
        if built.case.state == CaseState.DECIDED:
            self.close_and_deliver(built, item, window, fast=fast, instant=False)
            self.rate(built)
        return built

    def joint(self, plan: _Plan, staff: _Staff, *, fast: bool) -> list[_Built]:
        """A 一件事 application: the parent (joint limit) and one child per item."""
        found, lead, applicant = plan.bundle, plan.lead, plan.applicant
        assert found is not None
        assert lead is not None
        assert applicant is not None
        limit = found.joint_limit_days or services.DEFAULT_JOINT_LIMIT_DAYS
        parent = Case(
            number=plan.number,
            state=CaseState.SUBMITTED,
            item_name=found.name,
            bundle_code=found.code,
            case_type=CaseType.JOINT,
            is_joint=True,
            legal_limit_days=limit,
            promised_limit_days=limit,
            department=lead,
            department_code=lead.code,
            department_name=lead.name,
            department_path=lead.path,
            division_path=lead.division_path,
            applicant=applicant.user,
            applicant_kind=(
                ApplicantKind.LEGAL_PERSON
                if applicant.legal_person
                else ApplicantKind.NATURAL_PERSON
            ),
            legal_person=applicant.legal_person,
            applicant_name=applicant.name,
            agent_name=applicant.agent_name,
            contact_phone=applicant.phone,
            contact_phone_masked=mask_phone(applicant.phone),
            submitted_at=plan.submitted_at,
            created_at=plan.submitted_at,
        )
        built = _Built(case=parent)
        window = self.rng.choice(staff.windows[lead.pk])
        children: list[_Built] = []
        for child_plan in plan.children:
            item = child_plan.item
            assert item is not None
            child = _Built(case=self.new_case(child_plan, item, parent))
            child.case.bundle_code = found.code
            self.materials(child, item)
            children.append(child)
        moment = self.before_acceptance(
            built,
            None,
            window,
            fast=fast,
            children=[
                (child, child_plan.item)
                for child, child_plan in zip(children, plan.children, strict=True)
                if child_plan.item is not None
            ],
        )
        if not fast and self.chance(NOT_ACCEPTED_SHARE / 2):
            self.end_before_acceptance(built, children, moment, window, withdraw=False)
            return [built, *children]
        accepted = self.accept(built, moment, window, fast=fast, instant=False)
        for child in children:
            child.case.state = CaseState.ACCEPTED
            child.case.accepted_at = accepted
            child.case.accepted_by = window
            child.case.received_by = window
            for material in child.materials:
                if material.is_current and material.source == "applicant":
                    material.is_checked, material.checked_by = True, window
                    material.checked_at = accepted
            child.rows.append(
                _Row("accepted", accepted, window, CaseState.SUBMITTED, CaseState.ACCEPTED)
            )
        built.rows.append(
            _Row("accepted", accepted, window, CaseState.SUBMITTED, CaseState.ACCEPTED)
        )
        self.acceptance_notice(built, (limit, limit))
        for child, child_plan in zip(children, plan.children, strict=True):
            item = child_plan.item
            assert item is not None
            self.review_and_decide(child, item, staff, fast=fast, child=True)
        last = max(child.case.decided_at or accepted for child in children)
        outcomes = {child.case.outcome for child in children}
        parent.state = CaseState.DECIDED
        parent.decided_at = last + dt.timedelta(seconds=1)
        parent.decided_by = children[-1].case.decided_by
        if outcomes == {Outcome.APPROVED}:
            parent.outcome = Outcome.APPROVED
        elif outcomes == {Outcome.REFUSED}:
            parent.outcome = Outcome.REFUSED
        else:
            parent.outcome = Outcome.PARTIAL
        built.rows.append(
            _Row(
                "decided",
                parent.decided_at,
                parent.decided_by,
                CaseState.ACCEPTED,
                CaseState.DECIDED,
            )
        )
        method = self.rng.choice(
            (DeliveryMethod.POST, DeliveryMethod.ONLINE, DeliveryMethod.COLLECT)
        )
        closed = parent.decided_at + dt.timedelta(minutes=self.rng.randint(2, 30))
        delivered = (
            closed + dt.timedelta(minutes=5)
            if fast or method == DeliveryMethod.ONLINE
            else self.at(self.add(self.day_of(closed), self.rng.randint(0, 2)), closed)
        )
        for child in children:
            self.deliver(child, closed, delivered, method, window)
        self.deliver(built, closed, delivered, method, window)
        self.rate(built)
        return [built, *children]

    def simulate(self, plan: _Plan, staff: _Staff) -> list[_Built]:
        """One planned application, drawn again (at last on the fastest path) until it
        ends before the history's cutoff."""
        for attempt in range(5):
            fast = attempt == 4
            if plan.item is None:
                built = self.joint(plan, staff, fast=fast)
            else:
                built = [self.single(plan, staff, fast=fast)]
            if max(member.end for member in built) <= self.cutoff:
                break
        for member in built:
            member.timing = self.measured(member.case, member)
        return built

    def measured(self, case: Case, built: _Built) -> str:
        """The timing category of a decided promised or joint case, from its clock at the
        decision (what supervision will compute), or "" for the others."""
        if case.decided_at is None or case.case_type == CaseType.INSTANT:
            return ""
        clock = clock_compute(
            accepted_at=case.accepted_at,
            stopped_at=case.decided_at,
            now=case.decided_at,
            legal_limit_days=case.legal_limit_days,
            promised_limit_days=case.promised_limit_days,
            extension_days=sum(extension.days for extension in built.extensions),
            pauses=[(pause.started_at, pause.ended_at) for pause in built.pauses],
            calendar=self.calendar,
        )
        assert clock.promised_days_left is not None
        assert clock.legal_days_left is not None
        if clock.promised_days_left > 0:
            return EARLY
        if clock.promised_days_left == 0:
            return LAST_DAY
        return LATE if clock.legal_days_left >= 0 else LATE_LEGAL

    # ------------------------------------------------------------------ the clock figures

    def figures(self, built: _Built) -> list[tuple[Any, ...]]:
        """Timeline rows (``CaseEvent`` columns after ``case_id``) with the working days
        used and left at each moment, as ``services._record`` stores them: the clock's
        ``used_days`` (working days since acceptance, pauses known then excluded) and
        ``promised_days_left`` (promised limit + extensions approved by then − used)."""
        case = built.case
        accepted = case.accepted_at
        stopped = case.decided_at or case.ended_at
        rows = []
        for row in sorted(built.rows, key=lambda row: row.at):
            used: int | None = None
            left: int | None = None
            if accepted is not None and row.at >= accepted:
                end = stopped if stopped is not None and stopped <= row.at else row.at
                pauses = [
                    (
                        pause.started_at,
                        pause.ended_at
                        if pause.ended_at is not None and pause.ended_at <= row.at
                        else None,
                    )
                    for pause in built.pauses
                    if pause.started_at <= row.at
                ]
                used = self.calendar.working_days_elapsed(accepted, end, pauses)
                extension = sum(
                    extension.days
                    for extension in built.extensions
                    if extension.approved_at is not None and extension.approved_at <= row.at
                )
                left = case.promised_limit_days + extension - used
            actor = row.actor
            rows.append(
                (
                    row.verb,
                    _labels()[row.verb],
                    actor.pk if actor is not None else None,
                    (actor.display_name or actor.username) if actor is not None else "",
                    row.at,
                    row.state_from,
                    row.state_to,
                    row.step_name,
                    row.note,
                    used,
                    left,
                )
            )
        case.updated_at = rows[-1][4] if rows else case.created_at
        return rows

    # ------------------------------------------------------------------ writing

    def load(self) -> dict[str, int]:
        if not self.size:
            return {}
        started = time.perf_counter()
        items = _published_items()
        departments = list(
            {item.department.pk: item.department for item in items.values()}.values()
        )
        lead_codes = {"SCJ", "WJW"}
        departments += list(
            Department.objects.select_related("division").filter(code__in=lead_codes)
        )
        staff = _Staff(departments)
        persons, companies = _population(
            self.rng,
            residents=max(30, min(1200, self.size // 20)),
            enterprises=max(10, min(300, self.size // 80)),
        )
        plans = self.plans(items, persons, companies, _printed_applicants())
        counters = self.number(plans)
        built: list[_Built] = []
        for plan in plans:
            built.extend(self.simulate(plan, staff))
        events = {id(member): self.figures(member) for member in built}
        simulated = time.perf_counter()
        with _kept_timestamps(Case, Notice, Rating):
            parents = [member.case for member in built if member.case.is_joint]
            # (small batches: PostgreSQL parses a 50-column statement of 500 rows slowly)
            Case.objects.bulk_create(parents, batch_size=50)
            Case.objects.bulk_create(
                [member.case for member in built if not member.case.is_joint], batch_size=50
            )
            Notice.objects.bulk_create(
                [notice for member in built for notice in member.notices], batch_size=200
            )
            CorrectionRequest.objects.bulk_create(
                [row for member in built for row in member.corrections], batch_size=1000
            )
            Pause.objects.bulk_create([row for member in built for row in member.pauses])
            Extension.objects.bulk_create([row for member in built for row in member.extensions])
            Rating.objects.bulk_create(
                [member.rating for member in built if member.rating is not None], batch_size=1000
            )
        moment = connection.ops.adapt_datetimefield_value
        _insert(
            CaseEvent,
            EVENT_COLUMNS,
            (
                (member.case.pk, *row[:4], moment(row[4]), *row[5:])
                for member in built
                for row in events[id(member)]
            ),
        )
        _insert(
            CaseMaterial,
            MATERIAL_COLUMNS,
            (
                (
                    member.case.pk,
                    material.name,
                    material.is_required,
                    material.source,
                    None,
                    material.reference,
                    material.round,
                    material.is_current,
                    material.is_checked,
                    material.checked_by.pk if material.checked_by is not None else None,
                    moment(material.checked_at),
                    moment(material.created_at),
                )
                for member in built
                for material in member.materials
            ),
        )
        CaseCounter.objects.bulk_create(counters, batch_size=1000)
        logger.info(
            "demo history: %d cases simulated in %.1fs, written in %.1fs",
            len(built),
            simulated - started,
            time.perf_counter() - simulated,
        )
        counts = Counter(member.case.state for member in built)
        timing = Counter(member.timing for member in built if member.timing)
        summary = {
            "cases": len(built),
            "joint_parents": len(parents),
            **{f"state_{state}": count for state, count in sorted(counts.items())},
            **{f"timing_{name}": count for name, count in sorted(timing.items())},
            "ratings": sum(1 for member in built if member.rating is not None),
            "ratings_bad": sum(
                1 for member in built if member.rating is not None and member.rating.level <= 2
            ),
            "refused": sum(1 for member in built if member.case.outcome == Outcome.REFUSED),
            "instant": sum(
                1
                for member in built
                if member.case.case_type == CaseType.INSTANT and member.case.decided_at
            ),
            "corrected_twice": sum(1 for member in built if len(member.corrections) > 1),
            "corrections": sum(1 for member in built if member.corrections),
            "pauses": sum(1 for member in built if member.pauses),
            "extensions": sum(1 for member in built if member.extensions),
            "residents": len(persons),
            "enterprises": len(companies),
        }
        audit_record(
            action=HISTORY_MARKER,
            object_type="demo.approvals",
            object_label="示范市一年办件",
            detail=summary,
        )
        return summary


def history_loaded() -> bool:
    return AuditEntry.objects.filter(action=HISTORY_MARKER).exists()


# ----------------------------------------------------------------------------- live cases


@dataclass(frozen=True)
class _Live:
    """One live case: who applies, for what, and what happens to it today."""

    number: int
    applicant: str  # "citizen", or "agent:<n>" for the n-th enterprise the agent acts for
    target: tuple[str, str] | str  # (department code, item name) or "bundle:<code>"
    steps: tuple[str, ...] = ()


# Mostly the market regulator (the printed officer's and leader's department).
LIVE: tuple[_Live, ...] = (
    # waiting at the window (收件)
    _Live(1, "citizen", ("SCJ", "特种设备作业人员资格认定")),
    _Live(2, "agent:0", ("SCJ", "食品经营许可（新办）")),
    _Live(3, "agent:1", ("SCJ", "特种设备使用登记"), ("receive",)),
    _Live(4, "citizen", ("SCJ", "个体工商户设立登记")),
    _Live(5, "citizen", ("GAJ", "居住证申领")),
    _Live(6, "citizen", ("RSJ", "失业保险金申领")),
    # correction (补正): open, answered, asked a second time
    _Live(7, "agent:2", ("SCJ", "药品零售企业经营许可（新办）"), ("correct",)),
    _Live(8, "citizen", ("SCJ", "食品小作坊登记"), ("correct",)),
    _Live(9, "agent:0", ("SCJ", "广告发布登记"), ("correct", "answer", "correct")),
    _Live(10, "citizen", ("SCJ", "消费者投诉举报受理"), ("correct", "answer")),
    # accepted: review tasks in the officer's inbox (one claimed, one with a countersign)
    _Live(11, "agent:0", ("SCJ", "食品经营许可（变更）"), ("accept",)),
    _Live(12, "agent:1", ("SCJ", "食品生产许可（变更）"), ("accept",)),
    _Live(13, "citizen", ("SCJ", "特种设备作业人员资格认定"), ("accept",)),
    _Live(14, "agent:2", ("SCJ", "计量器具型式批准"), ("accept",)),
    _Live(15, "agent:1", ("SCJ", "药品零售企业经营许可（变更）"), ("accept",)),
    _Live(16, "agent:0", ("SCJ", "食品生产许可（延续）"), ("accept", "claim")),
    _Live(17, "agent:1", ("SCJ", "食品经营许可（延续）"), ("accept", "countersign:XFZD")),
    # reviewed: waiting for the leader's decision
    _Live(18, "agent:0", ("SCJ", "食品经营许可（新办）"), ("accept", "review")),
    _Live(19, "agent:2", ("SCJ", "广告发布登记"), ("accept", "review")),
    _Live(20, "citizen", ("SCJ", "食品小作坊登记"), ("accept", "review")),
    _Live(21, "agent:1", ("SCJ", "特种设备使用登记"), ("accept", "review")),
    _Live(22, "citizen", ("SCJ", "对举报食品安全违法行为的奖励"), ("accept", "review")),
    # special procedures (the clock stops) and extensions
    _Live(23, "agent:0", ("SCJ", "食品生产许可（新办）"), ("accept", "pause:inspection")),
    _Live(24, "agent:2", ("SCJ", "计量器具型式批准"), ("accept", "pause:expert_review")),
    _Live(25, "agent:1", ("SCJ", "药品零售企业经营许可（新办）"), ("accept", "extend:10")),
    _Live(
        26,
        "citizen",
        ("SCJ", "专利侵权纠纷行政裁决"),
        ("accept", "pause:expert_review", "resume", "extend:5", "approve_extension"),
    ),
    # decided, waiting for delivery (one refused)
    _Live(27, "agent:0", ("SCJ", "企业变更登记"), ("accept", "review", "decide")),
    _Live(28, "citizen", ("SCJ", "食品小作坊登记"), ("accept", "review", "decide")),
    _Live(29, "agent:1", ("SCJ", "食品经营许可（补证）"), ("accept", "review", "decide")),
    _Live(30, "citizen", ("SCJ", "对举报食品安全违法行为的奖励"), ("accept", "review", "refuse")),
    # delivered: waiting for a rating, rated, refused
    _Live(
        31,
        "citizen",
        ("SCJ", "特种设备作业人员资格认定"),
        ("accept", "review", "decide", "deliver"),
    ),
    _Live(
        32, "agent:2", ("SCJ", "食品经营许可（新办）"), ("accept", "review", "decide", "deliver")
    ),
    _Live(33, "agent:0", ("SCJ", "股权出质设立登记"), ("accept", "review", "decide", "deliver")),
    _Live(
        34,
        "citizen",
        ("SCJ", "食品小作坊登记"),
        ("accept", "review", "decide", "deliver", "rate:5"),
    ),
    _Live(
        35, "agent:1", ("SCJ", "广告发布登记"), ("accept", "review", "decide", "deliver", "rate:2")
    ),
    _Live(
        36, "agent:2", ("SCJ", "食品生产许可（新办）"), ("accept", "review", "refuse", "deliver")
    ),
    # not accepted, withdrawn, decided on the spot
    _Live(37, "citizen", ("SCJ", "食品摊贩登记"), ("refuse_acceptance",)),
    _Live(38, "agent:1", ("SCJ", "药品零售企业经营许可（延续）"), ("correct", "refuse_acceptance")),
    _Live(39, "citizen", ("SCJ", "特种设备作业人员资格认定"), ("accept", "withdraw")),
    _Live(40, "citizen", ("SCJ", "个体工商户变更登记"), ("spot",)),
    _Live(41, "agent:0", ("SCJ", "营业执照补领、换发"), ("spot", "rate:4")),
    # 一件事: accepted once, the departments at work at the same time
    _Live(
        42,
        "agent:2",
        "bundle:business-startup",
        (
            "accept",
            "child:SCJ:review",
            "child:GAJ:review",
            "child:GAJ:decide",
            "child:TSJ:review",
            "child:TSJ:decide",
        ),
    ),
    _Live(
        43,
        "citizen",
        "bundle:newborn",
        ("accept", "child:WJW:review", "child:WJW:decide", "child:YBJ:review", "child:YBJ:decide"),
    ),
    # a draft the citizen has not submitted yet
    _Live(44, "citizen", ("SCJ", "个体工商户设立登记"), ("draft",)),
)


def _form_value(name: str, schema: dict[str, Any], context: dict[str, str]) -> Any:
    """A plausible value for one field of an online form (JSON Schema)."""
    kind = schema.get("type")
    if "enum" in schema:
        return schema["enum"][0]
    if kind == "object":
        return {
            key: _form_value(key, value, context)
            for key, value in schema.get("properties", {}).items()
        }
    if kind == "array":
        items = schema.get("items", {})
        if "enum" in items:
            return [items["enum"][0]]
        return [_form_value(name, items, context)]
    if kind == "integer":
        return 1
    if kind == "number":
        return 10
    if kind == "boolean":
        return True
    formats = {
        "date": context["date"],
        "id-number": context["id_number"],
        "uscc": context["uscc"],
        "mobile": context["mobile"],
        "email": "demo@example.com",
    }
    if schema.get("format") in formats:
        return formats[schema["format"]]
    if "enterprise" in name or (name == "name" and context["enterprise"]):
        return context["enterprise"] or context["name"]
    if "name" in name:
        return context["name"]
    if any(word in name for word in ("address", "place", "detail", "street", "location")):
        return "示范市东湖区市民大道100号"
    return "详见申请材料"


class LiveCases:
    """Today's cases, written through the approvals services (see ``LIVE``)."""

    def __init__(self) -> None:
        names = ["clerk", "officer", "leader", "citizen", "agent"]
        names += [f"{code.lower()}_d01" for code in ("GAJ", "RSJ", "TSJ", "GJJ", "WJW", "YBJ")]
        self.users = {
            user.username: user
            for user in User.objects.filter(username__in=names).select_related("person")
        }
        self.enterprises = [
            authorisation.legal_person
            for authorisation in AgentAuthorisation.objects.filter(
                agent__username="agent", revoked_at__isnull=True
            )
            .select_related("legal_person")
            .order_by("legal_person_id")
        ]
        self.items: dict[tuple[str, str], int] = {
            (code, name): item_id
            for item_id, code, name in ServiceItem.objects.filter(
                is_active=True, current__state=VersionState.PUBLISHED
            ).values_list("pk", "department__code", "current__name")
        }
        self.today = dt.datetime.now(tz=BEIJING).date()
        self.failed: list[str] = []
        self.versions: dict[int, catalog.ItemVersionInfo | None] = {}
        self.pdfs: dict[tuple[int, str], bytes] = {}
        self.stored: dict[tuple[int, str], Any] = {}

    def ready(self) -> bool:
        return all(name in self.users for name in ("clerk", "officer", "leader", "citizen"))

    def load(self) -> dict[str, int]:
        if not self.ready():
            return {}
        keys = [LIVE_KEY.format(live.number) for live in LIVE]
        done = set(
            Case.objects.filter(idempotency_key__in=keys).values_list("idempotency_key", flat=True)
        )
        written = 0
        for live in LIVE:
            key = LIVE_KEY.format(live.number)
            if key in done or (live.steps == ("draft",) and self.draft_exists(live)):
                continue
            try:
                with transaction.atomic():
                    self.run(live, key)
            except Exception as error:  # a live case that cannot be written is reported
                logger.warning("demo live case %s not written: %s", key, error)
                self.failed.append(f"{key}: {error}")
            else:
                written += 1
        return {"live_cases": written, "live_failed": len(self.failed)}

    # ------------------------------------------------------------------ helpers

    def applicant(self, live: _Live) -> tuple[User, services.ApplicantInput, dict[str, str]]:
        if live.applicant == "citizen":
            user = self.users["citizen"]
            person = user.person
            context = {
                "name": person.name if person else user.display_name,
                "enterprise": "",
                "id_number": str(person.id_number) if person else "",
                "uscc": "",
            }
            applicant = services.ApplicantInput(contact_phone=str(user.mobile or "13800000000"))
        else:
            user = self.users["agent"]
            enterprise = self.enterprises[int(live.applicant.split(":")[1]) % len(self.enterprises)]
            context = {
                "name": user.display_name,
                "enterprise": enterprise.name,
                "id_number": make_resident_id("990102", dt.date(1988, 5, 17), 321),
                "uscc": enterprise.uscc,
            }
            applicant = services.ApplicantInput(
                kind=ApplicantKind.LEGAL_PERSON,
                legal_person=enterprise,
                contact_phone=str(user.mobile or "13800000001"),
            )
        context.update(date=(self.today - dt.timedelta(days=30)).isoformat(), mobile="13800000000")
        if not context["id_number"]:
            context["id_number"] = make_resident_id("990102", dt.date(1990, 1, 1), 123)
        return user, applicant, context

    def item_id(self, code: str, name: str) -> int:
        found = self.items.get((code, name))
        if found is None:
            raise LookupError(f"demo item {code} {name} not found")
        return found

    def form(self, version: catalog.ItemVersionInfo, context: dict[str, str]) -> dict[str, Any]:
        if not version.form_schema:
            return {}
        data = _form_value("", version.form_schema, context)
        problems = catalog.form_errors(version.form_schema, data)
        if problems:
            raise ValueError(f"form of {version.name}: {problems}")
        return data

    def version(self, item_id: int) -> catalog.ItemVersionInfo:
        if item_id not in self.versions:
            self.versions[item_id] = catalog.item_current(item_id)
        found = self.versions[item_id]
        if found is None:
            raise LookupError(f"demo item {item_id} not published")
        return found

    def upload(self, user: User, name: str) -> Any:
        """A real small PDF (ReportLab, Chinese font) for one material of ``user``,
        stored through the file service like an upload."""
        key = (user.pk, name)
        if key not in self.pdfs:
            self.pdfs[key] = render_notice(
                title=name,
                issuer=user.display_name,
                number=f"DEMO-{len(self.pdfs) + 1:04d}",
                recipient=user.display_name,
                paragraphs=[f"{name}（示范市演示材料，内容仅供演示）。"],
                date=self.today,
            )
        return file_store(actor=user, upload=ContentFile(self.pdfs[key], name=f"{name}.pdf"))

    def materials(
        self, user: User, version: catalog.ItemVersionInfo, *, joint: bool = False
    ) -> list[services.MaterialInput]:
        """Every required material the applicant hands in (shared data and e-licences are
        fetched by the service), each a stored PDF."""
        found = []
        for material in version.materials:
            if not material.is_required or material.source in ("shared", "elicence"):
                continue
            key = (user.pk, material.name)
            if key not in self.stored:  # the same document serves the applicant again
                self.stored[key] = self.upload(user, material.name)
            stored = self.stored[key]
            found.append(
                services.MaterialInput(
                    name=material.name,
                    file_id=stored.pk,
                    item_id=version.item_id if joint else None,
                )
            )
        return found

    def draft_exists(self, live: _Live) -> bool:
        assert isinstance(live.target, tuple)
        item_id = self.items.get(live.target)
        return Case.objects.filter(
            applicant__username="citizen", state=CaseState.DRAFT, item_id=item_id
        ).exists()

    # ------------------------------------------------------------------ one live case

    def run(self, live: _Live, key: str) -> None:
        user, applicant, context = self.applicant(live)
        if isinstance(live.target, str):
            case = self.submit_bundle(
                live.target.removeprefix("bundle:"), key, user, applicant, context
            )
        else:
            version = self.version(self.item_id(*live.target))
            if live.steps == ("draft",):
                services.case_draft_save(
                    actor=user,
                    item_id=version.item_id,
                    applicant=applicant,
                    form_data={"name": context["name"]} if version.form_schema else None,
                )
                return
            case = services.case_submit(
                actor=user,
                item_id=version.item_id,
                idempotency_key=key,
                applicant=applicant,
                form_data=self.form(version, context),
                materials=self.materials(user, version),
            )
        for step in live.steps:
            case = self.step(case, step, user, key)

    def submit_bundle(
        self,
        code: str,
        key: str,
        user: User,
        applicant: services.ApplicantInput,
        context: dict[str, str],
    ) -> Case:
        found = catalog.bundle(code)
        if found is None:
            raise LookupError(f"demo bundle {code} not found")
        forms: dict[int, dict[str, Any]] = {}
        materials: list[services.MaterialInput] = []
        for item_id in found.item_ids:
            version = self.version(item_id)
            forms[item_id] = self.form(version, context)
            materials += self.materials(user, version, joint=True)
        return services.case_submit_bundle(
            actor=user,
            bundle_code=code,
            idempotency_key=key,
            applicant=applicant,
            forms=forms,
            materials=materials,
        )

    def ready_tasks(self, case: Case, role: str) -> list[Any]:
        from tongban.platform.workflow.models import WorkTask

        if case.process_instance_id is None:
            return []
        return list(
            WorkTask.objects.filter(
                instance_id=case.process_instance_id, role=role, state__in=["ready", "claimed"]
            ).order_by("pk")
        )

    def unchecked(self, case: Case) -> list[str]:
        return list(
            case.materials.filter(is_current=True, source="applicant").values_list(
                "name", flat=True
            )
        )

    def child(self, case: Case, code: str, role: str) -> Case:
        """The first child of department ``code`` with a ready task of ``role``."""
        for child in case.children.filter(department_code=code).order_by("pk"):
            if self.ready_tasks(child, role):
                return child
        raise LookupError(f"no {role} task for {code} in {case.number}")

    def step(self, case: Case, step: str, applicant: User, key: str) -> Case:
        clerk, officer, leader = self.users["clerk"], self.users["officer"], self.users["leader"]
        case = Case.objects.get(pk=case.pk)
        verb, _sep, argument = step.partition(":")
        if verb == "receive":
            return services.case_receive(actor=clerk, case=case, checked=self.unchecked(case))
        if verb == "correct":
            names = self.unchecked(case) or [services.FORM_MATERIAL]
            services.case_correction_request(
                actor=clerk,
                case=case,
                items=[
                    services.CorrectionItem(material=names[0], reason="复印件不清晰，请重新上传")
                ],
                note="请一次性补齐后重新提交",
            )
            return case
        if verb == "answer":
            request = case.corrections.get(answered_at__isnull=True)
            name = request.items[0]["material"]
            stored = self.upload(applicant, name)
            return services.case_correction_answer(
                actor=applicant,
                case=case,
                materials=[services.MaterialInput(name=name, file_id=stored.pk)],
                note="已按补正告知书补齐",
            )
        if verb == "accept":
            checks = {child.item_id or 0: self.unchecked(child) for child in case.children.all()}
            return services.case_accept(
                actor=clerk, case=case, checked=self.unchecked(case), item_checks=checks or None
            )
        if verb == "refuse_acceptance":
            return services.case_refuse_acceptance(
                actor=clerk, case=case, reasons=NOT_ACCEPTED_REASONS[2]
            )
        if verb == "spot":
            return services.case_decide_on_the_spot(
                actor=clerk, case=case, approve=True, checked=self.unchecked(case)
            )
        if verb == "claim":
            services.case_task_claim(
                actor=officer, case=case, task_id=self.ready_tasks(case, "review")[0].pk
            )
            return case
        if verb == "review":
            while tasks := self.ready_tasks(case, "review"):
                case = services.case_task_complete(
                    actor=officer, case=case, task_id=tasks[0].pk, opinion=REVIEW_OPINION
                )
            return case
        if verb == "countersign":
            department = Department.objects.get(code=argument)
            services.case_countersign_request(
                actor=officer,
                case=case,
                department=department,
                question="请就经营场所消防安全条件出具会签意见。",
            )
            return case
        if verb == "pause":
            services.case_pause_start(
                actor=officer,
                case=case,
                kind=argument,
                reason=PAUSE_REASONS[PauseKind(argument)][0],
                planned_days=10,
            )
            return case
        if verb == "resume":
            services.case_pause_end(
                actor=officer, case=case, result=PAUSE_REASONS[PauseKind.EXPERT_REVIEW][1]
            )
            return case
        if verb == "extend":
            services.case_extension_request(
                actor=officer, case=case, days=int(argument), reason=EXTENSION_REASON
            )
            return case
        if verb == "approve_extension":
            extension = case.extensions.get(state=ExtensionState.REQUESTED)
            services.case_extension_approve(
                actor=leader, extension=extension, approve=True, comment="同意延期"
            )
            return case
        if verb in ("decide", "refuse"):
            approve = verb == "decide"
            return services.case_decide(
                actor=leader,
                case=case,
                approve=approve,
                reasons="" if approve else REFUSAL_REASONS[0],
                appeal_rights=""
                if approve
                else services.appeal_rights_default(case.department_name),
                opinion="同意。" if approve else "不予许可。",
            )
        if verb == "deliver":
            return services.case_deliver(actor=clerk, case=case, method=DeliveryMethod.COLLECT)
        if verb == "rate":
            level = int(argument)
            services.case_rate(
                actor=applicant,
                case=case,
                level=level,
                comment=RATING_COMMENTS[level][-1],
            )
            return case
        if verb == "withdraw":
            return services.case_withdraw(actor=applicant, case=case, reason=WITHDRAW_REASONS[1])
        if verb == "child":
            code, _sep, action = argument.partition(":")
            role = "review" if action == "review" else "decide"
            child = self.child(case, code, role)
            actor = {"review": officer, "decide": leader} if code == "SCJ" else {}
            handler = actor.get(action) or self.users[f"{code.lower()}_d01"]
            if action == "review":
                for task in self.ready_tasks(child, "review"):
                    services.case_task_complete(
                        actor=handler, case=child, task_id=task.pk, opinion=REVIEW_OPINION
                    )
            else:
                services.case_decide(actor=handler, case=child, approve=True, opinion="同意。")
            return Case.objects.get(pk=case.pk)
        raise ValueError(f"unknown demo step {step}")


# ----------------------------------------------------------------------------- entry point


@dataclass
class ApprovalsSummary:
    counts: dict[str, int] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)  # username → what they find
    failed: list[str] = field(default_factory=list)


def login_notes() -> dict[str, str]:
    """What each printed login finds among the cases (for the printed logins)."""
    from tongban.apps.approvals import selectors

    users = {
        user.username: user
        for user in User.objects.filter(
            username__in=["clerk", "officer", "leader", "supervisor", "citizen", "agent"]
        )
    }
    notes: dict[str, str] = {}
    if "clerk" in users:
        clerk = users["clerk"]
        notes["clerk"] = (
            f"待受理 {selectors.cases_to_accept(actor=clerk).count()} 件、"
            f"待送达 {selectors.cases_to_deliver(actor=clerk).count()} 件 (/cases/queue/)"
        )
    if "officer" in users:
        entries = selectors.task_inbox(actor=users["officer"])
        reviews = sum(1 for entry in entries if entry.task.role == "review")
        notes["officer"] = f"待审查 {reviews} 件 (/cases/inbox/)"
    if "leader" in users:
        leader = users["leader"]
        decisions = [
            entry for entry in selectors.task_inbox(actor=leader) if entry.task.role == "decide"
        ]
        notes["leader"] = (
            f"待决定 {len(decisions)} 件、待批延期 "
            f"{selectors.extensions_to_approve(actor=leader).count()} 件 (/cases/inbox/)"
        )
    if "supervisor" in users:
        total = selectors.case_list_for_staff(actor=users["supervisor"]).count()
        notes["supervisor"] = f"全市办件 {total} 件 (/cases/all/)"
    for name in ("citizen", "agent"):
        if name in users:
            mine = selectors.case_list_for_applicant(actor=users[name]).count()
            notes[name] = f"我的办件 {mine} 件 (/cases/mine/)"
    return notes


def load_demo_approvals(*, history_cases: int | None = None) -> ApprovalsSummary:
    """Grant the approvals permissions, scope the case handlers, then write the history
    (once) and the live cases (each once). Returns counts and what each login finds."""
    with transaction.atomic():
        grant_approvals_permissions()
        scope_case_handlers()
        counts: dict[str, int] = {}
        if not history_loaded():
            size = history_size() if history_cases is None else history_cases
            counts.update({f"history_{key}": value for key, value in History(size).load().items()})
        live = LiveCases()
        counts.update(live.load())
        counts["cases"] = Case.objects.exclude(state=CaseState.DRAFT).count()
        return ApprovalsSummary(counts=counts, notes=login_notes(), failed=live.failed)
