"""Telling people about drafting work (发文): the next step's people when a task opens for
them, the drafter when the draft is returned.

Tasks target departments; each new 核稿, 会签 or 签发 task, and the 编号 after sign-off, is
announced to the holders of its step's permission in its department
(``access.holders.department_holders``), in the transition's transaction. 用印 and 分发
follow 编号 by the same 文书 and are not announced. The actor is never told of their own
step.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from tongban.apps.documents import process
from tongban.apps.documents.models import Document, DocumentState
from tongban.platform.access.holders import department_holders
from tongban.platform.notify.services import notify_send

NOTIFY_CATEGORY = "documents"
ANNOUNCED = (process.CHECK, process.SIGN, process.NUMBER)


def _tell(recipients: list[Any], document: Document, subject: str, body: str, actor: Any) -> None:
    notify_send(
        recipients=recipients,
        template_code="platform.generic",
        context={"subject": subject, "body": body},
        category=NOTIFY_CATEGORY,
        link=reverse("documents:document_detail", args=[document.pk]),
        actor=actor,
    )


def open_task_ids(document: Document) -> set[int]:
    return {task.pk for task in process.open_tasks(document)}


def announce_new_tasks(document: Document, before: Iterable[int], *, actor: Any) -> int:
    """Tell the people of every task opened since ``before`` (task ids); how many were told."""
    known = set(before)
    from tongban.apps.documents.drafting import task_department_id

    fresh = [
        task
        for task in process.open_tasks(document)
        if task.pk not in known
        and (task.spec_id in ANNOUNCED or process.is_countersign(task.spec_id))
    ]
    told = 0
    for task in fresh:
        department_id = task_department_id(document, task)
        people = department_holders(process.step_permission(task.spec_id), [department_id])
        recipients = [user for user in people.get(department_id, []) if user.pk != actor.pk]
        if not recipients:
            continue
        step = DocumentState(process.step_state(task.spec_id)).label
        fields = {"title": document.title, "step": step, "issuer": document.issuer.name}
        _tell(
            recipients,
            document,
            _("待%(step)s公文：%(title)s") % fields,
            _("%(issuer)s的《%(title)s》已到%(step)s，请处理。") % fields,
            actor,
        )
        told += len(recipients)
    return told


def announce_return(document: Document, *, actor: Any, reason: str) -> None:
    """Tell the drafter their draft came back (unless they returned it themselves)."""
    drafter = document.drafter
    if drafter is None or drafter.pk == actor.pk:
        return
    fields = {
        "title": document.title,
        "who": getattr(actor, "display_name", "") or actor.username,
        "reason": reason[:200],
    }
    _tell(
        [drafter],
        document,
        _("公文被退回修改：%(title)s") % fields,
        _("%(who)s退回了《%(title)s》，理由：%(reason)s") % fields,
        actor,
    )
