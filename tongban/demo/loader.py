"""Loads 示范市 idempotently: a second run finds everything and creates nothing."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from tongban.demo import data
from tongban.demo.approvals import load_demo_approvals
from tongban.demo.basedata import load as load_demo_basedata
from tongban.demo.catalog import load_demo_catalog
from tongban.demo.documents import load as load_demo_documents
from tongban.demo.documents import load_units as load_demo_document_units
from tongban.demo.exchange import load as load_demo_exchange
from tongban.demo.orgs import department as _department
from tongban.demo.orgs import division as _division
from tongban.demo.orgs import org_code as _org_code
from tongban.demo.orgs import unit as _unit
from tongban.demo.roles import (
    ensure_platform_roles,
    grant_catalog_permissions,
    grant_sharing_permissions,
)
from tongban.demo.sharing import load as load_demo_sharing
from tongban.demo.supervision import load_demo_supervision
from tongban.platform.access.models import Role, RoleAssignment, Scope
from tongban.platform.accounts.idnumbers import make_resident_id, make_uscc
from tongban.platform.accounts.models import (
    AgentAuthorisation,
    LegalPerson,
    NaturalPerson,
    User,
)
from tongban.platform.audit.services import audit_record
from tongban.platform.crypto.masking import mask_id_number, mask_phone
from tongban.platform.crypto.sm import lookup_hmac
from tongban.platform.orgs.models import (
    BodyKind,
    Department,
    Division,
    GovernmentBody,
    Position,
    Posting,
    ServiceCentre,
    Unit,
    Window,
    WindowKind,
)

DEMO_PASSWORD = "Demo@2026"  # noqa: S105 - printed for people trying the demo
# RFC 6238 test key ("12345678901234567890"); demo only, printed as base32 for apps.
DEMO_TOTP_KEY = "3132333435363738393031323334353637383930"
DEMO_TOTP_BASE32 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

POSITIONS = [
    ("director", "局长", True, 10),
    ("deputy_director", "副局长", True, 20),
    ("section_chief", "科长", True, 30),
    ("deputy_chief", "副科长", True, 40),
    ("clerk", "科员", False, 50),
    ("window_clerk", "窗口受理员", False, 60),
    ("inspector", "监察员", False, 70),
    ("centre_director", "中心主任", True, 15),
    ("it_admin", "系统管理员", False, 80),
]


@dataclass
class Login:
    username: str
    role: str
    note: str = ""


@dataclass
class Summary:
    counts: dict[str, int] = field(default_factory=dict)
    logins: list[Login] = field(default_factory=list)


class Loader:
    def __init__(self) -> None:
        self.rng = random.Random(2026)  # noqa: S311
        self.password = make_password(DEMO_PASSWORD)
        self.roles: dict[str, Role] = {}
        self.positions: dict[str, Position] = {}
        self.pending_users: list[User] = []
        self.pending_postings: list[tuple[str, Unit, str]] = []
        self.pending_roles: list[tuple[str, str, str, dict[str, Any]]] = []
        self.used_names: set[str] = set()

    def name(self) -> str:
        while True:
            name = self.rng.choice(data.SURNAMES) + "".join(
                self.rng.choice(data.GIVEN) for _ in range(self.rng.choice((1, 2)))
            )
            if name not in self.used_names:
                self.used_names.add(name)
                return name

    def staff(
        self,
        username: str,
        unit: Unit,
        position: str,
        role: str | None,
        scope: str = Scope.UNIT,
        display: str | None = None,
        **extra: Any,
    ) -> None:
        self.pending_users.append(
            User(
                username=username,
                display_name=display or self.name(),
                kind="staff",
                password=self.password,
                **extra,
            )
        )
        self.pending_postings.append((username, unit, position))
        if role:
            anchors: dict[str, Any] = {}
            if scope in (Scope.UNIT, Scope.UNIT_TREE):
                anchors["unit"] = unit
            elif scope in (Scope.DEPARTMENT, Scope.DEPARTMENT_TREE):
                anchors["department"] = unit.department
            elif scope == Scope.DIVISION:
                anchors["division"] = unit.department.division
            self.pending_roles.append((username, role, scope, anchors))

    def flush_staff(self) -> None:
        User.objects.bulk_create(self.pending_users, ignore_conflicts=True)
        users = {
            u.username: u
            for u in User.objects.filter(username__in=[u.username for u in self.pending_users])
        }
        have_posting = set(
            Posting.objects.filter(user__in=users.values()).values_list("user__username", flat=True)
        )
        Posting.objects.bulk_create(
            [
                Posting(user=users[name], unit=unit, position=self.positions[position])
                for name, unit, position in self.pending_postings
                if name not in have_posting
            ]
        )
        have_role = set(
            RoleAssignment.objects.filter(user__in=users.values()).values_list(
                "user__username", "role__code"
            )
        )
        RoleAssignment.objects.bulk_create(
            [
                RoleAssignment(user=users[name], role=self.roles[role], scope=scope, **anchors)
                for name, role, scope, anchors in self.pending_roles
                if (name, role) not in have_role
            ]
        )

    def load(self) -> Summary:
        self.roles = ensure_platform_roles()
        for code, name, leader, rank in POSITIONS:
            self.positions[code], _ = Position.objects.get_or_create(
                code=code, defaults={"name": name, "is_leader": leader, "rank": rank}
            )
        province = _division(*data.PROVINCE, 1, None)
        city = _division(*data.CITY, 2, province)
        government, _ = GovernmentBody.objects.get_or_create(
            division=city, name="示范市人民政府", defaults={"kind": BodyKind.GOVERNMENT}
        )
        discipline, _ = GovernmentBody.objects.get_or_create(
            division=city,
            name="中共示范市纪律检查委员会 示范市监察委员会",
            defaults={"kind": BodyKind.DISCIPLINE},
        )
        districts = []
        for code, name, towns in data.DISTRICTS:
            district = _division(code, name, 3, city)
            districts.append(district)
            GovernmentBody.objects.get_or_create(
                division=district, name=f"{name}人民政府", defaults={"kind": BodyKind.GOVERNMENT}
            )
            for index, town in enumerate(towns, start=1):
                town_division = _division(f"{code[:6]}{index:03d}000", town, 4, district)
                if index == 1:
                    for number, village in enumerate(data.VILLAGES, start=1):
                        _division(f"{code[:6]}{index:03d}{number:03d}", village, 5, town_division)

        departments: dict[str, Department] = {}
        units: dict[str, list[Unit]] = {}
        for code, name, short, business in data.CITY_DEPARTMENTS:
            department = _department(city, code, name, short, government, None)
            departments[code] = department
            units[code] = [
                _unit(department, i, unit_name)
                for i, unit_name in enumerate(data.COMMON_UNITS + business, start=1)
            ]
        for district_index, parent_code, suffix in data.DISTRICT_DEPARTMENTS:
            district = districts[district_index]
            code = f"{district.code[:6]}-{parent_code}"
            department = _department(
                district,
                code,
                f"{district.name}{suffix}",
                f"{district.name[:2]}{departments[parent_code].short_name[2:]}",
                None,
                departments[parent_code],
            )
            departments[code] = department
            units[code] = [
                _unit(department, i, unit_name)
                for i, unit_name in enumerate(data.COMMON_UNITS[:3], start=1)
            ]
        jw = _department(
            city, "JW", "中共示范市纪律检查委员会 示范市监察委员会", "示范纪", discipline, None
        )
        departments["JW"] = jw
        units["JW"] = [_unit(jw, 1, "党风政风监督室"), _unit(jw, 2, "电子监察室")]

        # named demo logins first, so their names are stable
        zsj_service, scj_registration = units["ZSJ"][4], units["SCJ"][4]
        self.staff(
            "clerk", zsj_service, "window_clerk", "window_clerk", Scope.UNIT, display="陈晓燕"
        )
        self.staff(
            "officer",
            scj_registration,
            "clerk",
            "department_officer",
            Scope.UNIT_TREE,
            display="刘建国",
        )
        self.staff(
            "leader",
            units["SCJ"][0],
            "director",
            "department_leader",
            Scope.DEPARTMENT_TREE,
            display="王志强",
        )
        self.staff(
            "supervisor",
            units["JW"][1],
            "inspector",
            "supervisor",
            Scope.DIVISION,
            display="赵丽华",
        )
        for username, admin_role, display in (
            ("sysadmin", "system_admin", "孙浩"),
            ("secadmin", "security_admin", "周敏"),
            ("auditor", "auditor", "吴婷"),
        ):
            self.staff(
                username,
                units["ZSJ"][0],
                "it_admin",
                None,
                display=display,
                admin_role=admin_role,
                is_staff=True,
            )
        # everyone else
        for code in departments:
            prefix = code.lower().replace("-", "")
            department_units = units[code]
            self.staff(
                f"{prefix}_d01",
                department_units[0],
                "director",
                "department_leader",
                Scope.DEPARTMENT_TREE,
            )
            self.staff(
                f"{prefix}_d02",
                department_units[0],
                "deputy_director",
                "department_leader",
                Scope.DEPARTMENT_TREE,
            )
            for index, unit in enumerate(department_units, start=1):
                self.staff(
                    f"{prefix}_u{index:02d}c",
                    unit,
                    "section_chief",
                    "department_officer",
                    Scope.UNIT_TREE,
                )
                for member in range(1 + (index % 4 != 0) + (1 if code == "JW" else 0)):
                    role = "supervisor" if code == "JW" else "department_officer"
                    scope = Scope.DIVISION if code == "JW" else Scope.UNIT_TREE
                    self.staff(f"{prefix}_u{index:02d}s{member + 1}", unit, "clerk", role, scope)
        self.flush_staff()

        centre = self._centres(city, districts[0], departments, units)
        people = self._public()
        TOTPDevice.objects.bulk_create(
            [
                TOTPDevice(user=user, name="demo", confirmed=True, key=DEMO_TOTP_KEY)
                for user in User.objects.filter(
                    username__in=["supervisor", "sysadmin", "secadmin", "auditor"]
                )
                if not TOTPDevice.objects.filter(user=user, confirmed=True).exists()
            ]
        )
        User.objects.filter(username__in=["supervisor", "sysadmin", "secadmin", "auditor"]).update(
            mfa_enabled=True
        )

        summary = Summary(
            counts={
                "divisions": Division.objects.count(),
                "departments": Department.objects.count(),
                "units": Unit.objects.count(),
                "staff": User.objects.filter(kind="staff").count(),
                "windows": Window.objects.filter(centre=centre).count(),
                "citizens": people["citizens"],
                "enterprises": people["enterprises"],
            }
        )
        summary.logins = [
            Login("clerk", "窗口受理员 (window clerk)", "政务服务中心综合受理窗口"),
            Login("officer", "部门经办人 (department officer)", "市场监督管理局登记注册科"),
            Login("leader", "部门领导 (department leader)", "市场监督管理局局长"),
            Login("supervisor", "电子监察员 (supervisor)", "TOTP"),
            Login("sysadmin", "系统管理员 (system administrator)", "TOTP"),
            Login("secadmin", "安全管理员 (security administrator)", "TOTP"),
            Login("auditor", "安全审计员 (auditor)", "TOTP"),
            Login("citizen", "公众 (citizen)", "张明"),
            Login("agent", "企业经办人 (enterprise agent)", data.ENTERPRISES[0]),
        ]
        return summary

    def _centres(
        self,
        city: Division,
        district: Division,
        departments: dict[str, Department],
        units: dict[str, list[Unit]],
    ) -> ServiceCentre:
        centre, _ = ServiceCentre.objects.get_or_create(
            division=city,
            name="示范市政务服务中心",
            defaults={
                "address": "示范市东湖区市民大道100号",
                "phone": "0999-12345",
                "hours": "周一至周五 9:00-12:00 13:30-17:00（法定节假日除外）",
            },
        )
        windows: list[tuple[str, str, str, Department | None]] = []
        for number in range(1, 7):
            windows.append(
                (f"{number:02d}", "综合受理窗口", WindowKind.COMPREHENSIVE, departments["ZSJ"])
            )
        for number, code in enumerate(
            [
                "SCJ",
                "SCJ",
                "SCJ",
                "GAJ",
                "GAJ",
                "RSJ",
                "RSJ",
                "TSJ",
                "TSJ",
                "ZRZYJ",
                "BDC",
                "BDC",
                "ZJJ",
                "HJJ",
                "WJW",
                "MZJ",
                "JTJ",
                "YBJ",
                "GJJ",
                "XFZD",
            ],
            start=7,
        ):
            windows.append(
                (
                    f"{number:02d}",
                    departments[code].name.removeprefix("示范市").removeprefix("国家税务总局示范市")
                    + "窗口",
                    WindowKind.DEPARTMENT,
                    departments[code],
                )
            )
        windows += [
            ("27", "出件窗口", WindowKind.DELIVERY, departments["ZSJ"]),
            ("28", "出件窗口", WindowKind.DELIVERY, departments["ZSJ"]),
            ("29", "咨询窗口", WindowKind.CONSULTATION, departments["ZSJ"]),
            ("30", "“办不成事”反映窗口", WindowKind.CONSULTATION, departments["ZSJ"]),
        ]
        for window_number, name, kind, department in windows:
            Window.objects.get_or_create(
                centre=centre,
                number=window_number,
                defaults={"name": name, "kind": kind, "department": department},
            )
        district_centre, _ = ServiceCentre.objects.get_or_create(
            division=district,
            name="东湖区政务服务中心",
            defaults={
                "address": "示范市东湖区湖滨路8号",
                "phone": "0999-88001234",
                "hours": "周一至周五 9:00-12:00 13:30-17:00",
            },
        )
        for number in range(1, 9):
            Window.objects.get_or_create(
                centre=district_centre,
                number=f"{number:02d}",
                defaults={"name": "综合受理窗口", "kind": WindowKind.COMPREHENSIVE},
            )
        # window clerks for the centre's windows
        self.pending_users, self.pending_postings, self.pending_roles = [], [], []
        for number in range(1, 21):
            self.staff(
                f"zxck{number:02d}", units["ZSJ"][4], "window_clerk", "window_clerk", Scope.UNIT
            )
        self.flush_staff()
        return centre

    def _person(self, index: int, name: str, area: str, mobile: bool) -> NaturalPerson:
        birth = dt.date(1960 + index % 40, 1 + index % 12, 1 + index % 28)
        number = make_resident_id(area, birth, 100 + index)
        digest = lookup_hmac(number, purpose="person.id_number")
        existing = NaturalPerson.objects.filter(id_number_hmac=digest).first()
        if existing is not None:
            return existing
        phone = f"1380000{index:04d}" if mobile else ""
        return NaturalPerson.objects.create(
            name=name,
            id_number=number,
            id_number_hmac=digest,
            id_number_masked=mask_id_number(number),
            birth_date=birth,
            gender="M" if int(number[16]) % 2 else "F",
            mobile=phone or None,
            mobile_masked=mask_phone(phone) if phone else "",
            address=None,
        )

    def _public(self) -> dict[str, int]:
        areas = ["990102", "990103", "990104"]
        names = ["张明", "李娜"] + [self.name() for _ in range(48)]
        users: list[User] = []
        for index, name in enumerate(names):
            username = {0: "citizen", 1: "agent"}.get(index, f"citizen{index:03d}")
            person = self._person(index, name, areas[index % 3], mobile=index % 2 == 0)
            user = User.objects.filter(username=username).first()
            if user is None:
                user = User(
                    username=username,
                    display_name=name,
                    kind="public",
                    password=self.password,
                    person=person,
                )
                user.set_mobile(f"1380000{index:04d}" if index % 2 == 0 else "")
                user.save()
            users.append(user)
        for index, name in enumerate(data.ENTERPRISES):
            area = areas[index % 3]
            uscc = make_uscc("9", "1", area, _org_code(f"enterprise-{index}"))
            representative = users[(index + 2) % len(users)]
            legal_person, _ = LegalPerson.objects.get_or_create(
                uscc=uscc,
                defaults={
                    "name": name,
                    "kind": "enterprise",
                    "legal_representative": representative.display_name,
                    "legal_representative_person": representative.person,
                    "address": f"示范市{['东湖区', '西山区', '南江区'][index % 3]}"
                    f"创业路{index + 1}号",
                    "registered_on": dt.date(2015 + index % 10, 3, 1),
                },
            )
            if index < 3:
                AgentAuthorisation.objects.get_or_create(
                    agent=users[1],
                    legal_person=legal_person,
                    revoked_at=None,
                    defaults={"valid_from": dt.date(2026, 1, 1)},
                )
        return {"citizens": len(users), "enterprises": len(data.ENTERPRISES)}


def _welcome(usernames: list[str]) -> None:
    from tongban.platform.notify.models import Message
    from tongban.platform.notify.services import notify_send

    for user in User.objects.filter(username__in=usernames):
        if not Message.objects.filter(recipient=user, template_code="platform.welcome").exists():
            notify_send(
                recipients=[user],
                template_code="platform.welcome",
                context={"city": "示范市", "name": user.display_name, "username": user.username},
                category="account",
            )


#: printed logins of the official-documents part (tongban/demo/documents.py)
DOCUMENT_LOGINS = (
    ("szfb_d01", "市政府秘书长 (signs off city documents)", "示范市人民政府办公室"),
    ("szfb_u01c", "文书 (numbers, seals, sends; groups)", "示范市人民政府办公室秘书科"),
    ("szfb_u02c", "督查 (supervised tasks)", "示范市人民政府办公室督查科"),
    ("scj_u01c", "文书 (receives, registers)", "市场监督管理局办公室"),
)


class DemoRefused(Exception):
    """The demo city may not be loaded here."""

    @classmethod
    def production(cls) -> DemoRefused:
        return cls(
            "示范数据不能载入生产环境 (TONGBAN_ENV=production): the demo city's logins and "
            "password are public. Load it into a development or test database."
        )


def load_demo_city() -> Summary:
    """Load 示范市 (safe to repeat). Refused in production (``TONGBAN_ENV=production``):
    its logins and password are printed in the README, anyone could sign in with them."""
    if settings.PRODUCTION:
        raise DemoRefused.production()
    with transaction.atomic():
        summary = Loader().load()
        load_demo_document_units()  # the general office and district governments
        grant_catalog_permissions()
        summary.counts.update(load_demo_catalog())
        # base data and sharing before the approvals: the live 新生儿出生 cases fetch their
        # birth and household materials through the gateway when they are submitted
        summary.counts.update(load_demo_basedata())
        summary.counts.update(load_demo_sharing())
        data_administrators = grant_sharing_permissions()
        cases = load_demo_approvals()
        summary.counts.update(load_demo_exchange())
        summary.counts.update(load_demo_documents())
        for username, role, where in DOCUMENT_LOGINS:
            if User.objects.filter(username=username).exists():
                summary.logins.append(Login(username, role, where))
        summary.counts.update(cases.counts)
        supervised = load_demo_supervision()
        summary.counts.update(supervised.counts)
        summary.counts["supervision_ms"] = round(supervised.seconds * 1000)
        alerts = supervised.counts.get("supervision_alerts", 0)
        if alerts:
            cases.notes["supervisor"] = " · ".join(
                part
                for part in (
                    cases.notes.get("supervisor", ""),
                    f"监察预警 {alerts} 条 (/supervision/)",
                )
                if part
            )
        for username in data_administrators:
            cases.notes[username] = "数据资源管理员：资源目录审核、共享统计、基础库质量 (/sharing/)"
            if username not in {login.username for login in summary.logins}:
                summary.logins.append(
                    Login(
                        username, "数据资源管理员 (data administrator)", "示范市政务服务数据管理局"
                    )
                )
        if supervised.hotline_key:
            cases.notes["sysadmin"] = f"12345热线接入密钥（仅显示一次）：{supervised.hotline_key}"
        for login in summary.logins:
            if login.username in cases.notes:
                login.note = " · ".join(
                    part for part in (login.note, cases.notes[login.username]) if part
                )
        _welcome([login.username for login in summary.logins])
        audit_record(
            action="demo.city.load",
            object_type="demo.city",
            object_label="示范市",
            detail=summary.counts,
        )
    return summary
