"""JSON API under /api/exchange/."""

from ninja import Router

router = Router(tags=["exchange"])
