"""The demo city's base databases: the demo citizens and ~2,000 further residents in
households, ~200 births (one recent, with the demo user "citizen" as a parent, for the
新生儿出生 once-only demo), the demo enterprises as legal persons, addresses, and a few
quality issues for the data steward.

``load(stdout=None)`` needs the demo city (departments, citizens, enterprises); it is
idempotent: rows are found by their keys and a second run writes nothing new.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any, TextIO

from django.db import models, transaction
from django.utils import timezone

from tongban.apps.basedata import services
from tongban.apps.basedata.models import (
    PREFIX_PURPOSE,
    AddressEntry,
    BirthRecord,
    IssueKind,
    LegalPerson,
    NaturalPerson,
)
from tongban.demo import data
from tongban.platform.accounts.idnumbers import make_resident_id, make_uscc, resident_is_male
from tongban.platform.accounts.models import LegalPerson as AccountLegalPerson
from tongban.platform.accounts.models import User
from tongban.platform.crypto.masking import mask_id_number, mask_name
from tongban.platform.crypto.sm import lookup_hmac
from tongban.platform.orgs.models import Department

RESIDENTS = 2000
BIRTHS = 200
CITIZEN_BIRTH = "Q990100000001"  # the demo citizen's newborn (新生儿出生)
AREAS = [("990102", "东湖区"), ("990103", "西山区"), ("990104", "南江区")]
ROADS = [
    "中山路",
    "解放路",
    "人民路",
    "建设路",
    "湖滨路",
    "柳岸路",
    "翠微路",
    "江南大道",
    "滨江路",
    "学府路",
]
ETHNICITIES = ["汉族"] * 18 + ["回族", "畲族"]
HOSPITALS = ["示范市妇幼保健院", "示范市第一医院", "东湖区人民医院", "南江区中心医院"]
PERSON_GA = (
    "name",
    "gender",
    "ethnicity",
    "birth_date",
    "birth_place",
    "household_number",
    "household_address",
    "relation_to_head",
    "residence_address",
    "phone",
)


def _say(stdout: TextIO | None, text: str) -> None:
    if stdout is not None:
        stdout.write(text + "\n")


class _Stamps:
    def __init__(self) -> None:
        self.now = timezone.now()
        self.names = dict(Department.objects.values_list("code", "name"))

    def stamp(self, code: str, days_ago: int = 0) -> dict[str, str]:
        at = self.now - dt.timedelta(days=days_ago)
        return {
            "department": code,
            "department_name": self.names.get(code, code),
            "at": at.isoformat(),
        }

    def sources(self, fields: tuple[str, ...], code: str, days_ago: int = 0) -> dict[str, Any]:
        stamp = self.stamp(code, days_ago)
        return {name: dict(stamp) for name in fields}


def _person(number: str, name: str, **values: Any) -> NaturalPerson:
    return NaturalPerson(
        id_number=number,
        id_number_hmac=services.id_hmac(number),
        id_prefix_hmac=lookup_hmac(number[:17], purpose=PREFIX_PURPOSE),
        id_number_masked=mask_id_number(number),
        id_check_ok=services.datasets.resident_check_ok(number),
        name=name,
        name_masked=mask_name(name),
        **values,
    )


def _insert(model: type[models.Model], rows: list[Any]) -> int:
    before = model._default_manager.count()
    model._default_manager.bulk_create(rows, batch_size=500, ignore_conflicts=True)
    return int(model._default_manager.count() - before)


class _Builder:
    def __init__(self) -> None:
        self.rng = random.Random(2026_06)  # noqa: S311 - deterministic demo data
        self.stamps = _Stamps()
        self.used: set[str] = set()
        self.people: list[NaturalPerson] = []
        self.couples: list[tuple[NaturalPerson, NaturalPerson]] = []

    def name(self, surname: str | None = None) -> str:
        given = "".join(self.rng.choice(data.GIVEN) for _ in range(self.rng.choice((1, 2))))
        return (surname or self.rng.choice(data.SURNAMES)) + given

    def number(self, area: str, birth: dt.date, male: bool) -> str:
        while True:
            sequence = self.rng.randrange(200, 999)
            if (sequence % 2 == 1) != male:
                sequence += 1 if sequence < 998 else -1
            number = make_resident_id(area, birth, sequence)
            if number not in self.used:
                self.used.add(number)
                return number

    def address(self, area_name: str, index: int) -> str:
        street = data.DISTRICTS[[a for _c, a in AREAS].index(area_name)][2][index % 4]
        return f"示范市{area_name}{street}{ROADS[index % len(ROADS)]}{index % 180 + 1}号"

    def resident(
        self,
        *,
        area: tuple[str, str],
        birth: dt.date,
        male: bool,
        household: str,
        address: str,
        relation: str,
        surname: str | None = None,
        marital: str = "",
        number: str | None = None,
        name: str | None = None,
    ) -> NaturalPerson:
        number = number or self.number(area[0], birth, male)
        self.used.add(number)
        name = name or self.name(surname)
        days = self.rng.randrange(10, 900)
        sources = self.stamps.sources(PERSON_GA, "GAJ", days)
        sources["id_number"] = dict(sources["name"])
        if marital:
            sources["marital_status"] = self.stamps.stamp("MZJ", self.rng.randrange(5, 600))
        phone = f"139{self.rng.randrange(10**7, 10**8)}" if birth.year < 2008 else None
        person = _person(
            number,
            name,
            gender="男" if male else "女",
            ethnicity=self.rng.choice(ETHNICITIES),
            birth_date=birth,
            birth_place=f"示范省示范市{area[1]}",
            household_number=household,
            household_address=address,
            relation_to_head=relation,
            marital_status=marital,
            phone=phone,
            residence_address=address,
            sources=sources,
        )
        self.people.append(person)
        return person

    def household(self, serial: int) -> None:
        area = AREAS[serial % 3]
        household = f"{area[0]}{serial:06d}"
        address = self.address(area[1], serial)
        head_birth = dt.date(
            1950 + self.rng.randrange(45), self.rng.randrange(1, 13), self.rng.randrange(1, 29)
        )
        head_male = self.rng.random() < 0.7
        head = self.resident(
            area=area,
            birth=head_birth,
            male=head_male,
            household=household,
            address=address,
            relation="户主",
            marital="已婚" if self.rng.random() < 0.8 else "未婚",
        )
        if head.marital_status != "已婚":
            return
        spouse_birth = head_birth + dt.timedelta(days=self.rng.randrange(-1500, 1500))
        spouse = self.resident(
            area=area,
            birth=spouse_birth,
            male=not head_male,
            household=household,
            address=address,
            relation="配偶",
            marital="已婚",
        )
        father, mother = (head, spouse) if head_male else (spouse, head)
        self.couples.append((mother, father))
        surname = str(father.name)[0]
        for child in range(self.rng.randrange(0, 3)):
            year = max(head_birth.year, spouse_birth.year) + 24 + child * 3 + self.rng.randrange(3)
            if year > 2025:
                break
            male = self.rng.random() < 0.5
            self.resident(
                area=area,
                birth=dt.date(year, self.rng.randrange(1, 13), self.rng.randrange(1, 29)),
                male=male,
                household=household,
                address=address,
                relation="子" if male else "女",
                surname=surname,
                marital="未婚",
            )


def _birth(
    stamps: _Stamps,
    number: str,
    mother: NaturalPerson,
    father: NaturalPerson,
    name: str,
    gender: str,
    born: dt.date,
    hospital: str,
) -> BirthRecord:
    fields = (
        "certificate_number",
        "newborn_name",
        "newborn_gender",
        "birth_date",
        "birth_place",
        "hospital",
        "mother_id_number",
        "mother_name",
        "father_id_number",
        "father_name",
    )
    return BirthRecord(
        certificate_number=number,
        newborn_name=name,
        newborn_gender=gender,
        birth_date=born,
        birth_place="示范省示范市",
        hospital=hospital,
        mother_id=mother.id_number,
        mother_id_hmac=mother.id_number_hmac,
        mother_id_masked=mother.id_number_masked,
        mother_name=str(mother.name),
        father_id=father.id_number,
        father_id_hmac=father.id_number_hmac,
        father_id_masked=father.id_number_masked,
        father_name=str(father.name),
        sources=stamps.sources(fields, "WJW", max(0, (stamps.now.date() - born).days - 2)),
    )


def _citizens(builder: _Builder) -> tuple[NaturalPerson | None, NaturalPerson | None]:
    """The demo citizens as residents; "citizen" heads a household with a spouse."""
    users = User.objects.filter(kind="public", person__isnull=False).select_related("person")
    main: NaturalPerson | None = None
    spouse: NaturalPerson | None = None
    for index, user in enumerate(users.order_by("pk")):
        account = user.person
        if account is None:
            continue
        number = str(account.id_number)
        area = next((a for a in AREAS if a[0] == number[:6]), AREAS[0])
        household = f"{area[0]}9{index:05d}"
        address = builder.address(area[1], 500 + index)
        male = resident_is_male(number)
        person = builder.resident(
            area=area,
            birth=account.birth_date or dt.date(1980, 1, 1),
            male=male,
            household=household,
            address=address,
            relation="户主",
            marital="已婚" if user.username == "citizen" else "",
            number=number,
            name=account.name,
        )
        if user.username == "citizen":
            main = person
            spouse = builder.resident(
                area=area,
                birth=dt.date(person.birth_date.year - 1, 6, 18),  # type: ignore[union-attr]
                male=not male,
                household=household,
                address=address,
                relation="配偶",
                marital="已婚",
            )
    return main, spouse


def _legal_persons(stamps: _Stamps) -> list[LegalPerson]:
    fields = (
        "uscc",
        "name",
        "entity_type",
        "legal_representative",
        "legal_representative_id_number",
        "registered_address",
        "registered_capital",
        "established_on",
        "business_scope",
        "status",
        "registration_authority",
    )
    rows = []
    for index, company in enumerate(
        AccountLegalPerson.objects.select_related("legal_representative_person").order_by("pk")
    ):
        representative = company.legal_representative_person
        rep_id = str(representative.id_number) if representative is not None else ""
        sources = stamps.sources(fields, "SCJ", 30 + index * 7)
        if not rep_id:
            sources.pop("legal_representative_id_number")
        rows.append(
            LegalPerson(
                uscc=company.uscc,
                name=company.name,
                entity_type="有限责任公司（自然人投资或控股）",
                legal_representative=company.legal_representative,
                legal_representative_id=rep_id or None,
                legal_representative_id_hmac=services.id_hmac(rep_id) if rep_id else "",
                legal_representative_id_masked=mask_id_number(rep_id) if rep_id else "",
                registered_address=company.address or "",
                registered_capital=f"{(index % 9 + 1) * 100}万元人民币",
                established_on=company.registered_on,
                business_scope="一般项目：技术服务、技术开发、技术咨询；货物进出口。",
                status="存续",
                registration_authority="示范市市场监督管理局",
                sources=sources,
            )
        )
    return rows


def _addresses(stamps: _Stamps) -> list[AddressEntry]:
    rows = []
    fields = ("code", "full_address", "district", "street", "community", "longitude", "latitude")
    serial = 0
    for district_index, (area, district) in enumerate(AREAS):
        streets = data.DISTRICTS[district_index][2]
        for street_index, street in enumerate(streets):
            for community in data.VILLAGES:
                for number in range(1, 9):
                    serial += 1
                    road = ROADS[(street_index + number) % len(ROADS)]
                    rows.append(
                        AddressEntry(
                            code=f"{area}{serial:08d}",
                            full_address=f"示范市{district}{street}{community}{road}{number * 3}号",
                            district=district,
                            street=street,
                            community=community,
                            longitude=Decimal("118.080000") + Decimal(serial) / 10000,
                            latitude=Decimal("24.480000")
                            + Decimal(district_index * 40 + number) / 10000,
                            sources=stamps.sources(fields, "ZRZYJ", serial % 200),
                        )
                    )
    return rows


def _quality_samples(builder: _Builder, stamps: _Stamps) -> int:
    """A few records with problems for the steward's page: a resident reported twice (once
    with a wrong check character), an enterprise name registered twice, a conflict."""
    base = builder.people[10]
    number = str(base.id_number)
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    twin = NaturalPerson(
        id_number=wrong,
        id_number_hmac=services.id_hmac(wrong),
        id_prefix_hmac=base.id_prefix_hmac,
        id_number_masked=mask_id_number(wrong),
        id_check_ok=False,
        name=base.name,
        name_masked=base.name_masked,
        gender=base.gender,
        birth_date=base.birth_date,
        household_number=base.household_number,
        sources=stamps.sources(("name", "gender", "birth_date", "household_number"), "MZJ", 40),
    )
    _insert(NaturalPerson, [twin])
    company = AccountLegalPerson.objects.order_by("pk").first()
    if company is not None:
        copy = LegalPerson(
            uscc=make_uscc("9", "1", "990102", "MA1DEM00X"),
            name=company.name,
            status="注销",
            registration_authority="东湖区市场监督管理局",
            sources=stamps.sources(("uscc", "name", "status"), "SCJ", 900),
        )
        _insert(LegalPerson, [copy])
    found = services.quality_run()
    # a conflict: 人社 reported another phone number than 公安 for one resident
    target = next((person for person in builder.people[20:] if person.phone), None)
    if target is not None:
        phone = str(target.phone)
        found += services.issue_open(
            kind=IssueKind.CONFLICT,
            dataset="person",
            record_id=int(target.pk),
            label=services.record_label(services.DATASETS["person"], target),
            field="phone",
            values=[
                {**stamps.stamp("GAJ", 60), "value": phone},
                {**stamps.stamp("RSJ", 3), "value": "137" + phone[3:]},
            ],
        )
    return found


def load(
    stdout: TextIO | None = None, *, residents: int = RESIDENTS, births: int = BIRTHS
) -> dict[str, int]:
    if not Department.objects.filter(code="GAJ").exists():
        _say(stdout, "basedata demo skipped: the demo city is not loaded")
        return {}
    summary: dict[str, int] = {}
    if BirthRecord.objects.filter(certificate_number=CITIZEN_BIRTH).exists() and (
        NaturalPerson.objects.count() >= residents
    ):
        _say(stdout, "basedata demo: already loaded")
        return summary
    with transaction.atomic():
        builder = _Builder()
        stamps = builder.stamps
        main, spouse = _citizens(builder)
        serial = 1
        while len(builder.people) < residents:
            builder.household(serial)
            serial += 1
        summary["residents"] = _insert(NaturalPerson, builder.people)
        # births: the demo citizen's newborn (ten days ago), then earlier ones
        records = []
        if main is not None and spouse is not None:
            mother, father = (
                (spouse, main) if resident_is_male(str(main.id_number)) else (main, spouse)
            )
            records.append(
                _birth(
                    stamps,
                    CITIZEN_BIRTH,
                    mother,
                    father,
                    str(father.name)[0] + "小满",
                    "女",
                    stamps.now.date() - dt.timedelta(days=10),
                    HOSPITALS[0],
                )
            )
        couples = builder.couples
        for index in range(max(0, births - len(records))):
            mother, father = couples[index % len(couples)]
            born = stamps.now.date() - dt.timedelta(days=20 + builder.rng.randrange(1, 1100))
            gender = builder.rng.choice("男女")
            records.append(
                _birth(
                    stamps,
                    f"Q99010{index + 2:07d}",
                    mother,
                    father,
                    builder.name(str(father.name)[0]),
                    gender,
                    born,
                    builder.rng.choice(HOSPITALS),
                )
            )
        summary["births"] = _insert(BirthRecord, records)
        summary["legal_persons"] = _insert(LegalPerson, _legal_persons(stamps))
        summary["addresses"] = _insert(AddressEntry, _addresses(stamps))
        builder.people = list(
            NaturalPerson.objects.filter(
                id_number_hmac__in=[p.id_number_hmac for p in builder.people[:40]]
            ).order_by("pk")
        )
        summary["quality_issues"] = (
            _quality_samples(builder, stamps) if len(builder.people) > 20 else 0
        )
    _say(stdout, "basedata demo: " + ", ".join(f"{key} {value}" for key, value in summary.items()))
    return summary
