"""Drafting tells people about their work: each new 核稿, 会签, 签发 and 编号 task reaches
the holders of its step's permission in its department; a return reaches the drafter."""

from __future__ import annotations

from typing import Any

from tongban.apps.documents import drafting
from tongban.apps.documents.tests.fixtures_drafting import City, city_fixture  # noqa: F401
from tongban.platform.notify.models import Message


def _inbox(user: Any) -> list[str]:
    return list(
        Message.objects.filter(recipient=user, category="documents")
        .order_by("pk")
        .values_list("subject", flat=True)
    )


def test_each_step_is_announced_to_its_people_once(city: City) -> None:
    document = city.draft(countersign=[city.finance, city.market])
    drafting.document_submit(actor=city.drafter, document=document)
    assert _inbox(city.checker) == [f"待核稿公文：{document.title}"]
    assert _inbox(city.leader) == []  # not yet theirs
    drafting.document_decide(actor=city.checker, document=document, decision="agree")
    assert _inbox(city.finance_officer) == [f"待会签公文：{document.title}"]
    assert _inbox(city.market_officer) == [f"待会签公文：{document.title}"]
    drafting.document_decide(actor=city.finance_officer, document=document, decision="agree")
    assert _inbox(city.leader) == []  # 签发 waits for the other countersigner
    drafting.document_decide(actor=city.market_officer, document=document, decision="agree")
    assert _inbox(city.leader) == [f"待签发公文：{document.title}"]
    drafting.document_decide(actor=city.leader, document=document, decision="agree")
    assert _inbox(city.clerk) == [f"待编号公文：{document.title}"]
    # a comment changes no step and tells nobody; nobody is told of their own step
    assert _inbox(city.drafter) == []
    assert len(_inbox(city.checker)) == 1


def test_a_return_reaches_the_drafter_with_the_reasons(city: City) -> None:
    document = city.draft()
    drafting.document_submit(actor=city.drafter, document=document)
    drafting.document_decide(
        actor=city.checker, document=document, decision="return", text="第二条表述不准确"
    )
    message = Message.objects.get(recipient=city.drafter, category="documents")
    assert message.subject == f"公文被退回修改：{document.title}"
    assert "第二条表述不准确" in message.body
    assert message.link == f"/documents/drafts/{document.pk}/"
