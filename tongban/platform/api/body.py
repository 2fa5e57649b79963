"""Reading a JSON body only after the object has been checked.

Django Ninja validates a declared ``payload`` before the operation runs. An operation whose
caller is known only once the object is loaded (the assignee of a task, the recipient of a
delivery) declares no payload, loads and checks the object, and only then reads the body
with ``read_body``: a caller who may not act gets 403/404, never a 422 describing what the
operation expects. ``body_schema`` keeps the request body in the OpenAPI schema::

    @router.post("/tasks/{task_id}/done", openapi_extra=body_schema(CommentIn))
    def task_done(request, task_id: int):
        task = access_task(request.auth, task_id)   # 404 for anyone else
        body = read_body(request, CommentIn)        # 422 only for the assignee
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from django.http import HttpRequest
from ninja import Schema
from ninja.errors import ValidationError as NinjaValidationError
from pydantic import ValidationError as PydanticValidationError

SchemaT = TypeVar("SchemaT", bound=Schema)


def read_body(request: HttpRequest, schema: type[SchemaT]) -> SchemaT:
    """The JSON body as ``schema`` (an empty body is ``{}``); errors as Ninja's 422."""
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        raise NinjaValidationError([{"loc": ("body",), "msg": "invalid JSON"}]) from None
    try:
        return schema.model_validate(data)
    except PydanticValidationError as error:
        raise NinjaValidationError(
            [{"loc": ("body", *item["loc"]), "msg": item["msg"]} for item in error.errors()]
        ) from None


def body_schema(schema: type[Schema]) -> dict[str, Any]:
    """``openapi_extra`` declaring ``schema`` as the required JSON request body."""
    return {
        "requestBody": {
            "content": {"application/json": {"schema": schema.model_json_schema()}},
            "required": True,
        }
    }
