"""Pages: public verification (by identifier, number or QR code), the holder's licences,
the PDF download, and the issuing department's list with revocation.

Thin: parse the request, call one selector or service, render.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tongban.apps.licences import documents, permissions, selectors, services
from tongban.apps.licences.signing import Verdict
from tongban.platform.access.decorators import permission, public, signed_in
from tongban.platform.access.services import has_permission

PAGE_SIZE = 30


@public
@require_GET
def verify_form(request: HttpRequest) -> HttpResponse:
    """核验 by identifier or number; a match redirects to the licence's verification page."""
    query = request.GET.get("q", "").strip()[: selectors.QUERY_MAX]
    if query:
        found = selectors.licence_find(query)
        if found is not None:
            return redirect("licences:verify", identifier=found.identifier)
    context = {
        "nav_active": "licences",
        "q": query,
        "not_found": bool(query),
        "verdict": Verdict.NOT_FOUND.value if query else "",
        "verdict_label": documents.verdict_labels()[Verdict.NOT_FOUND],
    }
    return render(request, "licences/verify_form.html", context, status=404 if query else 200)


@public
@require_GET
def verify(request: HttpRequest, identifier: str) -> HttpResponse:
    licence = selectors.licence_by_identifier(identifier)
    if licence is None:
        context = {
            "nav_active": "licences",
            "q": identifier,
            "not_found": True,
            "verdict": Verdict.NOT_FOUND.value,
            "verdict_label": documents.verdict_labels()[Verdict.NOT_FOUND],
        }
        return render(request, "licences/verify_form.html", context, status=404)
    view = documents.public_view(licence)
    context = {
        "nav_active": "licences",
        "view": view,
        "licence": licence,
        "verify_url": request.build_absolute_uri(documents.verify_path(identifier)),
        "may_download": licence.holder_id_hmac in selectors.holder_hmacs_for(request.user)
        or selectors.licences_issued_for(actor=request.user).filter(pk=licence.pk).exists(),
    }
    return render(request, "licences/verify.html", context)


@public
@require_GET
def verify_qr(request: HttpRequest, identifier: str) -> HttpResponse:
    """The QR code of the verification page's address (SVG)."""
    if selectors.licence_by_identifier(identifier) is None:
        raise Http404
    url = request.build_absolute_uri(documents.verify_path(identifier))
    response = HttpResponse(documents.qr_svg(url), content_type="image/svg+xml")
    response["Cache-Control"] = "public, max-age=86400"
    return response


@signed_in
@require_GET
def licence_pdf(request: HttpRequest, identifier: str) -> HttpResponse:
    """The PDF, for its holder and the issuing department's staff (404 for anyone else)."""
    licence = selectors.access_licence_for_download(actor=request.user, identifier=identifier)
    body = documents.licence_pdf_bytes(
        licence, base_url=request.build_absolute_uri("/").rstrip("/")
    )
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{licence.number}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


@signed_in
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    """我的证照: the licences held by the user or the enterprises they act for."""
    licences = [
        (licence, documents.public_view(licence))
        for licence in selectors.licences_held_by(actor=request.user)[:200]
    ]
    return render(request, "licences/mine.html", {"nav_active": "personal", "licences": licences})


@permission(permissions.LICENCE_VIEW)
@require_GET
def manage(request: HttpRequest) -> HttpResponse:
    """The issuing departments' list (within the viewer's data scope)."""
    query = request.GET.get("q", "").strip()[: selectors.QUERY_MAX]
    licences = selectors.licences_issued_for(actor=request.user)
    if query:
        licences = licences.filter(number__icontains=query) | licences.filter(
            holder_name__icontains=query
        )
    page = Paginator(licences.order_by("-issued_on", "-pk"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {
        "nav_active": "workbench",
        "page": page,
        "q": query,
        "may_revoke": has_permission(request.user, permissions.LICENCE_REVOKE),
    }
    return render(request, "licences/manage.html", context)


@permission(permissions.LICENCE_REVOKE)
@require_POST
def revoke(request: HttpRequest, identifier: str) -> HttpResponse:
    licence = selectors.licence_by_identifier(identifier)
    if licence is None:
        raise Http404
    try:
        services.licence_revoke(
            actor=request.user,  # type: ignore[arg-type]
            licence=licence,
            reason=request.POST.get("reason", ""),
        )
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("证照已撤销"))
    return redirect("licences:verify", identifier=identifier)
