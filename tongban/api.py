"""The JSON API (Django Ninja) under /api/, OpenAPI docs at /api/docs.

Deny by default: every endpoint requires a signed-in session (with CSRF) or a personal
access token (``Authorization: Bearer <token>``), unless it says ``auth=None``; each
endpoint then checks its permission with ``access.services.require``/``scope_queryset``.
An operation that must refuse a caller before reading the body says
``auth=requires(<permission>)`` (``tongban.platform.api.auth``).
"""

from __future__ import annotations

from ninja import NinjaAPI

from tongban.platform.api.auth import default_auth
from tongban.platform.api.endpoints import router as platform_router
from tongban.platform.api.errors import install_error_handlers

api = NinjaAPI(
    title="Tongban 通办 API",
    version="1",
    description=(
        "统一应用支撑平台 API. Browser clients use the session (with the CSRF token); "
        "machines use a personal access token: `Authorization: Bearer <token>`. Errors "
        'always have the shape `{"code": ..., "message": ..., "details": [...]}` with the '
        "message in the caller's language (Accept-Language)."
    ),
    urls_namespace="api",
    auth=default_auth(),
)
install_error_handlers(api)
api.add_router("/platform/", platform_router)
api.add_router("/catalog/", "tongban.apps.catalog.api.router")
api.add_router("/workflow/", "tongban.platform.workflow.api.router")
api.add_router("/approvals/", "tongban.apps.approvals.api.router")
api.add_router("/licences/", "tongban.apps.licences.api.router")
api.add_router("/supervision/", "tongban.apps.supervision.api.router")
api.add_router("/sharing/", "tongban.apps.sharing.api.router")
api.add_router("/basedata/", "tongban.apps.basedata.api.router")
api.add_router("/exchange/", "tongban.apps.exchange.api.router")
api.add_router("/documents/", "tongban.apps.documents.api.router")
