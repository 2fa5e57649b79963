"""Small factories for tests: an org tree, staff with roles, citizens, enterprises."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from tongban.platform.access.models import Role, RoleAssignment, Scope
from tongban.platform.access.registry import all_permissions
from tongban.platform.access.services import access_sync_permissions
from tongban.platform.accounts.idnumbers import make_resident_id, make_uscc
from tongban.platform.accounts.models import LegalPerson, NaturalPerson, User
from tongban.platform.crypto.masking import mask_id_number
from tongban.platform.crypto.sm import lookup_hmac
from tongban.platform.orgs.models import Department, Division, Position, Posting, Unit

PASSWORD = "Test@2026x"
_counter = itertools.count(1)


def division(
    code: str = "990100000000", name: str = "示范市", level: int = 2, parent: Division | None = None
) -> Division:
    path = (parent.path if parent else "/") + code + "/"
    return Division.objects.create(code=code, name=name, level=level, parent=parent, path=path)


def department(
    division_obj: Division, code: str, name: str, parent: Department | None = None
) -> Department:
    number = next(_counter)
    uscc = make_uscc("1", "1", division_obj.code[:6], f"{number:08d}0")
    path = (parent.path if parent else "/") + code + "/"
    return Department.objects.create(
        division=division_obj,
        code=code,
        uscc=uscc,
        name=name,
        parent=parent,
        path=path,
        division_path=division_obj.path,
    )


def unit(department_obj: Department, code: str, name: str, parent: Unit | None = None) -> Unit:
    path = (parent.path if parent else "/") + code + "/"
    return Unit.objects.create(
        department=department_obj,
        code=code,
        name=name,
        parent=parent,
        path=path,
        department_path=department_obj.path,
        division_path=department_obj.division_path,
    )


def role(code: str, permissions: list[str] | None = None, **extra: Any) -> Role:
    access_sync_permissions()
    role_obj, _ = Role.objects.get_or_create(code=code, defaults={"name": code, **extra})
    codes = permissions if permissions is not None else [p.code for p in all_permissions()]
    from tongban.platform.access.models import Permission

    role_obj.permissions.set(Permission.objects.filter(code__in=codes))
    return role_obj


def staff(
    username: str,
    unit_obj: Unit | None = None,
    *,
    role_obj: Role | None = None,
    scope: str = Scope.UNIT,
    admin_role: str = "",
    position: str = "科员",
    **extra: Any,
) -> User:
    user = User.objects.create_user(
        username,
        PASSWORD,
        display_name=extra.pop("name", username),
        kind="staff",
        admin_role=admin_role,
        is_staff=bool(admin_role),
        **extra,
    )
    if unit_obj is not None:
        position_obj, _ = Position.objects.get_or_create(code=position, defaults={"name": position})
        Posting.objects.create(user=user, unit=unit_obj, position=position_obj)
    if role_obj is not None:
        anchors: dict[str, Any] = {}
        if scope in (Scope.UNIT, Scope.UNIT_TREE):
            anchors["unit"] = unit_obj
        elif scope in (Scope.DEPARTMENT, Scope.DEPARTMENT_TREE):
            anchors["department"] = unit_obj.department if unit_obj else None
        elif scope == Scope.DIVISION:
            anchors["division"] = unit_obj.department.division if unit_obj else None
        RoleAssignment.objects.create(user=user, role=role_obj, scope=scope, **anchors)
    return user


def person(
    name: str = "张三",
    *,
    area: str = "990102",
    birth: dt.date = dt.date(1990, 5, 17),
    sequence: int | None = None,
) -> NaturalPerson:
    if sequence is None:
        # the sequence code has three digits: after 999 people move on to the next birthday
        count = next(_counter)
        sequence = count % 1000
        birth = birth + dt.timedelta(days=count // 1000)
    number = make_resident_id(area, birth, sequence)
    return NaturalPerson.objects.create(
        name=name,
        id_number=number,
        id_number_hmac=lookup_hmac(number, purpose="person.id_number"),
        id_number_masked=mask_id_number(number),
        birth_date=birth,
    )


def citizen(username: str = "citizen", name: str = "张三") -> User:
    return User.objects.create_user(
        username, PASSWORD, display_name=name, kind="public", person=person(name)
    )


def enterprise(name: str = "示范市测试科技有限公司") -> LegalPerson:
    number = next(_counter)
    uscc = make_uscc("9", "1", "990100", f"MA{number:06d}X")
    return LegalPerson.objects.create(
        name=name, uscc=uscc, kind="enterprise", legal_representative="李四"
    )


def sign_in_verified(client: Any, user: User) -> Any:
    """Sign ``user`` in with Django's test ``client``; a user who must use a second factor
    gets a verified session (as after /accounts/mfa/)."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client.force_login(user)
    if user.mfa_required:
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="TOTP", confirmed=True)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client
