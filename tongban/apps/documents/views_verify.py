"""公文验证 (public) and the sealed PDF download.

The verify page takes an uploaded PDF (size-capped, a few uploads per minute per address)
or a document's public id, and says whether it is intact, who sealed it and when; it shows
no personal data. The PDF download is for the issuing department and the departments the
document was delivered to (``verification.document_readable_by``); anyone else gets 404.
"""

from __future__ import annotations

import time
from typing import Any, cast
from uuid import UUID

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from tongban.apps.documents import verification
from tongban.platform.access.decorators import public, signed_in
from tongban.platform.accounts.models import User
from tongban.platform.files.services import file_read_record
from tongban.platform.ui.middleware import client_ip

NAV = "documents"
RATE_PREFIX = "documents:verify:"


def verify_max_bytes() -> int:
    return int(
        getattr(
            settings,
            "TONGBAN_DOCUMENTS_VERIFY_MAX_BYTES",
            getattr(settings, "TONGBAN_MAX_UPLOAD_BYTES", 20 * 1024 * 1024),
        )
    )


def verify_per_minute() -> int:
    return int(getattr(settings, "TONGBAN_DOCUMENTS_VERIFY_PER_MINUTE", 10))


def verify_rate_exceeded(address: str, *, now: float | None = None) -> bool:
    """Count one verification for ``address`` in the current minute; True beyond the limit."""
    window = int((time.time() if now is None else now) // 60)
    key = f"{RATE_PREFIX}{address or 'unknown'}:{window}"
    if cache.add(key, 1, timeout=120):
        count = 1
    else:
        try:
            count = int(cache.incr(key))
        except ValueError:
            cache.add(key, 1, timeout=120)
            count = 1
    return count > verify_per_minute()


def _page(request: HttpRequest, context: dict[str, Any], *, status: int = 200) -> HttpResponse:
    base = {"nav_active": NAV, "max_mb": max(1, verify_max_bytes() // (1024 * 1024))}
    return render(request, "documents/verify.html", {**base, **context}, status=status)


@public
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _page(request, {})
    if verify_rate_exceeded(client_ip(request)):
        return _page(request, {"error": _("验证过于频繁，请一分钟后再试")}, status=429)
    upload = request.FILES.get("pdf")
    if upload is None or not upload.size:
        return _page(request, {"error": _("请选择要验证的PDF文件")}, status=400)
    if upload.size > verify_max_bytes():
        return _page(request, {"error": _("文件超过大小上限")}, status=400)
    data = upload.read(verify_max_bytes() + 1)
    if not data.startswith(b"%PDF-"):
        return _page(request, {"error": _("上传的文件不是PDF")}, status=400)
    report = verification.verify_uploaded(data)
    return _page(request, {"report": report})


@public
@require_GET
def verify_document(request: HttpRequest, public_id: UUID) -> HttpResponse:
    if verify_rate_exceeded(client_ip(request)):
        return _page(request, {"error": _("验证过于频繁，请一分钟后再试")}, status=429)
    report = verification.verify_by_public_id(public_id)
    if report is None:
        return _page(request, {"error": _("没有这份已用印的公文")}, status=404)
    return _page(request, {"report": report, "by_id": True})


@signed_in
@require_GET
def document_pdf(request: HttpRequest, document_id: int) -> HttpResponse:
    document = verification.access_sealed_document(request.user, document_id)
    assert document.sealed_pdf is not None
    file_read_record(actor=cast(User, request.user), stored=document.sealed_pdf, allowed=True)
    body = verification.sealed_pdf_bytes(document)
    response = HttpResponse(body, content_type="application/pdf")
    name = document.sealed_pdf.original_name or "document.pdf"
    from urllib.parse import quote

    response["Content-Disposition"] = f"inline; filename*=UTF-8''{quote(name)}"
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    response["X-Tongban-SM3"] = document.sealed_pdf.sm3
    return response
