"""JSON API under /api/basedata/."""

from ninja import Router

router = Router(tags=["basedata"])
