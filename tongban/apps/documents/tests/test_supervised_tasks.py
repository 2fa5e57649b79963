"""督查督办: creating a task (numbering, owners, sources), owners' progress reports,
reminders (by hand and 3 days before the deadline, once), overdue escalation with one
``documents.task.overdue`` event, closing with ``documents.task.done``; visibility limited
to the supervising and owner departments."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from tongban.apps.documents import receiving, supervised
from tongban.apps.documents import selectors_supervised as selectors
from tongban.apps.documents.models import (
    ProgressReport,
    SupervisedTask,
    SupervisedTaskState,
    TaskOwner,
)
from tongban.apps.documents.tests.fixtures_receiving import Town, town_fixture  # noqa: F401
from tongban.platform.audit.models import AuditEntry
from tongban.platform.events.models import Event
from tongban.platform.notify.models import Message

TODAY = timezone.localdate()


def _task(town: Town, *, days: int = 10, **fields: Any) -> SupervisedTask:
    values: dict[str, Any] = {
        "actor": town.supervisor,
        "title": "完成政务服务事项标准化梳理",
        "requirement": "每周报送进展",
        "deadline": TODAY + dt.timedelta(days=days),
        "owners": [town.market.pk, town.health.pk],
        "lead_owner": town.market.pk,
        "meeting": "市政府第12次常务会议",
        **fields,
    }
    return supervised.task_create(**values)


def test_creating_numbers_tasks_and_tells_the_owners(town: Town) -> None:
    first = _task(town)
    second = _task(town, meeting="", source_document=town.document)
    year = TODAY.year
    assert (first.number, second.number) == (f"DB{year}-0001", f"DB{year}-0002")
    assert first.supervisor == town.office
    owners = {o.department_id: o.lead for o in TaskOwner.objects.filter(task=first)}
    assert owners == {town.market.pk: True, town.health.pk: False}
    assert Message.objects.filter(recipient=town.reporter, category="documents").exists()
    assert Message.objects.filter(recipient=town.health_reporter, category="documents").exists()
    assert AuditEntry.objects.filter(action="documents.task.create").count() == 2
    bad: list[dict[str, Any]] = [
        {"title": " "},
        {"deadline": TODAY - dt.timedelta(days=1)},
        {"owners": []},
        {"lead_owner": town.office.pk},
        {"source_document": town.document},  # two sources
        {"meeting": ""},  # none
    ]
    for fields in bad:
        with pytest.raises(ValidationError):
            _task(town, **fields)
    with pytest.raises(PermissionDenied):
        _task(town, actor=town.clerk)
    assert SupervisedTask.objects.count() == 2


def test_owners_report_and_only_the_right_departments_see_the_task(town: Town) -> None:
    task = _task(town)
    assert selectors.access_task_by_id(town.reporter, task.pk) == task
    with pytest.raises(Http404):
        selectors.access_task_by_id(town.clerk, task.pk)  # no task role
    only_market = _task(town, owners=[town.market.pk])
    with pytest.raises(Http404):
        selectors.access_task_by_id(town.health_reporter, only_market.pk)
    with pytest.raises(PermissionDenied):
        supervised.task_report(
            actor=town.health_reporter, task=only_market, text="x", percent=1, completed=False
        )
    with pytest.raises(ValidationError):
        supervised.task_report(actor=town.reporter, task=task, text="", percent=5, completed=False)
    with pytest.raises(ValidationError):
        supervised.task_report(
            actor=town.reporter, task=task, text="进展", percent=120, completed=False
        )
    supervised.task_report(
        actor=town.reporter, task=task, text="已部署", percent=40, completed=False
    )
    supervised.task_report(actor=town.reporter, task=task, text="已完成", percent=0, completed=True)
    owner = TaskOwner.objects.get(task=task, department=town.market)
    assert owner.completed_at is not None
    reports = selectors.task_reports(task)
    assert selectors.latest_percent(reports) == {town.market.pk: 100}
    with pytest.raises(ValidationError):  # already applied to finish
        supervised.task_report(
            actor=town.reporter, task=task, text="再报", percent=100, completed=True
        )
    assert "report" not in selectors.task_actions(town.reporter, task)
    assert "report" in selectors.task_actions(town.health_reporter, task)
    assert Message.objects.filter(recipient=town.supervisor, category="documents").count() == 2
    assert ProgressReport.objects.filter(task=task).count() == 2


def test_reminders_overdue_escalation_and_closing(town: Town) -> None:
    soon = _task(town, days=2)
    later = _task(town, days=20)
    # by hand: the supervisor only, the unfinished owners
    with pytest.raises(PermissionDenied):
        supervised.task_remind(actor=town.reporter, task=later)
    assert supervised.task_remind(actor=town.supervisor, task=later) == 2
    # automatically: once, when the deadline is 3 days away or nearer
    Message.objects.all().delete()
    assert supervised.tasks_sweep() == {"reminded": 2, "escalated": 0}
    assert supervised.tasks_sweep() == {"reminded": 0, "escalated": 0}
    assert Message.objects.filter(recipient=town.reporter).count() == 1
    # past the deadline: OVERDUE, one event naming the unfinished owners
    supervised.task_report(
        actor=town.health_reporter, task=soon, text="完成", percent=100, completed=True
    )
    later_moment = timezone.now() + dt.timedelta(days=3)
    assert supervised.tasks_sweep(now=later_moment)["escalated"] == 1
    assert supervised.tasks_sweep(now=later_moment)["escalated"] == 0
    soon.refresh_from_db()
    assert soon.state == SupervisedTaskState.OVERDUE
    assert soon.escalated_at is not None
    event = Event.objects.get(name="documents.task.overdue")
    assert event.payload == {
        "task": soon.number,
        "title": soon.title,
        "supervisor": "SZF",
        "owners": ["SCJGJ"],
        "deadline": soon.deadline.isoformat(),
    }
    # an overdue task may still be reported on and closed
    supervised.task_report(
        actor=town.reporter, task=soon, text="补办完成", percent=100, completed=True
    )
    with pytest.raises(PermissionDenied):
        supervised.task_close(actor=town.reporter, task=soon)
    closed = supervised.task_close(actor=town.supervisor, task=soon, comment="同意办结")
    assert closed.state == SupervisedTaskState.DONE
    done = Event.objects.get(name="documents.task.done")
    assert done.payload["task"] == soon.number
    with pytest.raises(ValidationError):
        supervised.task_cancel(actor=town.supervisor, task=later, reason="")
    cancelled = supervised.task_cancel(actor=town.supervisor, task=later, reason="任务调整")
    assert cancelled.state == SupervisedTaskState.CANCELLED
    with pytest.raises(ValidationError):
        supervised.task_remind(actor=town.supervisor, task=later)
    assert Event.objects.filter(name="documents.task.done").count() == 1


def test_the_task_pages(client: Any, town: Town) -> None:
    receipt = receiving.receipt_register(actor=town.clerk, delivery=town.delivery())
    client.force_login(town.supervisor)
    assert client.get("/documents/tasks/new/").status_code == 200
    bad = client.post("/documents/tasks/new/", {"title": "事项", "source_kind": "meeting"})
    assert bad.status_code == 422
    assert "请填写办结时限" in bad.content.decode()
    response = client.post(
        "/documents/tasks/new/",
        {
            "title": "落实营商环境整改",
            "deadline": (TODAY + dt.timedelta(days=7)).isoformat(),
            "source_kind": "document",
            "source_document": str(town.document.public_id),
            "owners": [town.market.pk],
            "lead_owner": town.market.pk,
        },
    )
    task = SupervisedTask.objects.get()
    assert response.status_code == 302
    assert task.source_document == town.document
    # the supervisor cannot start a task from another department's receipt
    refused = client.post(
        "/documents/tasks/new/",
        {
            "title": "x",
            "deadline": (TODAY + dt.timedelta(days=7)).isoformat(),
            "source_kind": "receipt",
            "source_receipt": receipt.pk,
            "owners": [town.market.pk],
            "lead_owner": town.market.pk,
        },
    )
    assert refused.status_code == 422
    assert "找不到该收文" in refused.content.decode()
    listing = client.get("/documents/tasks/?role=supervised").content.decode()
    assert task.number in listing
    assert client.post(f"/documents/tasks/{task.pk}/remind/").status_code == 302
    client.force_login(town.reporter)
    assert task.number in client.get("/documents/tasks/").content.decode()
    page = client.get(f"/documents/tasks/{task.pk}/").content.decode()
    assert "报送进展" in page
    assert (
        client.post(
            f"/documents/tasks/{task.pk}/report/", {"text": "已完成一半", "percent": "50"}
        ).status_code
        == 302
    )
    assert client.post(f"/documents/tasks/{task.pk}/close/").status_code == 403
    client.force_login(town.health_reporter)
    assert client.get(f"/documents/tasks/{task.pk}/").status_code == 404
    client.force_login(town.clerk)
    assert client.get("/documents/tasks/").status_code == 403
