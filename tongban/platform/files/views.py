from __future__ import annotations

import uuid

from django.core.files.storage import default_storage
from django.http import FileResponse, HttpRequest

from tongban.platform.access.decorators import signed_in
from tongban.platform.files.access import access_file_by_id


@signed_in
def download(request: HttpRequest, file_id: uuid.UUID) -> FileResponse:
    stored = access_file_by_id(request.user, file_id)
    response = FileResponse(
        default_storage.open(stored.storage_name, "rb"),
        as_attachment=True,
        filename=stored.original_name,
        content_type=stored.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Length"] = str(stored.size)
    response["Cache-Control"] = "private, no-store"
    return response
