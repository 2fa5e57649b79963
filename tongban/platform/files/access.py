"""The one way to load a stored file for a user."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _

from tongban.platform.files.models import StoredFile
from tongban.platform.files.services import file_can_read, file_read_record


def access_file_by_id(actor: Any, file_id: uuid.UUID) -> StoredFile:
    """The file if ``actor`` may read it; refusals are audited and raise."""
    stored = StoredFile.objects.filter(pk=file_id).first()
    if stored is None:
        raise Http404(_("文件不存在"))
    allowed = file_can_read(actor, stored)
    file_read_record(actor=actor, stored=stored, allowed=allowed)
    if not allowed:
        raise PermissionDenied(_("您没有查看此文件的权限"))
    return stored
