"""The documents app's JSON API under /api/documents/ (session or personal token)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["documents"])
router.add_router("", "tongban.apps.documents.api_drafting.router")
router.add_router("/", "tongban.apps.documents.api_archive.router")
router.add_router("/exchange/", "tongban.apps.documents.api_exchange.router")
router.add_router("/receipts/", "tongban.apps.documents.api_receiving.router")
router.add_router("/tasks/", "tongban.apps.documents.api_supervised.router")
