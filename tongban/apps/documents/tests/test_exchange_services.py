"""Exchange services: groups, sending, sign/return/recall, reminders, the overdue job."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from tongban.apps.documents import events, exchange
from tongban.apps.documents.models import (
    Delivery,
    DeliveryState,
    Dispatch,
    DocumentState,
    RecipientGroup,
)
from tongban.apps.documents.tests import fixtures_exchange
from tongban.apps.documents.tests.fixtures_exchange import ExchangeCity, sealed_document
from tongban.platform.audit.models import AuditEntry, Outcome
from tongban.platform.events.models import Event
from tongban.platform.notify.models import Message

pytestmark = pytest.mark.django_db
exchange_city = fixtures_exchange.exchange_city


def _ids(departments: list) -> list[int]:
    return [d.pk for d in departments]


def _city_group(city: ExchangeCity, name: str = "各区人民政府") -> RecipientGroup:
    return exchange.group_create(
        actor=city.group_admin, owner=None, name=name, members=_ids(city.districts)
    )


def test_send_reaches_the_union_of_units_and_groups_once(
    exchange_city: ExchangeCity, django_capture_on_commit_callbacks
) -> None:
    city = exchange_city
    group = _city_group(city)
    document = sealed_document(city)
    with django_capture_on_commit_callbacks(execute=True):
        dispatch = exchange.document_send(
            actor=city.sender,
            document=document,
            # a district picked twice (directly and through the group), the sender itself
            recipients=[city.districts[0].pk, city.bureaus[0].pk, city.office.pk],
            groups=[group.pk],
            message="请按要求落实",
            sign_within_hours=48,
        )
    reached = set(dispatch.deliveries.values_list("recipient_id", flat=True))
    assert reached == {*_ids(city.districts), city.bureaus[0].pk}
    assert dispatch.recipient_count == 4
    first = dispatch.deliveries.first()
    assert first is not None
    assert first.due_at - first.delivered_at == dt.timedelta(hours=48)
    document.refresh_from_db()
    assert document.state == DocumentState.DISTRIBUTED
    assert Event.objects.filter(name=events.DISPATCH_SENT).count() == 1
    # the handler queued the messages (the immediate task backend ran them): the clerks
    # of the two districts that have one, nobody else
    assert Event.objects.filter(name=exchange.DELIVERY_NOTIFY).count() == 1
    assert set(Message.objects.values_list("recipient__username", flat=True)) == {
        "ex_clerk_a",
        "ex_clerk_b",
    }
    assert "新来文待签收" in Message.objects.first().subject
    assert AuditEntry.objects.filter(action="documents.dispatch.send").count() == 1

    # a second send skips the units holding a live copy; a returned unit may get it again
    delivery = Delivery.objects.get(dispatch=dispatch, recipient=city.districts[0])
    exchange.delivery_return(actor=city.clerk_a, delivery=delivery, reason="非我单位主办")
    again = exchange.document_send(
        actor=city.sender,
        document=document,
        recipients=[city.districts[0].pk, city.districts[1].pk, city.bureaus[1].pk],
        groups=[],
    )
    assert set(again.deliveries.values_list("recipient_id", flat=True)) == {
        city.districts[0].pk,
        city.bureaus[1].pk,
    }
    with pytest.raises(ValidationError) as refused:
        exchange.document_send(
            actor=city.sender, document=document, recipients=[city.districts[1].pk], groups=[]
        )
    assert "已收到" in str(refused.value)


def test_notifications_go_out_in_batches(
    exchange_city: ExchangeCity, settings, django_capture_on_commit_callbacks
) -> None:
    settings.DOCUMENTS_NOTIFY_BATCH = 2
    city = exchange_city
    with django_capture_on_commit_callbacks(execute=True):
        exchange.document_send(
            actor=city.sender,
            document=sealed_document(city),
            recipients=_ids(city.recipients),
            groups=[],
        )
    # nothing is written to anybody inside the send: only after commit, by the handlers
    batches = Event.objects.filter(name=exchange.DELIVERY_NOTIFY)
    assert batches.count() == 3  # 6 units, 2 a batch
    assert sorted(len(e.payload["deliveries"]) for e in batches) == [2, 2, 2]
    assert Message.objects.count() == 2


def test_a_refused_send_saves_nothing(exchange_city: ExchangeCity) -> None:
    city = exchange_city
    drafting = sealed_document(city, state=DocumentState.SIGNING)
    ready = sealed_document(city)
    cases = [
        (city.sender, drafting, {"recipients": [city.districts[0].pk]}, "document"),
        (city.sender, ready, {"recipients": []}, "recipients"),
        (city.sender, ready, {"recipients": [city.office.pk]}, "recipients"),
        (city.sender, ready, {"recipients": [999_999]}, "recipients"),
        (city.sender, ready, {"recipients": [city.districts[0].pk], "hours": 0}, "sign_within"),
    ]
    for actor, document, values, field in cases:
        with pytest.raises(ValidationError) as error:
            exchange.document_send(
                actor=actor,
                document=document,
                recipients=values["recipients"],
                groups=[],
                sign_within_hours=values.get("hours", 24),
            )
        assert any(key.startswith(field) for key in error.value.message_dict), error.value
    # another department's group may not be used
    foreign = exchange.group_create(
        actor=city.other_sender,
        owner=city.other_issuer,
        name="发改委联络单位",
        members=_ids(city.bureaus),
    )
    with pytest.raises(ValidationError):
        exchange.document_send(
            actor=city.sender, document=ready, recipients=[], groups=[foreign.pk]
        )
    # another issuer's sender: refused, and the refusal is audited
    with pytest.raises(PermissionDenied):
        exchange.document_send(
            actor=city.other_sender, document=ready, recipients=_ids(city.districts), groups=[]
        )
    assert AuditEntry.objects.filter(outcome=Outcome.DENIED).exists()
    assert not Dispatch.objects.exists()
    assert not Delivery.objects.exists()
    ready.refresh_from_db()
    assert ready.state == DocumentState.DISTRIBUTING


def test_sign_return_recall_and_register(exchange_city: ExchangeCity) -> None:
    city = exchange_city
    dispatch = exchange.document_send(
        actor=city.sender,
        document=sealed_document(city),
        recipients=_ids(city.districts),
        groups=[],
    )
    a = Delivery.objects.get(dispatch=dispatch, recipient=city.districts[0])
    b = Delivery.objects.get(dispatch=dispatch, recipient=city.districts[1])
    c = Delivery.objects.get(dispatch=dispatch, recipient=city.districts[2])
    # another unit's clerk cannot touch it
    with pytest.raises(PermissionDenied):
        exchange.delivery_sign(actor=city.clerk_b, delivery=a)
    opened = exchange.delivery_open(actor=city.clerk_a, delivery=a)
    first_read = opened.read_at
    assert first_read is not None
    assert opened.read_by == city.clerk_a
    assert exchange.delivery_open(actor=city.clerk_a, delivery=a).read_at == first_read
    signed = exchange.delivery_sign(actor=city.clerk_a, delivery=a)
    assert signed.state == DeliveryState.SIGNED
    assert signed.signed_by == city.clerk_a
    assert signed.signed_at is not None
    with pytest.raises(ValidationError):
        exchange.delivery_sign(actor=city.clerk_a, delivery=a)
    with pytest.raises(ValidationError):  # signed: too late to recall
        exchange.delivery_recall(actor=city.sender, delivery=a)
    with pytest.raises(ValidationError):
        exchange.delivery_return(actor=city.clerk_b, delivery=b, reason="  ")
    returned = exchange.delivery_return(actor=city.clerk_b, delivery=b, reason="不属于本单位职责")
    assert returned.state == DeliveryState.RETURNED
    assert returned.read_at is not None
    # the sender was told (its NUMBER_SEAL holder)
    assert Message.objects.filter(recipient=city.sender, subject__contains="退回").exists()
    with pytest.raises(PermissionDenied):
        exchange.delivery_recall(actor=city.other_sender, delivery=c)
    recalled = exchange.delivery_recall(actor=city.sender, delivery=c, reason="发错")
    assert recalled.state == DeliveryState.RECALLED
    assert recalled.recalled_at is not None
    # the receiving side's register step
    with pytest.raises(ValidationError):
        exchange.delivery_mark_registered(delivery=b)
    registered = exchange.delivery_mark_registered(delivery=a, actor=city.clerk_a)
    assert registered.state == DeliveryState.REGISTERED
    assert registered.registered_at
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {
        "documents.delivery.read",
        "documents.delivery.sign",
        "documents.delivery.return",
        "documents.delivery.recall",
        "documents.delivery.register",
    } <= actions


def test_reminders_by_hand_and_the_overdue_job(
    exchange_city: ExchangeCity, django_capture_on_commit_callbacks
) -> None:
    city = exchange_city
    dispatch = exchange.document_send(
        actor=city.sender,
        document=sealed_document(city),
        recipients=_ids(city.districts),
        groups=[],
        sign_within_hours=2,
    )
    a = Delivery.objects.get(dispatch=dispatch, recipient=city.districts[0])
    b = Delivery.objects.get(dispatch=dispatch, recipient=city.districts[1])
    exchange.delivery_sign(actor=city.clerk_a, delivery=a)
    before = Message.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        assert exchange.dispatch_remind(actor=city.sender, dispatch=dispatch) == 2
        assert exchange.dispatch_remind(actor=city.sender, dispatch=dispatch, delivery=b) == 1
    with pytest.raises(ValidationError):
        exchange.dispatch_remind(actor=city.sender, dispatch=dispatch, delivery=a)
    with pytest.raises(PermissionDenied):
        exchange.dispatch_remind(actor=city.viewer, dispatch=dispatch)
    b.refresh_from_db()
    assert b.reminder_count == 2
    assert b.last_reminded_at is not None
    # clerk_b reminded twice; district 3 has no clerk; clerk_a has signed
    assert Message.objects.count() - before == 2
    assert Message.objects.filter(recipient=city.clerk_b, subject__contains="催办").count() == 2

    assert exchange.deliveries_remind_overdue() == 0  # not due yet
    later = timezone.now() + dt.timedelta(hours=3)
    with django_capture_on_commit_callbacks(execute=True):
        assert exchange.deliveries_remind_overdue(now=later) == 2
    assert exchange.deliveries_remind_overdue(now=later) == 0  # once only
    overdue = Event.objects.filter(name=events.DELIVERY_OVERDUE)
    assert overdue.count() == 2
    payload = overdue.get(payload__recipient="DQ02").payload
    assert payload["sender"] == "SZFB"
    assert payload["delivery"] == b.pk
    assert {"dispatch", "document", "number", "title", "delivered_at", "due_at"} <= set(payload)
    assert Message.objects.filter(recipient=city.clerk_b, subject__contains="超时").count() == 1
    b.refresh_from_db()
    assert b.overdue_reported_at is not None
    assert b.reminder_count == 3


def test_groups_are_managed_by_their_owners(exchange_city: ExchangeCity) -> None:
    city = exchange_city
    with pytest.raises(PermissionDenied):  # city-wide groups need GROUP_MANAGE
        exchange.group_create(
            actor=city.sender, owner=None, name="各区", members=_ids(city.districts)
        )
    group = _city_group(city)
    with pytest.raises(ValidationError):
        _city_group(city)  # the same name again
    own = exchange.group_create(
        actor=city.sender, owner=city.office, name="教育系统", members=_ids(city.bureaus)
    )
    with pytest.raises(PermissionDenied):
        exchange.group_create(
            actor=city.sender, owner=city.other_issuer, name="x", members=_ids(city.bureaus)
        )
    with pytest.raises(PermissionDenied):
        exchange.group_update(actor=city.other_sender, group=own, name="y", members=[])
    updated = exchange.group_update(
        actor=city.sender, group=own, name="教育系统单位", members=[city.sub_bureau.pk]
    )
    assert updated.name == "教育系统单位"
    assert list(updated.members.values_list("pk", flat=True)) == [city.sub_bureau.pk]
    with pytest.raises(ValidationError):
        exchange.group_update(actor=city.sender, group=own, name="z", members=[])
    exchange.group_delete(actor=city.group_admin, group=group)
    assert not RecipientGroup.objects.filter(pk=group.pk).exists()
