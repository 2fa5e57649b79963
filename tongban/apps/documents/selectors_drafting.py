"""Reads of drafting and sign-off, scoped to the actor.

A document is visible to the issuer department's holders of VIEW, DRAFT, CHECK, SIGN_OFF
or NUMBER_SEAL (by the grant's scope), and to the COUNTERSIGN holders of a department asked
to countersign it. ``access_document`` is the one way to load one for a user (404 otherwise).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _

from tongban.apps.documents import diff, process
from tongban.apps.documents import permissions as p
from tongban.apps.documents.drafting import (
    DEPARTMENT_SCOPE,
    ISSUER_SCOPE,
    may_use,
    task_department_id,
)
from tongban.apps.documents.models import Document, Opinion, Revision
from tongban.platform.access.services import scope_queryset
from tongban.platform.orgs.models import Department
from tongban.platform.ui.workbench import WorkItem
from tongban.platform.workflow.models import WorkTask
from tongban.platform.workflow.selectors import task_inbox_for

ISSUER_PERMISSIONS = (p.VIEW, p.DRAFT, p.CHECK, p.SIGN_OFF, p.NUMBER_SEAL)


def _base() -> QuerySet[Document]:
    return Document.objects.select_related("issuer", "drafter", "signed_off_by")


def visible_documents(actor: Any) -> QuerySet[Document]:
    condition = Q(pk__in=[])
    for code in ISSUER_PERMISSIONS:
        ids = scope_queryset(actor, Document.objects.all(), code, ISSUER_SCOPE).values("pk")
        condition |= Q(pk__in=ids)
    countersigning = scope_queryset(
        actor, Department.objects.all(), p.COUNTERSIGN, DEPARTMENT_SCOPE
    ).values("pk")
    condition |= Q(countersign_departments__in=countersigning)
    return _base().filter(condition).distinct()


def access_document(actor: Any, document_id: int) -> Document:
    document = visible_documents(actor).filter(pk=document_id).first()
    if document is None:
        raise Http404(_("未找到该公文"))
    return document


def department_documents(actor: Any) -> QuerySet[Document]:
    """本部门发文: every document of the departments the actor may view."""
    condition = Q(pk__in=[])
    for code in ISSUER_PERMISSIONS:
        ids = scope_queryset(actor, Document.objects.all(), code, ISSUER_SCOPE).values("pk")
        condition |= Q(pk__in=ids)
    return _base().filter(condition)


def drafted_by(actor: Any) -> QuerySet[Document]:
    """我起草的."""
    return department_documents(actor).filter(drafter_id=getattr(actor, "pk", None))


@dataclass(frozen=True)
class Pending:
    document: Document
    task: WorkTask


def pending_for(actor: Any, limit: int = 200) -> list[Pending]:
    """待我处理: open tasks of documents that the actor may do now, oldest first."""
    if not getattr(actor, "is_authenticated", False):
        return []
    tasks = list(
        task_inbox_for(actor=actor).filter(instance__subject__startswith=process.SUBJECT_PREFIX)[
            : limit * 2
        ]
    )
    ids = {process.document_id_of(task.instance.subject) for task in tasks}
    documents = {d.pk: d for d in _base().filter(pk__in=[i for i in ids if i is not None])}
    allowed: dict[tuple[int, str], bool] = {}  # (department, permission): one query each
    result: list[Pending] = []
    for task in tasks:  # in the inbox: the task's target already matches a posting
        document = documents.get(process.document_id_of(task.instance.subject) or 0)
        if document is None:
            continue
        key = (task_department_id(document, task), process.step_permission(task.spec_id))
        if key not in allowed:
            allowed[key] = may_use(actor, *key)
        if allowed[key]:
            result.append(Pending(document=document, task=task))
        if len(result) >= limit:
            break
    return result


def workbench_todo(user: Any, limit: int) -> list[WorkItem]:
    """Pending 拟稿/核稿/会签/签发/编号/用印/分发 on the staff workbench."""
    source = str(_("发文办理"))
    return [
        WorkItem(
            title=_("待%(step)s：%(title)s")
            % {"step": entry.task.name.split("：")[0], "title": entry.document.title},
            url=reverse("documents:document_detail", args=[entry.document.pk]),
            source=source,
            status=str(entry.document.get_state_display()),
            urgent=bool(entry.document.urgency),
            occurred_at=entry.task.created_at,
        )
        for entry in pending_for(user, limit)
    ]


def opinions_of(document: Document) -> QuerySet[Opinion]:
    return document.opinions.select_related("author", "department").order_by("created_at", "id")


def revisions_of(document: Document) -> QuerySet[Revision]:
    return document.revisions.select_related("author").order_by("-number")


def revision_diff(document: Document, old: int, new: int) -> diff.Comparison:
    """The differences between two revisions of ``document`` (404 for unknown numbers)."""
    found = {
        revision.number: revision
        for revision in document.revisions.select_related("author").filter(number__in=[old, new])
    }
    if old not in found or new not in found:
        raise Http404(_("未找到该版本"))
    return diff.compare(found[old], found[new])


def process_history(document: Document) -> QuerySet[WorkTask]:
    """Every task of the document's current process, in the order they arrived."""
    if document.process_id is None:
        return WorkTask.objects.none()
    return (
        WorkTask.objects.filter(instance_id=document.process_id)
        .select_related("completed_by")
        .order_by("created_at", "pk")
    )
