"""The demo loader: the demo citizen has a recent newborn; a second run adds nothing."""

from __future__ import annotations

import datetime as dt
import io

from tests import factories
from tongban.apps.basedata import public
from tongban.apps.basedata.models import BirthRecord, LegalPerson, NaturalPerson, QualityIssue
from tongban.demo import basedata as demo


def test_demo_load_is_idempotent_and_gives_the_citizen_a_newborn(city):
    factories.department(
        factories.division("990000000000", "示范省", 1), "ZRZYJ", "示范市自然资源局"
    )
    company = factories.enterprise()
    company.legal_representative_person = city.citizen.person
    company.save()
    out = io.StringIO()
    summary = demo.load(out, residents=300, births=30)
    assert summary["residents"] >= 300
    assert summary["births"] == 30
    assert summary["legal_persons"] == 1
    assert summary["quality_issues"] >= 3
    number = str(city.citizen.person.id_number)
    person = public.person_get(number)
    assert person is not None
    assert person["relation_to_head"] == "户主"
    assert len(public.household_members(person["household_number"])) == 2
    births = public.births_of_parent(number)
    assert len(births) == 1
    born = dt.date.fromisoformat(births[0]["birth_date"])
    assert (dt.date.today() - born).days <= 31
    assert public.legal_person_get(company.uscc)["legal_representative_id_number"] == number
    assert public.address_search("示范市", limit=5)
    assert public.field_sources("person", number)["name"][0] == "示范市公安局"
    counts = (
        NaturalPerson.objects.count(),
        BirthRecord.objects.count(),
        LegalPerson.objects.count(),
        QualityIssue.objects.count(),
    )
    assert demo.load(residents=300, births=30) == {}
    assert 90 <= demo.load(residents=400, births=30)["residents"] <= 110
    assert BirthRecord.objects.count() == counts[1]
    assert QualityIssue.objects.count() == counts[3]
    assert "basedata demo" in out.getvalue()
