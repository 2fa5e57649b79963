"""The intake API: other systems post supervised events here (``X-Source-Key`` header).

``POST /api/supervision/intake`` takes ``{"events": [...]}`` (at most 10,000) in the
canonical form of ``schema.IntakeEvent``; each invalid event is rejected on its own with a
reason while the valid ones are kept; replayed event ids are counted as duplicates.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.security import APIKeyHeader

from tongban.apps.supervision import services, sources
from tongban.apps.supervision.models import Source
from tongban.apps.supervision.schema import IntakeEvent
from tongban.platform.api.errors import ServiceError


class SourceKeyAuth(APIKeyHeader):
    param_name = "X-Source-Key"

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        return sources.source_authenticate(key or "")


router = Router(tags=["supervision"])


class IntakeIn(Schema):
    events: list[Any] = Field(
        ...,
        description=(
            "最多10,000条事件，每条为 IntakeEvent（见下方 schema）；逐条校验，"
            "不合格的单独退回，合格的照收"
        ),
    )


class RejectionOut(Schema):
    index: int
    id: str
    code: str
    message: str


class IntakeOut(Schema):
    accepted: int = Field(..., description="新接收的事件数")
    duplicates: int = Field(..., description="重复（已接收过的事件编号）")
    rejected: list[RejectionOut]
    alerts: int = Field(..., description="本批触发的预警数")


_EVENT_SCHEMA = IntakeEvent.model_json_schema(ref_template="#/components/schemas/{model}")


@router.post(
    "/intake",
    response=IntakeOut,
    auth=SourceKeyAuth(),
    summary="接收监察事件（批量）",
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["events"],
                        "properties": {
                            "events": {
                                "type": "array",
                                "maxItems": services.MAX_BATCH,
                                "items": _EVENT_SCHEMA,
                            }
                        },
                    }
                }
            },
            "required": True,
        }
    },
)
def intake(request: HttpRequest, payload: IntakeIn) -> Any:
    source: Source = request.auth  # type: ignore[attr-defined]
    if len(payload.events) > services.MAX_BATCH:
        raise ServiceError(
            "batch_too_large", _("一批最多%(max)d条事件") % {"max": services.MAX_BATCH}
        )
    return services.events_ingest(source=source, raw_events=payload.events)
