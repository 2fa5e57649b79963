"""JSON API under /api/basedata/: providers' updates (upsert by key, all or nothing)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema

from tongban.apps.basedata import permissions, services
from tongban.platform.api.auth import requires

router = Router(tags=["basedata"])


class LoadIn(Schema):
    department_code: str = Field(
        "", max_length=32, description="reporting department (default: the caller's own)"
    )
    records: list[dict[str, Any]] = Field(
        ..., description="records keyed by item codes; the dataset's key is required"
    )


class LoadOut(Schema):
    dataset: str
    department: str
    created: int
    updated: int
    unchanged: int
    issues: int


@router.post(
    "/datasets/{dataset}/records",
    response=LoadOut,
    auth=requires(permissions.RECORD_UPDATE),
    operation_id="basedata_records_load",
)
def records_load(request: HttpRequest, dataset: str, payload: LoadIn) -> Any:
    """Upsert records of one dataset (person, legal_person, birth, address) for the
    caller's department; needs ``basedata.record.update`` over that department and only
    the fields the department supplies. Any wrong record refuses the whole batch (400,
    one detail per record: ``第N行：…``, N counting records from 1)."""
    result = services.records_load(
        actor=request.auth,  # type: ignore[attr-defined]
        dataset_code=dataset,
        records=list(enumerate(payload.records, 1)),
        department_code=payload.department_code,
        channel="api",
    )
    return result.as_dict()
