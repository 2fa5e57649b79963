"""Storing and reading files. Every write goes through ``file_store``.

The bytes are streamed to Django's default storage (local disk or S3-compatible object
storage, see docs/decisions/0005-file-storage.md) while their SM3 is computed. Nothing is
left behind when a file is refused, when the row cannot be written, or when the caller's
transaction later rolls back (see ``_RollbackCleanup``).
"""

from __future__ import annotations

import logging
import uuid
import weakref
from collections.abc import Callable, Iterable
from typing import IO, TYPE_CHECKING, Any, NoReturn

from django.conf import settings
from django.core.files import File
from django.core.files.storage import Storage, default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.platform.audit.models import Outcome
from tongban.platform.audit.services import audit_record
from tongban.platform.crypto.sm import Sm3Stream
from tongban.platform.files import detection
from tongban.platform.files.models import StoredFile

if TYPE_CHECKING:
    from tongban.platform.accounts.models import User

logger = logging.getLogger(__name__)

DEFAULT_MAX_UPLOAD_BYTES = 20 * 1024 * 1024
DEFAULT_ALLOWED_TYPES = frozenset(
    {
        detection.PDF,
        detection.JPEG,
        detection.PNG,
        detection.OFD,
        detection.DOCX,
        detection.XLSX,
        detection.TEXT,
    }
)
TYPE_LABELS = {
    detection.PDF: "PDF",
    detection.JPEG: "JPEG",
    detection.PNG: "PNG",
    detection.OFD: "OFD",
    detection.DOCX: "Word (DOCX)",
    detection.XLSX: "Excel (XLSX)",
    detection.ZIP: "ZIP",
    detection.TEXT: _("纯文本"),
}


class FileRejected(Exception):
    """A file refused before anything was kept. ``code`` is stable; ``message`` is for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class _TooLarge(Exception):
    pass


class _HashingReader:
    """A read-only file object that computes SM3 and counts bytes as the storage reads it.

    Rewinding to the start (``File.chunks`` does so) starts the digest again, so the digest
    always covers exactly the bytes the storage consumed in its last pass.
    """

    def __init__(self, source: IO[bytes], limit: int) -> None:
        self._source = source
        self._limit = limit
        self._digest = Sm3Stream()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self._source.read(size)
        self.size += len(chunk)
        if self.size > self._limit:
            raise _TooLarge
        self._digest.update(chunk)
        return chunk

    def seek(self, offset: int, whence: int = 0) -> int:
        if (offset, whence) != (0, 0):
            raise OSError("only rewinding to the start is supported")
        self._digest = Sm3Stream()
        self.size = 0
        return int(self._source.seek(0))

    def tell(self) -> int:
        return self.size

    def hexdigest(self) -> str:
        return self._digest.hexdigest()


class _RollbackCleanup:
    """Deletes a stored file if the transaction that created its row never commits.

    Registered with ``transaction.on_commit``: Django keeps the callback only while the
    transaction (or savepoint) is alive and drops it on rollback. A finalizer notices the
    drop and deletes the file. A crash between the write and the commit can still leave an
    orphan; ``file_orphans_remove`` sweeps those.
    """

    def __init__(self, storage: Storage, name: str) -> None:
        self.committed = False
        weakref.finalize(self, _delete_unless_committed, storage, name, self.__dict__)

    def __call__(self) -> None:
        self.committed = True


def _delete_unless_committed(storage: Storage, name: str, state: dict[str, Any]) -> None:
    if state.get("committed"):
        return
    _delete_quietly(storage, name)


def _delete_quietly(storage: Storage, name: str) -> None:
    try:
        storage.delete(name)
    except Exception:  # cleanup must never mask the original error
        logger.exception("could not delete stored file %s", name)


def _type_label(content_type: str) -> str:
    return str(TYPE_LABELS.get(content_type, content_type or _("未知类型")))


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}".rstrip("0").rstrip(".")


def _reject(*, actor: User, code: str, message: str, name: str, detail: dict[str, Any]) -> NoReturn:
    with transaction.atomic():
        audit_record(
            action="files.file.store",
            actor=actor,
            object_type="files.storedfile",
            object_label=name[:300],
            outcome=Outcome.FAILURE,
            detail={"code": code, **detail},
        )
    raise FileRejected(code, message)


def file_store(
    *,
    actor: User,
    upload: File[Any],
    allowed_types: Iterable[str] | None = None,
    max_bytes: int | None = None,
) -> StoredFile:
    """Check, stream to storage with SM3, record and audit one uploaded file.

    Raises ``FileRejected`` (codes ``empty``, ``too_large``, ``unknown_type``,
    ``type_not_allowed``, ``extension_mismatch``) with nothing kept.
    """
    limit = (
        max_bytes
        if max_bytes is not None
        else int(getattr(settings, "TONGBAN_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES))
    )
    allowed = frozenset(allowed_types) if allowed_types is not None else DEFAULT_ALLOWED_TYPES
    original_name = (upload.name or "").replace("\\", "/").rsplit("/", 1)[-1][:255] or "file"
    too_large = _("文件超过大小上限 %(limit)s MB") % {"limit": _megabytes(limit)}
    declared_size = upload.size or 0
    if declared_size > limit:
        _reject(
            actor=actor,
            code="too_large",
            message=too_large,
            name=original_name,
            detail={"size": declared_size, "limit": limit},
        )
    if declared_size == 0:
        _reject(actor=actor, code="empty", message=_("文件为空"), name=original_name, detail={})
    content_type = detection.detect_content_type(upload)
    if not content_type:
        _reject(
            actor=actor,
            code="unknown_type",
            message=_("无法识别文件类型，请上传 %(types)s 格式的文件")
            % {"types": "、".join(sorted(_type_label(t) for t in allowed))},
            name=original_name,
            detail={},
        )
    if content_type not in allowed:
        _reject(
            actor=actor,
            code="type_not_allowed",
            message=_("文件内容是 %(found)s 格式，此处只接受 %(types)s")
            % {
                "found": _type_label(content_type),
                "types": "、".join(sorted(_type_label(t) for t in allowed)),
            },
            name=original_name,
            detail={"content_type": content_type},
        )
    claimed = detection.claimed_type(original_name)
    if claimed and claimed != content_type:
        # report.pdf that holds a shell script: the name and the content must agree, or the
        # file would later be handed out under a name that lies about it
        _reject(
            actor=actor,
            code="extension_mismatch",
            message=_("文件名表明是 %(claimed)s 格式，但内容是 %(found)s 格式")
            % {"claimed": _type_label(claimed), "found": _type_label(content_type)},
            name=original_name,
            detail={"content_type": content_type, "claimed": claimed},
        )

    file_id = uuid.uuid4()
    extension = detection.EXTENSIONS.get(content_type, "")
    wanted_name = f"files/{timezone.now():%Y/%m}/{file_id.hex}{extension}"
    reader = _HashingReader(upload, limit)
    storage = default_storage
    try:
        saved_name = storage.save(wanted_name, File(reader, name=wanted_name))  # type: ignore[arg-type]
    except _TooLarge:
        _delete_quietly(storage, wanted_name)
        _reject(
            actor=actor,
            code="too_large",
            message=too_large,
            name=original_name,
            detail={"limit": limit},
        )
    try:
        with transaction.atomic():
            stored = StoredFile.objects.create(
                id=file_id,
                original_name=original_name,
                size=reader.size,
                content_type=content_type,
                sm3=reader.hexdigest(),
                storage_name=saved_name,
                uploaded_by=actor,
            )
            audit_record(
                action="files.file.store",
                actor=actor,
                target=stored,
                detail={"size": stored.size, "content_type": content_type, "sm3": stored.sm3},
            )
            transaction.on_commit(_RollbackCleanup(storage, saved_name))
    except BaseException:
        _delete_quietly(storage, saved_name)
        raise
    return stored


# Other applications extend who may read a file (e.g. the handlers of the case it is
# attached to) by registering a check; the uploader may always read their own file.
ReadCheck = Callable[[Any, StoredFile], bool]
_read_checks: list[ReadCheck] = []


def file_read_check_register(check: ReadCheck) -> ReadCheck:
    """Register ``check(actor, stored) -> bool``; usable as a decorator."""
    if check not in _read_checks:
        _read_checks.append(check)
    return check


def file_can_read(actor: Any, stored: StoredFile) -> bool:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return False
    if stored.uploaded_by_id == actor.pk:
        return True
    return any(check(actor, stored) for check in _read_checks)


def file_read_record(*, actor: User, stored: StoredFile, allowed: bool) -> None:
    """Audit a download (or a refused one) in its own transaction."""
    with transaction.atomic():
        audit_record(
            action="files.file.read",
            actor=actor,
            target=stored,
            outcome=Outcome.SUCCESS if allowed else Outcome.DENIED,
        )


def file_orphans_remove(*, older_than_seconds: int = 3600) -> list[str]:
    """Delete stored bytes under ``files/`` that no row refers to (left by a crash)."""
    storage = default_storage
    known = set(StoredFile.objects.values_list("storage_name", flat=True))
    cutoff = timezone.now().timestamp() - older_than_seconds
    removed: list[str] = []
    pending = ["files"]
    while pending:
        folder = pending.pop()
        try:
            folders, names = storage.listdir(folder)
        except (FileNotFoundError, NotImplementedError):
            continue
        pending.extend(f"{folder}/{sub}" for sub in folders)
        for name in names:
            path = f"{folder}/{name}"
            if path in known:
                continue
            try:
                modified = storage.get_modified_time(path).timestamp()
            except NotImplementedError:
                modified = 0.0
            if modified < cutoff:
                _delete_quietly(storage, path)
                removed.append(path)
    return removed
