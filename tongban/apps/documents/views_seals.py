"""电子印章 pages: the seals of the departments whose seals the user manages, making a
new seal (the previous one is retired), new keys for a seal, retiring one."""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tongban.apps.documents import permissions, seals
from tongban.apps.documents.models import IssuerSeal
from tongban.apps.documents.selectors_archive import departments_for
from tongban.platform.access.decorators import permission
from tongban.platform.accounts.models import User
from tongban.platform.ui.forms import error_lines, int_or_none

NAV = "documents"


def _actor(request: HttpRequest) -> User:
    return cast(User, request.user)


def _access_seal(request: HttpRequest, seal_id: int) -> IssuerSeal:
    seal = seals.seal_list_for(actor=request.user).filter(pk=seal_id).first()
    if seal is None:
        raise Http404(_("未找到该印章"))
    return seal


@permission(permissions.SEAL_MANAGE)
def seal_list(request: HttpRequest) -> HttpResponse:
    departments = list(departments_for(request.user, (permissions.SEAL_MANAGE,)))
    errors: list[str] = []
    values = {"department": "", "name": ""}
    if request.method == "POST":
        values = {
            "department": request.POST.get("department", ""),
            "name": request.POST.get("name", "").strip(),
        }
        chosen = next((d for d in departments if d.pk == int_or_none(values["department"])), None)
        upload = request.FILES.get("image")
        image = None
        if upload is not None:
            if (upload.size or 0) > seals.MAX_IMAGE_BYTES:
                errors.append(_("印模文件不能超过1 MB"))
            else:
                image = upload.read()
        if chosen is None:
            errors.append(_("请选择部门"))
        if not errors:
            assert chosen is not None
            try:
                seal = seals.seal_create(
                    actor=_actor(request), department=chosen, name=values["name"], image=image
                )
            except ValidationError as error:
                errors = error_lines(error)
            else:
                messages.success(
                    request,
                    _("已启用新印章“%(name)s”，原印章已停用") % {"name": seal.name},
                )
                return redirect("documents:seals")
    rows = [
        (seal, seals.certificate_fingerprint(seal)[:16])
        for seal in seals.seal_list_for(actor=request.user)[:200]
    ]
    context = {
        "nav_active": NAV,
        "rows": rows,
        "departments": departments,
        "values": values,
        "errors": errors,
    }
    return render(request, "documents/seals.html", context, status=400 if errors else 200)


@require_GET
@permission(permissions.SEAL_MANAGE)
def seal_image(request: HttpRequest, seal_id: int) -> HttpResponse:
    seal = _access_seal(request, seal_id)
    response = HttpResponse(bytes(seal.image), content_type="image/png")
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_POST
@permission(permissions.SEAL_MANAGE)
def seal_rotate(request: HttpRequest, seal_id: int) -> HttpResponse:
    seal = _access_seal(request, seal_id)
    try:
        seals.seal_rotate(actor=_actor(request), seal=seal)
    except ValidationError as error:
        for line in error_lines(error):
            messages.error(request, line)
    else:
        messages.success(request, _("已为“%(name)s”生成新的签名密钥") % {"name": seal.name})
    return redirect("documents:seals")


@require_POST
@permission(permissions.SEAL_MANAGE)
def seal_retire(request: HttpRequest, seal_id: int) -> HttpResponse:
    seal = _access_seal(request, seal_id)
    try:
        seals.seal_retire(actor=_actor(request), seal=seal)
    except ValidationError as error:
        for line in error_lines(error):
            messages.error(request, line)
    else:
        messages.success(request, _("印章“%(name)s”已停用") % {"name": seal.name})
    return redirect("documents:seals")
