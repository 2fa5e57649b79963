"""The demo city's cases: a small history written in bulk, and the live cases written
through the services, loaded once for the module (with the real calendar)."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from unittest import mock

import pytest
from django.db import connection, transaction
from django.test import override_settings
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from tongban.apps.approvals import selectors, services
from tongban.apps.approvals.clock import case_clock
from tongban.apps.approvals.models import (
    Case,
    CaseCounter,
    CaseEvent,
    CaseMaterial,
    CaseState,
    CaseType,
    CorrectionRequest,
    Extension,
    Notice,
    Pause,
    Rating,
)
from tongban.demo import approvals as demo
from tongban.demo.loader import Summary, load_demo_city
from tongban.demo.tests.conftest import wrapping_transaction
from tongban.platform.access.models import RoleAssignment, Scope
from tongban.platform.accounts.models import User
from tongban.platform.audit.models import AuditEntry
from tongban.platform.calendar import services as calendar_services
from tongban.platform.events.models import Event
from tongban.platform.files.models import StoredFile
from tongban.platform.orgs.models import Department

pytestmark = pytest.mark.django_db

HISTORY_CASES = 240
BEIJING = demo.BEIJING
FIRST = dt.datetime.combine(demo.HISTORY_FIRST, dt.time(0, 0), tzinfo=BEIJING)
CUTOFF = dt.datetime.combine(demo.HISTORY_LAST, dt.time(23, 59), tzinfo=BEIJING)


@pytest.fixture(scope="module")
def city(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[Summary]:
    """The demo city with the calendar, 240 history cases and the live cases, loaded once
    for this module and rolled back afterwards."""
    media = tmp_path_factory.mktemp("media")
    with (
        django_db_blocker.unblock(),
        override_settings(MEDIA_ROOT=media),
        mock.patch.dict(os.environ, {demo.HISTORY_CASES_ENV: str(HISTORY_CASES)}),
        wrapping_transaction(),
    ):
        calendar_services.calendar_seed()
        summary = load_demo_city()
        yield summary
        transaction.set_rollback(True)
    calendar_services.invalidate()


def history() -> list[Case]:
    """The history cases (submitted in the past year; the live ones are today's)."""
    return list(
        Case.objects.filter(submitted_at__gte=FIRST, submitted_at__lte=CUTOFF)
        .prefetch_related("pauses", "corrections", "extensions", "parent__corrections")
        .select_related("department__division", "parent")
        .order_by("pk")
    )


def marker() -> dict[str, int]:
    entry = AuditEntry.objects.get(action=demo.HISTORY_MARKER)
    return json.loads(entry.detail)


def local(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(BEIJING)


def table_counts() -> tuple[int, ...]:
    return tuple(
        model.objects.count()
        for model in (
            Case,
            CaseEvent,
            CaseMaterial,
            Notice,
            CorrectionRequest,
            Pause,
            Extension,
            Rating,
            CaseCounter,
            User,
            StoredFile,
            Event,
        )
    )


def test_a_second_load_writes_nothing(city):
    before = table_counts()
    again = load_demo_city()
    assert table_counts() == before
    assert again.counts["live_cases"] == 0
    assert again.counts["live_failed"] == 0
    assert "history_cases" not in again.counts
    assert AuditEntry.objects.filter(action=demo.HISTORY_MARKER).count() == 1


def test_every_live_case_is_written_through_the_services(city):
    assert city.counts["live_failed"] == 0
    assert city.counts["live_cases"] == len(demo.LIVE)
    live = Case.objects.filter(idempotency_key__startswith="demo-live-")
    assert live.count() == len(demo.LIVE) - 1  # the draft has no key
    states = Counter(live.values_list("state", flat=True))
    assert states == {
        CaseState.SUBMITTED: 7,
        CaseState.CORRECTION: 3,
        CaseState.ACCEPTED: 13,
        CaseState.IN_REVIEW: 5,
        CaseState.DECIDED: 4,
        CaseState.DELIVERED: 8,
        CaseState.NOT_ACCEPTED: 2,
        CaseState.WITHDRAWN: 1,
    }
    # every live case that went past acceptance runs on a workflow instance (a 即办件
    # decided on the spot needs none)
    without = live.filter(accepted_at__isnull=False, is_joint=False, process_instance_id=None)
    assert not without.exclude(case_type=CaseType.INSTANT)
    # and every approvals event of the load is about a live case, none about the history
    numbers = set(Case.objects.filter(submitted_at__gt=CUTOFF).values_list("number", flat=True))
    published = {
        event.payload["case_number"]
        for event in Event.objects.filter(name__startswith="approvals.case.")
    }
    assert published
    assert published <= numbers
    files = CaseMaterial.objects.filter(case__in=live, file__isnull=False).select_related("file")
    assert files
    assert {material.file.content_type for material in files} == {"application/pdf"}


def test_the_history_is_finished_within_its_year_in_office_hours(city):
    cases = history()
    detail = marker()
    children = [case for case in cases if not case.is_joint]
    assert len(children) == HISTORY_CASES
    assert len(cases) == detail["cases"]
    assert {case.state for case in cases} <= {
        CaseState.DELIVERED,
        CaseState.NOT_ACCEPTED,
        CaseState.WITHDRAWN,
    }
    assert all(case.process_instance_id is None for case in cases)
    calendar = calendar_services.get_calendar()
    for case in cases:
        submitted = local(case.submitted_at)
        minute = submitted.hour * 60 + submitted.minute
        assert calendar.is_workday(submitted), case.number
        assert 540 <= minute < 720 or 810 <= minute < 1020, case.number
        ends = [case.ended_at, case.delivered_at, case.decided_at, case.accepted_at]
        assert all(FIRST <= moment <= CUTOFF for moment in ends if moment is not None)
        assert case.created_at == case.submitted_at
        if case.accepted_at is None:
            continue
        # a joint child waits for the corrections asked on its parent
        asked = case.parent.corrections.all() if case.parent_id else case.corrections.all()
        received = max([case.submitted_at] + [correction.answered_at for correction in asked])
        waited = calendar.working_days_between(received, case.accepted_at)
        assert waited in (0, 1), case.number
        if case.case_type == CaseType.INSTANT and not case.parent_id:
            assert local(case.accepted_at).date() == local(case.delivered_at).date()
    # the mix a year of a real city shows
    states = Counter(case.state for case in children)
    assert states[CaseState.DELIVERED] / len(children) > 0.9
    assert states[CaseState.NOT_ACCEPTED] >= 1
    assert detail["refused"] >= 1
    assert detail["corrections"] >= 10
    assert detail["pauses"] >= 1
    assert detail["extensions"] >= 1
    assert detail["joint_parents"] == 3
    ratings = Rating.objects.filter(case__in=cases)
    rated = ratings.count() / sum(
        1 for case in cases if case.state == CaseState.DELIVERED and not case.parent_id
    )
    assert 0.5 < rated < 0.7
    assert ratings.filter(level__gte=4).count() / ratings.count() > 0.85


def test_history_clock_figures_agree_with_the_clock(city):
    calendar = calendar_services.get_calendar()
    detail = marker()
    found: Counter[str] = Counter()
    for case in history():
        if case.decided_at is None or case.case_type == CaseType.INSTANT:
            continue
        clock = case_clock(case, calendar=calendar)
        decided = local(case.decided_at).date()
        if clock.promised_days_left > 0:
            category = demo.EARLY
            assert decided < clock.promised_deadline, case.number
        elif clock.promised_days_left == 0:
            category = demo.LAST_DAY
            assert decided == clock.promised_deadline, case.number
        elif clock.legal_days_left >= 0:
            category = demo.LATE
            assert clock.promised_deadline < decided <= clock.legal_deadline, case.number
        else:
            category = demo.LATE_LEGAL
            assert decided > clock.legal_deadline, case.number
        found[category] += 1
        # pauses are subtracted: used = working days since acceptance − paused ones
        paused = sum(
            calendar.working_days_between(pause.started_at, pause.ended_at)
            for pause in case.pauses.all()
        )
        assert clock.paused_days == paused
        total = calendar.working_days_between(case.accepted_at, case.decided_at)
        assert clock.used_days == total - paused
        # correction waits come before acceptance: the clock had not started
        assert all(c.answered_at <= case.accepted_at for c in case.corrections.all())
        # the decision's timeline row carries the same figures
        row = case.timeline.get(verb="decided")
        assert (row.working_days_used, row.working_days_left) == (
            clock.used_days,
            clock.promised_days_left,
        )
    counted = {key.removeprefix("timing_"): value for key, value in detail.items()}
    assert {name: counted[name] for name in counted if name in demo.TIMINGS} == dict(found)
    decided = sum(found.values())
    assert found[demo.EARLY] / decided > 0.75
    assert found[demo.LATE_LEGAL] / decided < 0.05


def test_case_numbers_are_unique_and_the_counter_continues(city):
    rows = list(
        Case.objects.exclude(state=CaseState.DRAFT).values_list(
            "number", "submitted_at", "department__division__code"
        )
    )
    numbers = [number for number, _at, _area in rows]
    assert len(numbers) == len(set(numbers))
    serials: dict[tuple[str, str], list[int]] = defaultdict(list)
    for number, submitted, area in rows:
        assert re.fullmatch(r"\d{26}", number), number
        assert number[12:20] == f"{local(submitted):%Y%m%d}", number
        serials[(number[:12], number[12:20])].append(int(number[20:]))
        if not number.startswith(area):
            # a joint parent is numbered in its lead department's area
            assert Case.objects.get(number=number).is_joint
    counters = {
        (counter.area_code, f"{counter.day:%Y%m%d}"): counter.last
        for counter in CaseCounter.objects.all()
    }
    assert set(counters) == set(serials)
    for key, taken in serials.items():
        assert sorted(taken) == list(range(1, len(taken) + 1)), key
        assert counters[key] == len(taken), key
    # the next submission on a history day continues the serial
    case = Case.objects.filter(submitted_at__lte=CUTOFF, is_joint=False).first()
    day = local(case.submitted_at).date()
    department = Department.objects.select_related("division").get(pk=case.department_id)
    last = counters[(department.division.code, f"{day:%Y%m%d}")]
    following = services._next_number(department, day)
    assert following == f"{department.division.code}{day:%Y%m%d}{last + 1:06d}"


def test_the_printed_logins_can_act(city):
    clerk, officer, leader, citizen = (
        User.objects.get(username=name) for name in ("clerk", "officer", "leader", "citizen")
    )
    assert RoleAssignment.objects.get(user=clerk, role__code="window_clerk").scope == Scope.DIVISION
    assert (
        RoleAssignment.objects.get(user=officer, role__code="department_officer").scope
        == Scope.DEPARTMENT
    )
    waiting = {case.idempotency_key for case in selectors.cases_to_accept(actor=clerk)}
    assert {"demo-live-01", "demo-live-05", "demo-live-07"} <= waiting
    # the clerk at the comprehensive window accepts for the regulator and for the police
    for key in ("demo-live-01", "demo-live-05"):
        case = Case.objects.get(idempotency_key=key)
        names = list(
            case.materials.filter(is_current=True, source="applicant").values_list(
                "name", flat=True
            )
        )
        accepted = services.case_accept(actor=clerk, case=case, checked=names)
        assert accepted.state == CaseState.ACCEPTED
    entries = selectors.task_inbox(actor=officer)
    reviews = {entry.case.idempotency_key for entry in entries if entry.task.role == "review"}
    assert "demo-live-01" in reviews
    assert len(reviews) >= 10
    decisions = [
        entry for entry in selectors.task_inbox(actor=leader) if entry.task.role == "decide"
    ]
    assert len(decisions) >= 5
    extension = selectors.extensions_to_approve(actor=leader).get()
    assert extension.case.idempotency_key == "demo-live-25"
    assert {case.idempotency_key for case in selectors.cases_to_deliver(actor=clerk)} >= {
        "demo-live-27",
        "demo-live-30",
    }
    states = set(selectors.case_list_for_applicant(actor=citizen).values_list("state", flat=True))
    assert states >= {
        CaseState.DRAFT,
        CaseState.SUBMITTED,
        CaseState.CORRECTION,
        CaseState.ACCEPTED,
        CaseState.IN_REVIEW,
        CaseState.DECIDED,
        CaseState.DELIVERED,
        CaseState.NOT_ACCEPTED,
        CaseState.WITHDRAWN,
    }
    assert "待受理" in next(login.note for login in city.logins if login.username == "clerk")


def test_history_phones_are_encrypted_and_masked(city):
    case = history()[0]
    with connection.cursor() as cursor:
        cursor.execute("SELECT contact_phone FROM approvals_case WHERE id = %s", [case.pk])
        raw = bytes(cursor.fetchone()[0])
    assert case.contact_phone.encode() not in raw
    assert re.fullmatch(r"1\d{10}", case.contact_phone)
    assert case.contact_phone_masked == f"{case.contact_phone[:3]}****{case.contact_phone[-4:]}"


def test_a_history_case_page_renders_for_the_supervisor(city, client):
    supervisor = User.objects.get(username="supervisor")
    client.force_login(supervisor)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.get(user=supervisor).persistent_id
    session.save()
    paused = Case.objects.filter(submitted_at__lte=CUTOFF, pauses__isnull=False).first()
    page = client.get(f"/cases/{paused.pk}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert paused.number in text
    assert "特别程序" in text
    assert "受理通知书" in text
    assert "办理流程" not in text  # no workflow instance: no diagram
    parent = Case.objects.filter(submitted_at__lte=CUTOFF, is_joint=True).first()
    page = client.get(f"/cases/{parent.pk}/")
    assert page.status_code == 200
    assert parent.children.first().number in page.content.decode()
    notice = Notice.objects.filter(case=paused).first()
    pdf = client.get(f"/cases/{paused.pk}/notices/{notice.pk}.pdf")
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
    assert client.get("/cases/all/").status_code == 200


def test_demand_is_uneven_over_days_and_items(city):
    loader = demo.History(1000)
    days = dict(loader.workdays())
    calendar = calendar_services.get_calendar()
    assert all(calendar.is_workday(day) for day in days)
    assert min(days) >= demo.HISTORY_FIRST
    assert max(days) <= demo.HISTORY_LAST
    assert days[dt.date(2026, 3, 9)] > days[dt.date(2026, 3, 13)]  # a Monday, its Friday
    # the week of the Qingming holiday (Mon 6 April 2026) is quieter than the week after
    assert days[dt.date(2026, 4, 7)] < days[dt.date(2026, 4, 14)]
    items = list(demo._published_items().values())
    weights = loader.item_weights(items)
    by_department: Counter[str] = Counter()
    for item, weight in zip(items, weights, strict=True):
        by_department[item.department.code] += weight
    ranked = by_department.most_common()
    assert ranked[0][1] > 10 * ranked[-1][1]
    assert ranked[0][0] in {"GAJ", "RSJ", "SCJ"}


def test_history_size_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv(demo.HISTORY_CASES_ENV, "1234")
    assert demo.history_size() == 1234
    monkeypatch.delenv(demo.HISTORY_CASES_ENV)
    assert demo.history_size() == demo.TEST_HISTORY_CASES
