"""The sharing app's user-facing JSON API under /api/sharing/ (session or personal token).
The gateway that department systems call is separate: ``gateway_api.py`` at /gateway/."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["sharing"])
router.add_router("/catalogue/", "tongban.apps.sharing.api_catalogue.router")
router.add_router("/grants/", "tongban.apps.sharing.api_grants.router")
