"""The receiving side: 登记 from a signed delivery and from paper (gapless 收文编号),
拟办 → 批办 → 传阅/承办 → 办结, everything visible to the receiving department only,
refusals audited and nothing half-saved."""

from __future__ import annotations

import datetime as dt
import os
import threading
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import Http404
from django.utils import timezone

from tongban.apps.documents import receiving
from tongban.apps.documents import selectors_receiving as selectors
from tongban.apps.documents.models import (
    DeliveryState,
    Receipt,
    ReceiptState,
    ReceiptTask,
)
from tongban.apps.documents.tests.fixtures_receiving import Town, town_fixture  # noqa: F401
from tongban.platform.audit.models import AuditEntry, Outcome
from tongban.platform.notify.models import Message

TOMORROW = timezone.localdate() + dt.timedelta(days=1)


def _instructed(town: Town) -> Receipt:
    receipt = receiving.receipt_register(actor=town.clerk, delivery=town.delivery())
    receiving.receipt_propose(actor=town.clerk, receipt=receipt, proposal="请局长阅示")
    return receiving.receipt_instruct(
        actor=town.leader,
        receipt=receipt,
        instruction="请许可科办理",
        deadline=TOMORROW,
        handlers=[town.colleague.pk],
        readers=[town.colleague2.pk],
    )


def test_registering_a_signed_delivery_copies_it_and_numbers_without_gaps(town: Town) -> None:
    first = receiving.receipt_register(actor=town.clerk, delivery=town.delivery())
    assert first.serial == 1
    assert first.year == timezone.localdate().year
    assert first.source == "示范市人民政府办公厅"
    assert first.source_number == town.document.number
    assert first.title == town.document.title
    assert first.urgency == "加急"
    delivery = first.delivery
    assert delivery is not None
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.REGISTERED
    assert delivery.registered_at is not None
    # registering twice is refused, a pending delivery cannot be registered
    with pytest.raises(ValidationError):
        receiving.receipt_register(actor=town.clerk, delivery=delivery)
    pending = town.delivery(town.health, state=DeliveryState.PENDING, signed_at=None)
    with pytest.raises(ValidationError):
        receiving.receipt_register(actor=town.health_clerk, delivery=pending)
    paper = receiving.receipt_register_paper(
        actor=town.clerk,
        department=town.market,
        source="省市场监管局",
        source_number="省市监〔2026〕3号",
        title="关于开展专项检查的通知",
    )
    assert paper.serial == 2
    assert paper.delivery is None
    # another department numbers from 1
    other = receiving.receipt_register_paper(
        actor=town.health_clerk,
        department=town.health,
        source="省卫健委",
        source_number="",
        title="通知",
    )
    assert other.serial == 1
    assert AuditEntry.objects.filter(action="documents.receipt.register").count() == 3


def test_other_departments_cannot_register_or_see_receipts(town: Town) -> None:
    delivery = town.delivery()
    with pytest.raises(PermissionDenied):
        receiving.receipt_register(actor=town.health_clerk, delivery=delivery)
    with pytest.raises(PermissionDenied):
        receiving.receipt_register_paper(
            actor=town.health_clerk, department=town.market, source="x", source_number="", title="t"
        )
    assert not Receipt.objects.exists()
    assert (
        AuditEntry.objects.filter(
            action="documents.delivery.receive", outcome=Outcome.DENIED
        ).count()
        == 2
    )
    receipt = receiving.receipt_register(actor=town.clerk, delivery=delivery)
    with pytest.raises(Http404):
        selectors.access_receipt_by_id(town.health_clerk, receipt.pk)
    with pytest.raises(Http404):
        selectors.access_receipt_by_id(town.colleague, receipt.pk)  # no role, no task yet
    with pytest.raises(PermissionDenied):
        receiving.receipt_propose(actor=town.health_clerk, receipt=receipt, proposal="x")
    assert selectors.receipt_list_for(town.health_clerk, tab=selectors.TAB_OPEN).count() == 0
    assert selectors.deliveries_to_register(town.health_clerk).count() == 0


def test_the_whole_flow_from_proposal_to_closing(town: Town) -> None:
    receipt = _instructed(town)
    assert receipt.state == ReceiptState.HANDLING
    assert receipt.deadline == TOMORROW
    tasks = {task.assignee_id: task for task in ReceiptTask.objects.filter(receipt=receipt)}
    assert set(tasks) == {town.colleague.pk, town.colleague2.pk}
    # the leader heard of the proposal, the people of their tasks
    assert Message.objects.filter(recipient=town.leader, category="documents").exists()
    assert Message.objects.filter(recipient=town.colleague, category="documents").exists()
    # an assignee without any role sees the receipt and their tab
    assert selectors.access_receipt_by_id(town.colleague, receipt.pk) == receipt
    assert list(selectors.receipt_list_for(town.colleague, tab=selectors.TAB_MINE)) == [receipt]
    assert "done" in selectors.receipt_actions(town.colleague, receipt)
    # 办结 waits for the 承办, not for the 传阅
    with pytest.raises(ValidationError) as caught:
        receiving.receipt_close(actor=town.clerk, receipt=receipt, result="已办理")
    assert "还有1项承办未完成" in str(caught.value)
    # only the assignee finishes their task; 承办 needs a result
    with pytest.raises(PermissionDenied):
        receiving.receipt_task_done(
            actor=town.colleague2, task=tasks[town.colleague.pk], comment="x"
        )
    with pytest.raises(ValidationError):
        receiving.receipt_task_done(actor=town.colleague, task=tasks[town.colleague.pk], comment="")
    receiving.receipt_task_done(
        actor=town.colleague, task=tasks[town.colleague.pk], comment="已完成检查部署"
    )
    closed = receiving.receipt_close(actor=town.clerk, receipt=receipt, result="已按要求办理")
    assert closed.state == ReceiptState.CLOSED
    assert closed.closed_by == town.clerk
    with pytest.raises(ValidationError):
        receiving.receipt_task_done(
            actor=town.colleague2, task=tasks[town.colleague2.pk], comment=""
        )
    assert "archive" in selectors.receipt_actions(town.clerk, closed)
    labels = [
        step.label for step in selectors.receipt_timeline(closed, selectors.receipt_tasks(closed))
    ]
    assert labels[:2] == ["签收", "登记"]
    assert labels[-1] == "办结"
    assert {"拟办", "批办", "交承办", "交传阅", "承办完成"} <= set(labels)
    actions = set(
        AuditEntry.objects.filter(
            action__startswith="documents.receipt.", outcome=Outcome.SUCCESS
        ).values_list("action", flat=True)
    )
    assert actions == {
        "documents.receipt.register",
        "documents.receipt.propose",
        "documents.receipt.instruct",
        "documents.receipt.task_done",
        "documents.receipt.close",
    }


def test_people_outside_the_department_and_bad_input_change_nothing(town: Town) -> None:
    receipt = receiving.receipt_register(actor=town.clerk, delivery=town.delivery())
    with pytest.raises(ValidationError) as caught:
        receiving.receipt_instruct(
            actor=town.leader,
            receipt=receipt,
            instruction="办理",
            deadline=TOMORROW,
            handlers=[town.health_clerk.pk],
        )
    assert "只能选择本部门的工作人员" in str(caught.value)
    with pytest.raises(ValidationError):  # a handler needs a deadline
        receiving.receipt_instruct(
            actor=town.leader, receipt=receipt, instruction="办理", handlers=[town.colleague.pk]
        )
    with pytest.raises(ValidationError):  # circulating waits for the instruction
        receiving.receipt_circulate(actor=town.clerk, receipt=receipt, readers=[town.colleague.pk])
    with pytest.raises(PermissionDenied):  # the clerk does not 批办
        receiving.receipt_instruct(actor=town.clerk, receipt=receipt, instruction="办理")
    receipt.refresh_from_db()
    assert receipt.state == ReceiptState.REGISTERED
    assert not ReceiptTask.objects.exists()
    receipt = receiving.receipt_instruct(actor=town.leader, receipt=receipt, instruction="阅")
    assert receipt.state == ReceiptState.INSTRUCTED
    receipt = receiving.receipt_circulate(
        actor=town.clerk, receipt=receipt, readers=[town.colleague.pk, town.colleague2.pk]
    )
    assert receipt.state == ReceiptState.HANDLING
    with pytest.raises(ValidationError):  # already reading
        receiving.receipt_circulate(actor=town.clerk, receipt=receipt, readers=[town.colleague.pk])
    with pytest.raises(ValidationError):  # a deadline in the past
        receiving.receipt_assign(
            actor=town.clerk,
            receipt=receipt,
            handlers=[town.colleague.pk],
            deadline=timezone.localdate() - dt.timedelta(days=1),
        )
    receiving.receipt_assign(
        actor=town.clerk, receipt=receipt, handlers=[town.colleague.pk], deadline=TOMORROW
    )
    assert ReceiptTask.objects.filter(receipt=receipt).count() == 3


def test_the_pages_register_handle_and_hide_receipts(client: Any, town: Town) -> None:
    delivery = town.delivery()
    client.force_login(town.clerk)
    page = client.get("/documents/receipts/")
    assert page.status_code == 200
    assert town.document.title in page.content.decode()
    response = client.post(f"/documents/receipts/register/{delivery.pk}/")
    receipt = Receipt.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/documents/receipts/{receipt.pk}/"
    detail = client.get(response["Location"]).content.decode()
    assert "收〔" in detail
    assert "拟办意见" in detail
    bad = client.post(f"/documents/receipts/{receipt.pk}/propose/", {"proposal": " "})
    assert bad.status_code == 422
    assert "请填写拟办意见" in bad.content.decode()
    assert (
        client.post(
            f"/documents/receipts/{receipt.pk}/propose/", {"proposal": "请局长阅示"}
        ).status_code
        == 302
    )
    paper = client.post(
        "/documents/receipts/paper/",
        {
            "source": "省市场监管局",
            "source_number": "",
            "title": "专项检查来文",
            "urgency": "",
            "classification": "",
        },
    )
    assert paper.status_code == 302
    assert (
        client.get("/documents/receipts/?tab=open&q=专项").content.decode().count("专项检查来文")
        == 1
    )
    client.force_login(town.leader)
    response = client.post(
        f"/documents/receipts/{receipt.pk}/instruct/",
        {
            "instruction": "请办理",
            "deadline": TOMORROW.isoformat(),
            "handlers": [town.colleague.pk],
        },
    )
    assert response.status_code == 302
    client.force_login(town.health_clerk)
    assert client.get(f"/documents/receipts/{receipt.pk}/").status_code == 404
    assert (
        client.post(f"/documents/receipts/{receipt.pk}/close/", {"result": "x"}).status_code == 404
    )
    assert client.post(f"/documents/receipts/register/{delivery.pk}/").status_code == 404
    client.force_login(town.supervisor)  # no receiving role at all
    assert client.get("/documents/receipts/").status_code == 403
    client.force_login(town.colleague)
    assert (
        client.post(
            f"/documents/receipts/{receipt.pk}/done/",
            {"task": ReceiptTask.objects.get().pk, "comment": "办好了"},
        ).status_code
        == 302
    )
    assert ReceiptTask.objects.get().done_at is not None


@pytest.mark.skipif(
    "postgres" not in os.environ.get("DATABASE_URL", ""), reason="real threads need PostgreSQL"
)
@pytest.mark.django_db(transaction=True)
def test_concurrent_registrations_number_without_gaps(town: Town) -> None:
    errors: list[BaseException] = []

    def register(count: int) -> None:
        try:
            for index in range(count):
                receiving.receipt_register_paper(
                    actor=town.clerk,
                    department=town.market,
                    source="省厅",
                    source_number="",
                    title=f"来文{index}",
                )
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=register, args=(5,)) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    serials = sorted(
        Receipt.objects.filter(department=town.market).values_list("serial", flat=True)
    )
    assert serials == list(range(1, 31))


def test_the_workbench_lists_copies_to_sign_for_and_my_receipt_tasks(town: Town) -> None:
    """The receiving side on the staff workbench: the unit's 文书 sees the pending copy,
    each assignee their own 传阅/承办 (nobody else's), none once done."""
    from tongban.apps.documents.workbench import receiving_todo

    pending = town.delivery(recipient=town.health, state=DeliveryState.PENDING, signed_at=None)
    health = receiving_todo(town.health_clerk, 20)
    assert [item.url for item in health] == [f"/documents/inbox/{pending.pk}/"]
    assert health[0].title.startswith("待签收")
    receipt = _instructed(town)
    assert not any("/inbox/" in item.url for item in receiving_todo(town.clerk, 20))
    mine = receiving_todo(town.colleague, 20)
    assert [item.url for item in mine] == [f"/documents/receipts/{receipt.pk}/"]
    assert mine[0].title.startswith(("待承办", "待阅"))
    task = ReceiptTask.objects.get(receipt=receipt, assignee=town.colleague)
    receiving.receipt_task_done(actor=town.colleague, task=task, comment="已按要求办理完毕")
    assert receiving_todo(town.colleague, 20) == []
