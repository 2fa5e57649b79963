"""The demo city's supervision: roles, sources, the backfilled history, alerts, cards,
corrections played through the services, and a second load that changes nothing."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from unittest import mock

import pytest
from django.db import transaction
from django.test import override_settings

from tongban.apps.approvals.models import Case, CaseState
from tongban.apps.supervision import permissions
from tongban.apps.supervision.models import (
    Alert,
    AlertKind,
    Correction,
    CorrectionEntry,
    CorrectionState,
    ReceivedEvent,
    Source,
    SupervisedCase,
)
from tongban.demo import approvals as demo_approvals
from tongban.demo import supervision as demo
from tongban.demo.loader import Summary, load_demo_city
from tongban.demo.tests.conftest import wrapping_transaction
from tongban.platform.access.services import has_permission
from tongban.platform.accounts.models import User
from tongban.platform.audit.models import AuditEntry
from tongban.platform.calendar import services as calendar_services

pytestmark = pytest.mark.django_db

HISTORY_CASES = 600


@pytest.fixture(scope="module")
def city(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[Summary]:
    media = tmp_path_factory.mktemp("media")
    with (
        django_db_blocker.unblock(),
        override_settings(MEDIA_ROOT=media),
        mock.patch.dict(os.environ, {demo_approvals.HISTORY_CASES_ENV: str(HISTORY_CASES)}),
        wrapping_transaction(),
    ):
        calendar_services.calendar_seed()
        summary = load_demo_city()
        yield summary
        transaction.set_rollback(True)
    calendar_services.invalidate()


def table_counts() -> tuple[int, ...]:
    return tuple(
        model.objects.count()
        for model in (Source, ReceivedEvent, SupervisedCase, Alert, Correction, CorrectionEntry)
    )


def test_every_submitted_case_but_the_joint_parents_is_supervised(city):
    cases = Case.objects.exclude(state=CaseState.DRAFT).filter(is_joint=False)
    assert SupervisedCase.objects.count() == cases.count()
    assert city.counts["supervision_rejected"] == 0
    assert set(SupervisedCase.objects.values_list("key", flat=True)) == set(
        cases.values_list("number", flat=True)
    )
    assert (
        ReceivedEvent.objects.filter(source_event_id__startswith="approvals-history:").count()
        == (city.counts["supervision_events"])
    )


def test_the_year_produces_alerts_cards_and_corrections_in_every_state(city):
    kinds = Counter(Alert.objects.values_list("kind", flat=True))
    assert kinds[AlertKind.YELLOW_CARD] >= 5
    assert kinds[AlertKind.RED_CARD] >= 1
    assert kinds[AlertKind.BAD_RATING] >= 1
    # every red card escalated from a yellow card whose item escalated
    for red in Alert.objects.filter(kind=AlertKind.RED_CARD).select_related("escalated_from"):
        assert red.escalated_from is not None
        assert red.escalated_from.kind == AlertKind.YELLOW_CARD
        assert red.escalated_from.correction.state == CorrectionState.ESCALATED
    states = Counter(Correction.objects.values_list("state", flat=True))
    assert states[CorrectionState.ACCEPTED] >= 5
    assert states[CorrectionState.ESCALATED] >= 1
    accepted = Correction.objects.filter(state=CorrectionState.ACCEPTED)
    assert not accepted.filter(is_on_time=None).exists()
    assert accepted.filter(is_on_time=True).exists()
    assert CorrectionEntry.objects.filter(action="rejected").exists()
    # the alerts spread over the year, not only today
    assert len({alert.occurred_on.month for alert in Alert.objects.all()}) >= 6
    marker = json.loads(AuditEntry.objects.get(action=demo.MARKER).detail)
    assert marker["supervision_alerts"] == sum(kinds.values())


def test_roles_and_sources(city):
    supervisor = User.objects.get(username="supervisor")
    leader = User.objects.get(username="leader")
    sysadmin = User.objects.get(username="sysadmin")
    for code in (
        permissions.MONITOR_VIEW,
        permissions.ALERT_OPEN,
        permissions.CORRECTION_REVIEW,
        permissions.RULES_MANAGE,
        permissions.EVALUATION_VIEW,
    ):
        assert has_permission(supervisor, code)
    assert not has_permission(supervisor, permissions.CORRECTION_RESPOND)
    for code in (
        permissions.CORRECTION_RESPOND,
        permissions.EVALUATION_VIEW,
        permissions.MONITOR_VIEW,
    ):
        assert has_permission(leader, code)
        assert has_permission(User.objects.get(username="officer"), code)
    assert not has_permission(leader, permissions.CORRECTION_REVIEW)
    assert has_permission(sysadmin, permissions.SOURCE_MANAGE)
    assert set(Source.objects.values_list("code", flat=True)) == {"approvals", "hotline-12345"}
    assert [login.note for login in city.logins if login.username == "sysadmin"][0].count(
        "tbsrc_hotline-12345."
    ) == 1


def test_a_second_load_changes_nothing(city):
    before = table_counts()
    again = load_demo_city()
    assert table_counts() == before
    assert "supervision_alerts" not in again.counts
    assert AuditEntry.objects.filter(action=demo.MARKER).count() == 1
    assert all("tbsrc_" not in login.note for login in again.logins)
