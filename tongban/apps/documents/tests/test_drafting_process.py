"""The drafting process on the BPMN engine: 拟稿 → 核稿 → 会签 (parallel) → 签发 → 编号 →
用印 → 分发, returns to 拟稿, revisions, permissions, and the exchange's hook."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from tongban.apps.documents import drafting, events, process, seals, selectors_drafting
from tongban.apps.documents.models import Document, DocumentState, Opinion
from tongban.apps.documents.tests.fixtures_drafting import (  # noqa: F401
    City,
    advance_to_sign,
    city_fixture,
)
from tongban.platform.audit.models import AuditEntry
from tongban.platform.events.models import Event
from tongban.platform.workflow.models import WorkTask, WorkTaskState


def _fake_seal(calls: list[int]) -> Any:
    def seal(*, actor: Any, document: Document) -> Document:
        calls.append(document.pk)
        Document.objects.filter(pk=document.pk).update(
            content_sm3="ab" * 32, sealed_by=actor, sealed_at=timezone.now()
        )
        document.refresh_from_db()
        return document

    return seal


def test_full_process_with_parallel_countersign(city: City, monkeypatch: Any) -> None:
    document = city.draft(countersign=[city.finance, city.market])
    assert document.revisions.count() == 1
    drafting.document_update(
        actor=city.drafter,
        document=document,
        values={**_values(document), "body": document.body + "\n三、保障措施。"},
        note="补充保障措施",
    )
    assert [r.number for r in document.revisions.order_by("number")] == [1, 2]

    drafting.document_submit(actor=city.drafter, document=document)
    assert document.state == DocumentState.CHECKING
    drafting.document_decide(
        actor=city.checker, document=document, decision="agree", text="文字已核"
    )
    assert document.state == DocumentState.COUNTERSIGNING
    open_specs = {t.spec_id for t in process.open_tasks(document)}
    assert open_specs == {f"countersign_{city.finance.pk}", f"countersign_{city.market.pk}"}
    # each department sees only its own task; the first agreement leaves the other open
    drafting.document_decide(actor=city.finance_officer, document=document, decision="agree")
    assert document.state == DocumentState.COUNTERSIGNING
    with pytest.raises(PermissionDenied):
        drafting.document_decide(actor=city.finance_officer, document=document, decision="agree")
    drafting.document_decide(actor=city.market_officer, document=document, decision="agree")
    assert document.state == DocumentState.SIGNING

    # the leader's pending sign-off is on the workbench; the clerk's is not
    items = selectors_drafting.workbench_todo(city.leader, 10)
    assert [item.url for item in items] == [f"/documents/drafts/{document.pk}/"]
    assert selectors_drafting.workbench_todo(city.clerk, 10) == []

    drafting.document_sign_off(actor=city.leader, document=document, text="同意印发")
    assert document.state == DocumentState.NUMBERING
    assert document.signed_off_by == city.leader
    event = Event.objects.get(name=events.DOCUMENT_SIGNED_OFF)
    assert event.payload["document"] == str(document.public_id)
    assert event.payload["issuer"] == "SZFB"

    drafting.document_number(actor=city.clerk, document=document)
    year = timezone.localdate().year
    assert (document.serial, document.number) == (1, f"示范府办〔{year}〕1号")
    assert document.date == timezone.localtime(document.signed_off_at).date()
    assert document.state == DocumentState.SEALING

    calls: list[int] = []
    monkeypatch.setattr(seals, "document_seal", _fake_seal(calls))
    drafting.document_seal_step(actor=city.clerk, document=document)
    assert calls == [document.pk]
    assert document.state == DocumentState.DISTRIBUTING

    drafting.distribution_complete(actor=city.clerk, document=document)
    drafting.distribution_complete(actor=city.clerk, document=document)  # later sends: no-op
    document.refresh_from_db()
    assert document.state == DocumentState.DISTRIBUTED
    assert document.process is not None
    assert document.process.is_finished
    steps = list(Opinion.objects.filter(document=document).values_list("step", "decision"))
    assert steps == [
        ("checking", "agree"),
        ("countersigning", "agree"),
        ("countersigning", "agree"),
        ("signing", "agree"),
    ]
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {
        "documents.document.create",
        "documents.document.submit",
        "documents.document.countersign",
        "documents.document.sign_off",
        "documents.document.number",
        "documents.document.distributed",
    } <= actions


def _values(document: Document) -> dict[str, Any]:
    return {name: getattr(document, name) for name in drafting.FIELDS}


def test_return_goes_back_to_drafting_and_restarts_for_new_countersigners(city: City) -> None:
    document = city.draft(countersign=[city.finance, city.market])
    drafting.document_submit(actor=city.drafter, document=document)
    drafting.document_decide(actor=city.checker, document=document, decision="agree")
    with pytest.raises(ValidationError):  # a return needs its reasons
        drafting.document_decide(actor=city.market_officer, document=document, decision="return")
    drafting.document_decide(
        actor=city.market_officer, document=document, decision="return", text="第二条表述不准确"
    )
    assert document.state == DocumentState.DRAFTING
    open_tasks = process.open_tasks(document)
    assert [t.spec_id for t in open_tasks] == ["draft"]  # the finance task was withdrawn
    first_process = document.process_id
    # the drafter drops 市场监管局 and resubmits: a new process for the new set
    drafting.document_update(
        actor=city.drafter,
        document=document,
        values=_values(document),
        countersign_ids=[city.finance.pk],
    )
    drafting.document_submit(actor=city.drafter, document=document)
    assert document.process_id != first_process
    assert document.state == DocumentState.CHECKING
    drafting.document_decide(actor=city.checker, document=document, decision="agree")
    assert [t.spec_id for t in process.open_tasks(document)] == [f"countersign_{city.finance.pk}"]
    assert not drafting.actionable_tasks(city.market_officer, document)
    # the market officer no longer sees it, the finance officer does
    with pytest.raises(Http404):
        selectors_drafting.access_document(city.market_officer, document.pk)
    assert selectors_drafting.access_document(city.finance_officer, document.pk) == document
    assert WorkTask.objects.filter(
        instance_id=first_process, state=WorkTaskState.CANCELLED
    ).exists()


def test_minutes_have_no_seal_step(city: City) -> None:
    document = city.draft(kind="纪要", title="市政府常务会议纪要")
    advance_to_sign(city, document)
    drafting.document_sign_off(actor=city.leader, document=document)
    drafting.document_number(actor=city.clerk, document=document)
    assert document.state == DocumentState.DISTRIBUTING
    assert "seal" not in set(
        WorkTask.objects.filter(instance_id=document.process_id).values_list("spec_id", flat=True)
    )


def test_steps_are_refused_to_the_wrong_people_and_nothing_changes(city: City) -> None:
    document = city.draft()
    with pytest.raises(PermissionDenied):
        drafting.document_submit(actor=city.outsider, document=document)
    drafting.document_submit(actor=city.drafter, document=document)
    for actor in (city.drafter, city.leader, city.finance_officer):
        with pytest.raises(PermissionDenied):
            drafting.document_decide(actor=actor, document=document, decision="agree")
    with pytest.raises(PermissionDenied):  # the checker cannot sign off or number
        drafting.document_number(actor=city.checker, document=document)
    with pytest.raises(ValidationError):
        drafting.document_decide(actor=city.checker, document=document, decision="maybe")
    document.refresh_from_db()
    assert document.state == DocumentState.CHECKING
    assert not Opinion.objects.exists()
    with pytest.raises(Http404):
        selectors_drafting.access_document(city.outsider, document.pk)
    with pytest.raises(ValidationError):  # the document is not distributing yet
        drafting.distribution_complete(actor=city.clerk, document=document)


def test_bad_input_saves_nothing(city: City) -> None:
    with pytest.raises(ValidationError) as caught:
        city.draft(
            title="",
            copy_number="12",
            issuer_code="",
            direction="up",
            secrecy_period="1年",
            printed_on="2026-13-01",
        )
    fields = set(caught.value.message_dict)
    assert {
        "title",
        "copy_number",
        "issuer_code",
        "signers",
        "secrecy_period",
        "printed_on",
    } <= fields
    with pytest.raises(ValidationError):
        city.draft(countersign=[city.office])  # the issuer does not countersign itself
    with pytest.raises(ValidationError):  # another department's DRAFT holder
        drafting.document_create(
            actor=city.outsider, issuer_id=city.office.pk, values={"title": "x", "issuer_code": "x"}
        )
    assert not Document.objects.exists()


def test_cancel_before_sign_off(city: City) -> None:
    document = city.draft()
    drafting.document_submit(actor=city.drafter, document=document)
    drafting.document_cancel(actor=city.drafter, document=document, reason="工作已调整")
    assert document.state == DocumentState.CANCELLED
    assert not process.open_tasks(document)
