"""The whole 发文 flow with the real 用印 (seals.document_seal: renders and signs once)
and the real 分发 (exchange.document_send calling drafting.distribution_complete)."""

from __future__ import annotations

import pytest

from tongban.apps.documents import drafting, exchange, seals
from tongban.apps.documents.models import Delivery, DocumentState
from tongban.apps.documents.tests.fixtures_drafting import (  # noqa: F401
    City,
    advance_to_sign,
    city_fixture,
)
from tongban.platform.workflow.models import WorkTask, WorkTaskState


@pytest.mark.django_db
def test_sealed_and_sent_document_finishes_the_process(city: City) -> None:
    seals.ensure_seal(city.office)
    document = advance_to_sign(city, city.draft(countersign=[city.finance]))
    drafting.document_sign_off(actor=city.leader, document=document)
    drafting.document_number(actor=city.clerk, document=document)
    drafting.document_seal_step(actor=city.clerk, document=document)
    assert document.state == DocumentState.DISTRIBUTING
    assert document.sealed_pdf_id is not None
    assert len(document.content_sm3) == 64
    exchange.document_send(
        actor=city.clerk,
        document=document,
        recipients=[city.finance.pk, city.market.pk],
        groups=[],
        message="请按要求落实",
        sign_within_hours=48,
    )
    document.refresh_from_db()
    assert document.state == DocumentState.DISTRIBUTED
    assert Delivery.objects.filter(document=document).count() == 2
    distribute = WorkTask.objects.get(instance_id=document.process_id, spec_id="distribute")
    assert distribute.state == WorkTaskState.COMPLETED
    # a later send to one more unit leaves the document distributed
    exchange.document_send(
        actor=city.clerk, document=document, recipients=[city.civil.pk], groups=[]
    )
    document.refresh_from_db()
    assert document.state == DocumentState.DISTRIBUTED
