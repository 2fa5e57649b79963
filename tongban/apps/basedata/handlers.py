"""The e-licence register follows the licences app: issued and revoked licences are
copied in (with the holder's identity number, encrypted) from ``licences.public``."""

from __future__ import annotations

from typing import Any

from tongban.apps.licences.events import LICENCE_ISSUED, LICENCE_REVOKED
from tongban.platform.events.registry import subscriber


@subscriber(LICENCE_ISSUED)
def on_licence_issued(event: Any) -> None:
    from tongban.apps.basedata.services import licence_register_sync

    payload = event.payload or {}
    licence_register_sync(
        identifier=str(payload.get("identifier", "")),
        issuer_department_code=str(payload.get("issuer_department_code", "")),
    )
    previous = payload.get("previous")
    if previous:  # a renewal revoked the old version
        licence_register_sync(
            identifier=str(previous),
            issuer_department_code=str(payload.get("issuer_department_code", "")),
        )


@subscriber(LICENCE_REVOKED)
def on_licence_revoked(event: Any) -> None:
    from tongban.apps.basedata.services import licence_register_sync

    payload = event.payload or {}
    licence_register_sync(
        identifier=str(payload.get("identifier", "")),
        issuer_department_code=str(payload.get("issuer_department_code", "")),
    )
