"""The JSON API (Django Ninja), served under /api/ with OpenAPI docs at /api/docs."""

from __future__ import annotations

from ninja import NinjaAPI

api = NinjaAPI(
    title="Tongban 通办 API",
    version="1",
    description="统一应用支撑平台 API. Session auth for the browser, personal access tokens "
    "(Authorization: Bearer ...) for machines.",
    urls_namespace="api",
)
