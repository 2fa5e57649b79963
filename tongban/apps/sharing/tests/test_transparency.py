"""Citizen transparency: "who used my data" lists only the viewer's own calls (and their
enterprises'), and the improper-use report writes one row and one event, once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from tongban.apps.sharing import transparency
from tongban.apps.sharing.models import AccessReport, ReportStatus
from tongban.apps.sharing.tests.fixtures_calls import (  # noqa: F401
    SharingCity,
    id_of,
    local,
    sharing_city_fixture,
    sign_in,
)
from tongban.platform.audit.models import AuditEntry
from tongban.platform.events.models import Event

pytestmark = pytest.mark.django_db


def _a_call(city: SharingCity, **extra):
    return city.call(
        at=local(city.today, 9, 30),
        resource=city.person_resource,
        system=city.health_system,
        subjects=[id_of(city.citizen_a)],
        case_number="BJ2026000123",
        **extra,
    )


def _counts() -> tuple[int, int, int]:
    return (
        AccessReport.objects.count(),
        Event.objects.filter(name="sharing.access.reported").count(),
        AuditEntry.objects.filter(action="sharing.access_report.create").count(),
    )


def test_citizen_sees_their_own_calls_only(client, sharing_city):
    city = sharing_city
    mine = _a_call(city)
    theirs = city.call(
        at=local(city.today, 10),
        resource=city.licence_resource,
        system=city.civil_system,
        subjects=[id_of(city.citizen_b)],
        purpose="婚姻登记核验",
    )
    city.call(at=local(city.today, 11), resource=city.person_resource, system=city.civil_system)

    sign_in(client, city.citizen_a)
    page = client.get(reverse("sharing:my_data"))
    assert page.status_code == 200
    assert f'data-call="{mine.pk}"' in page.text
    assert f'data-call="{theirs.pk}"' not in page.text
    assert 'data-count="1"' in page.text
    for text in (
        "示范市卫生健康委员会",
        "出生医学证明系统",
        "人口基础信息",
        "办理出生登记",
        "BJ2026000123",
    ):
        assert text in page.text
    assert reverse("sharing:my_data_report", args=[mine.pk]) in page.text

    sign_in(client, city.citizen_b)
    page = client.get(reverse("sharing:my_data"))
    assert f'data-call="{mine.pk}"' not in page.text
    assert f'data-call="{theirs.pk}"' in page.text
    assert "婚姻登记核验" in page.text
    assert "BJ2026000123" not in page.text


def test_agent_sees_calls_on_their_enterprise_but_not_after_revocation(client, sharing_city):
    city = sharing_city
    call = city.call(
        at=local(city.today, 9),
        resource=city.licence_resource,
        system=city.civil_system,
        subjects=[city.enterprise.uscc],
    )
    sign_in(client, city.agent)
    page = client.get(reverse("sharing:my_data"))
    assert f'data-call="{call.pk}"' in page.text
    assert city.enterprise.name in page.text

    authorisation = city.agent.agent_authorisations.get()
    authorisation.revoked_at = local(city.today, 8)
    authorisation.save()
    page = client.get(reverse("sharing:my_data"))
    assert f'data-call="{call.pk}"' not in page.text


def test_user_without_identity_sees_an_explanation(client, sharing_city):
    sign_in(client, sharing_city.plain_staff)
    page = client.get(reverse("sharing:my_data"))
    assert page.status_code == 200
    assert "尚未完成实名认证" in page.text


def test_anonymous_visitor_is_sent_to_sign_in(client, sharing_city):
    call = _a_call(sharing_city)
    assert client.get(reverse("sharing:my_data")).status_code == 302
    response = client.post(reverse("sharing:my_data_report", args=[call.pk]), {"reason": "x"})
    assert response.status_code == 302
    assert _counts() == (0, 0, 0)


def test_report_creates_one_row_one_event_and_is_forwarded(client, sharing_city):
    city = sharing_city
    call = _a_call(city)
    sign_in(client, city.citizen_a)

    form = client.get(reverse("sharing:my_data_report", args=[call.pk]))
    assert form.status_code == 200
    response = client.post(
        reverse("sharing:my_data_report", args=[call.pk]), {"reason": "我没有在卫健委办理任何业务"}
    )

    assert response.status_code == 302
    assert _counts() == (1, 1, 1)
    report = AccessReport.objects.get()
    assert (report.call, report.reporter, report.status) == (
        call,
        city.citizen_a,
        ReportStatus.FORWARDED,
    )
    event = Event.objects.get(name="sharing.access.reported")
    assert event.payload == {
        "report_id": report.pk,
        "call_id": call.pk,
        "resource_code": "1010010001",
        "resource_name": "人口基础信息",
        "consumer_department_code": "WJW",
        "consumer_system_code": "wjw-birth",
        "provider_department_code": "GAJ",
        "accessed_at": timezone.localtime(call.at).isoformat(),
        "reason": "我没有在卫健委办理任何业务",
    }
    assert event.actor_id == city.citizen_a.pk
    page = client.get(reverse("sharing:my_data"))
    assert f'data-report="{report.pk}"' in page.text
    assert "已转电子监察" in page.text
    assert "已举报" in page.text


def test_double_report_is_rejected_in_chinese(client, sharing_city):
    city = sharing_city
    call = _a_call(city)
    transparency.access_report_create(actor=city.citizen_a, call_id=call.pk, reason="不当使用")

    with pytest.raises(ValidationError) as error:
        transparency.access_report_create(actor=city.citizen_a, call_id=call.pk, reason="再次举报")
    assert error.value.message_dict == {"reason": ["您已举报过这次数据使用，请勿重复举报"]}

    sign_in(client, city.citizen_a)
    response = client.post(reverse("sharing:my_data_report", args=[call.pk]), {"reason": "第三次"})
    assert response.status_code == 400
    assert "您已举报过这次数据使用，请勿重复举报" in response.text
    assert _counts() == (1, 1, 1)


def test_report_needs_a_reason(client, sharing_city):
    city = sharing_city
    call = _a_call(city)
    sign_in(client, city.citizen_a)
    response = client.post(reverse("sharing:my_data_report", args=[call.pk]), {"reason": "  "})
    assert response.status_code == 400
    assert "请填写举报理由" in response.text
    too_long = client.post(
        reverse("sharing:my_data_report", args=[call.pk]), {"reason": "长" * 1001}
    )
    assert too_long.status_code == 400
    assert _counts() == (0, 0, 0)


def test_other_user_cannot_see_or_report_someone_elses_call(client, sharing_city):
    city = sharing_city
    call = _a_call(city)
    for intruder in (city.citizen_b, city.agent, city.city_viewer):
        sign_in(client, intruder)
        assert client.get(reverse("sharing:my_data_report", args=[call.pk])).status_code == 404
        response = client.post(reverse("sharing:my_data_report", args=[call.pk]), {"reason": "x"})
        assert response.status_code == 404
    with pytest.raises(Http404):
        transparency.access_report_create(actor=city.citizen_b, call_id=call.pk, reason="x")
    sign_in(client, city.citizen_a)
    assert client.get(reverse("sharing:my_data_report", args=[call.pk + 999])).status_code == 404
    assert _counts() == (0, 0, 0)


def test_personal_space_links_the_page(client, sharing_city):
    city = sharing_city
    _a_call(city)
    city.call(
        at=local(city.today - dt.timedelta(days=40), 9),
        resource=city.person_resource,
        system=city.health_system,
        subjects=[id_of(city.citizen_a)],
    )
    sign_in(client, city.citizen_a)
    page = client.get(reverse("ui:personal"))
    assert page.status_code == 200
    assert reverse("sharing:my_data") in page.text
    assert "近30天被使用1次" in page.text
    assert transparency.personal_space_detail(city.plain_staff) == ""
