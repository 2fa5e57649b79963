"""The catalogue's lines on the staff workbench: versions to review, drafts returned."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from tongban.apps.catalog import permissions, selectors
from tongban.platform.access.services import has_permission
from tongban.platform.ui.workbench import WorkItem


def todo(user: Any, limit: int) -> list[WorkItem]:
    items: list[WorkItem] = []
    if has_permission(user, permissions.ITEM_REVIEW):
        for version in selectors.versions_for_reviewer(actor=user)[:limit]:
            items.append(
                WorkItem(
                    title=_("审核事项：%(name)s（第%(number)d版）")
                    % {"name": version.name, "number": version.number},
                    url=reverse("admin:catalog_itemversion_change", args=[version.pk]),
                    source=str(_("事项清单")),
                    status=str(_("待审核")),
                )
            )
    if has_permission(user, permissions.ITEM_EDIT):
        returned = selectors.versions_for_editor(actor=user, states=("draft",)).exclude(
            review_comment=""
        )
        for version in returned[:limit]:
            items.append(
                WorkItem(
                    title=_("修改退回的事项：%s") % version.name,
                    url=reverse("admin:catalog_itemversion_change", args=[version.pk]),
                    source=str(_("事项清单")),
                    status=str(_("已退回")),
                )
            )
    return items[:limit]
