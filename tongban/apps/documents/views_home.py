"""/documents/: the landing page, linking to the areas the user's permissions open."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as lazy

from tongban.apps.documents import permissions as p
from tongban.platform.access.decorators import signed_in
from tongban.platform.access.services import has_permission

NAV = "documents"


@dataclass(frozen=True)
class Area:
    url_name: str
    label: str | Promise
    summary: str | Promise
    permissions: tuple[str, ...]


AREAS: tuple[Area, ...] = (
    Area(
        "documents:drafts",
        lazy("发文办理"),
        lazy("拟稿、核稿、会签、签发、编号、用印"),
        (p.DRAFT, p.CHECK, p.COUNTERSIGN, p.SIGN_OFF, p.NUMBER_SEAL, p.VIEW),
    ),
    Area(
        "documents:inbox",
        lazy("来文签收"),
        lazy("签收或退回其他单位发来的公文"),
        (p.RECEIVE,),
    ),
    Area(
        "documents:receipts",
        lazy("收文办理"),
        lazy("登记、拟办、批办、传阅、承办、办结"),
        (p.RECEIVE, p.HANDLE, p.INSTRUCT),
    ),
    Area(
        "documents:tasks",
        lazy("督查督办"),
        lazy("督办事项、进展报送、催办与逾期"),
        (p.TASK_SUPERVISE, p.TASK_REPORT),
    ),
    Area(
        "documents:archive",
        lazy("公文归档与检索"),
        lazy("归档、保管期限、全文检索"),
        (p.ARCHIVE, p.VIEW),
    ),
    Area(
        "documents:seals",
        lazy("电子印章"),
        lazy("本部门的印模与签名密钥"),
        (p.SEAL_MANAGE,),
    ),
    Area(
        "documents:groups",
        lazy("分发分组"),
        lazy("各区人民政府、市直各单位等常用分组"),
        (p.GROUP_MANAGE, p.NUMBER_SEAL),
    ),
)


def areas_for(user: object) -> list[Area]:
    return [area for area in AREAS if any(has_permission(user, code) for code in area.permissions)]


@signed_in
def home(request: HttpRequest) -> HttpResponse:
    areas = areas_for(request.user)
    if not areas:
        raise PermissionDenied(_("您没有执行此操作的权限"))
    return render(request, "documents/home.html", {"nav_active": NAV, "areas": areas})
