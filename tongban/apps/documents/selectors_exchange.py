"""Exchange reads, scoped to the actor; ``access_*`` are the one way to load one object for
a user (404 when it is not theirs to see)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Case, Count, F, IntegerField, Q, QuerySet, Value, When
from django.http import Http404
from django.utils.translation import gettext as _

from tongban.apps.documents import permissions as p
from tongban.apps.documents.exchange import (
    DELIVERY_SENDER_SCOPE,
    GROUP_OWNER_SCOPE,
    ISSUER_SCOPE,
    RECIPIENT_SCOPE,
    SENDER_SCOPE,
)
from tongban.apps.documents.models import (
    Delivery,
    DeliveryState,
    Dispatch,
    Document,
    RecipientGroup,
)
from tongban.platform.access.services import ScopePaths, has_permission, scope_queryset
from tongban.platform.orgs.models import Department, Division

DEPARTMENT_SELF = ScopePaths(department="", division="division")


# --------------------------------------------------------------------------- receiving unit


def inbox_for(*, actor: Any, state: str = "") -> QuerySet[Delivery]:
    """The copies that reached the actor's departments: pending first, newest first."""
    deliveries = scope_queryset(
        actor,
        Delivery.objects.select_related("document", "dispatch__sender", "recipient"),
        p.RECEIVE,
        RECIPIENT_SCOPE,
    )
    if state in DeliveryState.values:
        deliveries = deliveries.filter(state=state)
    return deliveries.annotate(
        pending_first=Case(
            When(state=DeliveryState.PENDING, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        )
    ).order_by("pending_first", "-delivered_at", "-pk")


def inbox_counts(*, actor: Any) -> dict[str, int]:
    rows = (
        scope_queryset(actor, Delivery.objects.all(), p.RECEIVE, RECIPIENT_SCOPE)
        .values("state")
        .annotate(n=Count("pk"))
    )
    counts = dict.fromkeys(DeliveryState.values, 0)
    for row in rows:
        counts[row["state"]] = row["n"]
    return counts


def access_delivery_for_recipient(actor: Any, delivery_id: int) -> Delivery:
    delivery = scope_queryset(
        actor,
        Delivery.objects.select_related(
            "document",
            "document__issuer",
            "dispatch__sender",
            "recipient",
            "read_by",
            "signed_by",
            "returned_by",
        ).filter(pk=delivery_id),
        p.RECEIVE,
        RECIPIENT_SCOPE,
    ).first()
    if delivery is None:
        raise Http404(_("未找到该来文"))
    return delivery


def access_return_notice(actor: Any, delivery_id: int) -> Delivery:
    """A returned copy, for the receiving unit (RECEIVE) or the sender (NUMBER_SEAL or
    VIEW over the sending department)."""
    base = Delivery.objects.select_related(
        "document", "dispatch__sender", "recipient", "returned_by"
    ).filter(pk=delivery_id, state=DeliveryState.RETURNED)
    delivery = scope_queryset(actor, base, p.RECEIVE, RECIPIENT_SCOPE).first()
    for code in (p.NUMBER_SEAL, p.VIEW):
        if delivery is None:
            delivery = scope_queryset(actor, base, code, DELIVERY_SENDER_SCOPE).first()
    if delivery is None:
        raise Http404(_("未找到该退文告知单"))
    return delivery


# --------------------------------------------------------------------------- sending side


def access_document_for_send(actor: Any, document_id: int) -> Document:
    document = scope_queryset(
        actor,
        Document.objects.select_related("issuer").filter(pk=document_id),
        p.NUMBER_SEAL,
        ISSUER_SCOPE,
    ).first()
    if document is None:
        raise Http404(_("未找到该公文"))
    return document


def dispatches_for_document(document: Document) -> QuerySet[Dispatch]:
    return document.dispatches.select_related("sent_by")


def _dispatch_scoped(actor: Any, base: QuerySet[Dispatch]) -> QuerySet[Dispatch]:
    return scope_queryset(actor, base, p.NUMBER_SEAL, SENDER_SCOPE) | scope_queryset(
        actor, base, p.VIEW, SENDER_SCOPE
    )


def access_dispatch(actor: Any, dispatch_id: int) -> Dispatch:
    """A dispatch for the sending department (NUMBER_SEAL or VIEW over it)."""
    base = Dispatch.objects.select_related("document", "sender", "sent_by").filter(pk=dispatch_id)
    dispatch = _dispatch_scoped(actor, base).first()
    if dispatch is None:
        raise Http404(_("未找到该分发记录"))
    return dispatch


def can_manage_dispatch(actor: Any, dispatch: Dispatch) -> bool:
    return scope_queryset(
        actor, Dispatch.objects.filter(pk=dispatch.pk), p.NUMBER_SEAL, SENDER_SCOPE
    ).exists()


def access_delivery_for_sender(actor: Any, delivery_id: int) -> Delivery:
    delivery = scope_queryset(
        actor,
        Delivery.objects.select_related("dispatch", "document").filter(pk=delivery_id),
        p.NUMBER_SEAL,
        DELIVERY_SENDER_SCOPE,
    ).first()
    if delivery is None:
        raise Http404(_("未找到该送达记录"))
    return delivery


def dispatch_deliveries(
    dispatch: Dispatch, *, state: str = "", query: str = "", unread: bool = False
) -> QuerySet[Delivery]:
    deliveries = dispatch.deliveries.select_related("recipient", "read_by", "signed_by")
    if state in DeliveryState.values:
        deliveries = deliveries.filter(state=state)
    if unread:
        deliveries = deliveries.filter(read_at__isnull=True)
    query = query.strip()
    if query:
        deliveries = deliveries.filter(
            Q(recipient__name__contains=query) | Q(recipient__code__contains=query)
        )
    return deliveries.order_by("recipient__code", "pk")


def dispatch_counts(dispatch: Dispatch) -> dict[str, int]:
    totals = dispatch.deliveries.aggregate(
        total=Count("pk"),
        read=Count("pk", filter=Q(read_at__isnull=False)),
        **{state: Count("pk", filter=Q(state=state)) for state in DeliveryState.values},
    )
    return {key: int(value or 0) for key, value in totals.items()}


# --------------------------------------------------------------------------- groups


def group_owner_choices(actor: Any) -> QuerySet[Department]:
    """Departments whose own groups the actor manages (NUMBER_SEAL over them)."""
    return scope_queryset(
        actor, Department.objects.filter(is_active=True), p.NUMBER_SEAL, DEPARTMENT_SELF
    ).order_by("code")


def groups_for(*, actor: Any) -> QuerySet[RecipientGroup]:
    """City-wide groups (for anyone who sends or manages groups) and the groups of the
    actor's departments."""
    base = RecipientGroup.objects.select_related("owner").annotate(member_count=Count("members"))
    own = scope_queryset(
        actor, RecipientGroup.objects.all(), p.NUMBER_SEAL, GROUP_OWNER_SCOPE
    ).values("pk")
    condition = Q(pk__in=own)
    if has_permission(actor, p.GROUP_MANAGE) or has_permission(actor, p.NUMBER_SEAL):
        condition |= Q(owner__isnull=True)
    return base.filter(condition).order_by(F("owner_id").asc(nulls_first=True), "name")


def access_group(actor: Any, group_id: int) -> RecipientGroup:
    group = groups_for(actor=actor).filter(pk=group_id).first()
    if group is None:
        raise Http404(_("未找到该分组"))
    return group


def group_member_ids(group: RecipientGroup) -> list[int]:
    return sorted(group.members.values_list("pk", flat=True))


# --------------------------------------------------------------------------- the org tree


@dataclass
class TreeNode:
    department: Department
    depth: int
    descendants: list[int] = field(default_factory=list)


@dataclass
class DivisionBlock:
    division: Division
    nodes: list[TreeNode]

    @property
    def department_ids(self) -> list[int]:
        return [node.department.pk for node in self.nodes]


def org_tree(*, exclude: int | None = None) -> list[DivisionBlock]:
    """Active departments by division, each division's departments in tree order (by
    path) with their depth and descendants, for the recipient picker."""
    departments = list(
        Department.objects.filter(is_active=True)
        .exclude(pk=exclude or 0)
        .select_related("division")
        .order_by("division__path", "path", "code")
    )
    blocks: dict[int, DivisionBlock] = {}
    for department in departments:
        block = blocks.setdefault(
            department.division_id, DivisionBlock(division=department.division, nodes=[])
        )
        block.nodes.append(TreeNode(department, max(0, department.path.count("/") - 2)))
    for block in blocks.values():
        nodes = block.nodes  # in path order: a subtree is the run of nodes under its root
        for index, node in enumerate(nodes):
            prefix = node.department.path
            for other in nodes[index + 1 :]:
                if not other.department.path.startswith(prefix):
                    break
                node.descendants.append(other.department.pk)
    return sorted(blocks.values(), key=lambda block: block.division.path)


def division_department_ids(division_ids: list[int], *, exclude: int | None = None) -> list[int]:
    """All active departments of the divisions (and their sub-divisions): "select all
    under" without JavaScript."""
    paths = list(Division.objects.filter(pk__in=division_ids).values_list("path", flat=True))
    if not paths:
        return []
    condition = Q()
    for path in paths:
        condition |= Q(division_path__startswith=path)
    return list(
        Department.objects.filter(condition, is_active=True)
        .exclude(pk=exclude or 0)
        .values_list("pk", flat=True)
    )
