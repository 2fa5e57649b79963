"""The documents app's JSON API under /api/documents/ (session or personal token)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["documents"])
