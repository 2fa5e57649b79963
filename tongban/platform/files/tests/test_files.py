from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import InMemoryUploadedFile, SimpleUploadedFile
from django.db import transaction
from django.urls import reverse
from tongsuopy.crypto import hashes as tongsuo_hashes

from tests import factories
from tongban.platform.audit.models import AuditEntry
from tongban.platform.files import detection, services
from tongban.platform.files.models import StoredFile
from tongban.platform.files.services import FileRejected, file_store

pytestmark = pytest.mark.django_db


def png_bytes() -> bytes:
    """A real 1×1 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def zip_bytes(names: list[str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "<x/>")
    return buffer.getvalue()


def files_on_disk() -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


def independent_sm3(data: bytes) -> str:
    digest = tongsuo_hashes.Hash(tongsuo_hashes.SM3())  # Tongsuo, not cryptography/OpenSSL
    digest.update(data)
    return digest.finalize().hex()


def test_independent_sm3_matches_the_standard_vector():
    # GB/T 32905-2016 appendix A, example 1
    assert independent_sm3(b"abc") == (
        "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    )


def test_a_png_named_pdf_is_detected_as_png_and_refused_where_only_pdf_is_allowed():
    user = factories.citizen()
    upload = SimpleUploadedFile("营业执照.pdf", png_bytes(), content_type="application/pdf")
    with pytest.raises(FileRejected) as error:
        file_store(actor=user, upload=upload, allowed_types=[detection.PDF])
    assert error.value.code == "type_not_allowed"
    assert error.value.message == "文件内容是 PNG 格式，此处只接受 PDF"
    assert StoredFile.objects.count() == 0
    assert files_on_disk() == []
    refused = AuditEntry.objects.get(action="files.file.store")
    assert refused.outcome == "failure"


def test_the_same_png_is_refused_where_images_are_allowed_because_its_name_lies():
    # issue 8: a file whose content does not match its extension is refused, even where
    # its real type would be allowed (it would otherwise be handed out as "营业执照.pdf")
    user = factories.citizen()
    upload = SimpleUploadedFile("营业执照.pdf", png_bytes(), content_type="application/pdf")
    with pytest.raises(FileRejected) as error:
        file_store(actor=user, upload=upload)
    assert error.value.code == "extension_mismatch"
    assert error.value.message == "文件名表明是 PDF 格式，但内容是 PNG 格式"
    assert StoredFile.objects.count() == 0
    assert files_on_disk() == []


def test_a_png_with_its_own_or_no_known_extension_is_stored_as_png():
    user = factories.citizen()
    for name in ("营业执照.PNG", "营业执照", "营业执照.scan"):
        stored = file_store(actor=user, upload=SimpleUploadedFile(name, png_bytes()))
        assert stored.content_type == "image/png"
        assert stored.storage_name.endswith(".png")
        assert stored.original_name == name


def test_an_oversized_file_is_refused_and_nothing_remains(settings):
    settings.TONGBAN_MAX_UPLOAD_BYTES = 1024 * 1024
    user = factories.citizen()
    upload = SimpleUploadedFile("big.txt", b"a" * (1024 * 1024 + 1))
    with pytest.raises(FileRejected) as error:
        file_store(actor=user, upload=upload)
    assert error.value.code == "too_large"
    assert error.value.message == "文件超过大小上限 1 MB"
    assert StoredFile.objects.count() == 0
    assert files_on_disk() == []


def test_a_file_larger_than_it_claims_is_stopped_while_streaming_and_removed():
    user = factories.citizen()
    content = b"%PDF-1.7\n" + b"0" * 5000
    # The declared size says 100 bytes; the stream holds 5,009.
    upload = InMemoryUploadedFile(
        io.BytesIO(content), "file", "a.pdf", "application/pdf", 100, None
    )
    with pytest.raises(FileRejected) as error:
        file_store(actor=user, upload=upload, max_bytes=1000)
    assert error.value.code == "too_large"
    assert StoredFile.objects.count() == 0
    assert files_on_disk() == []


def test_sm3_recorded_equals_an_independent_sm3_and_the_bytes_are_kept():
    user = factories.citizen()
    content = b"%PDF-1.7\n" + bytes(range(256)) * 40_000  # ~10 MB, several chunks
    stored = file_store(actor=user, upload=SimpleUploadedFile("申请书.pdf", content))
    assert stored.sm3 == independent_sm3(content)
    assert stored.size == len(content)
    assert stored.content_type == "application/pdf"
    [path] = files_on_disk()
    assert path.read_bytes() == content
    entry = AuditEntry.objects.get(action="files.file.store")
    assert entry.object_id == str(stored.pk)
    assert entry.outcome == "success"


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (["OFD.xml", "Doc_0/Document.xml"], detection.OFD),
        (["[Content_Types].xml", "word/document.xml"], detection.DOCX),
        (["[Content_Types].xml", "xl/workbook.xml"], detection.XLSX),
        (["readme.txt"], detection.ZIP),
    ],
)
def test_zip_containers_are_told_apart_by_their_contents(names, expected):
    content = zip_bytes(names)
    assert detection.detect_content_type(io.BytesIO(content)) == expected


def test_a_plain_zip_named_docx_is_refused():
    user = factories.citizen()
    upload = SimpleUploadedFile("合同.docx", zip_bytes(["readme.txt"]))
    with pytest.raises(FileRejected) as error:
        file_store(actor=user, upload=upload)
    assert error.value.code == "type_not_allowed"
    assert files_on_disk() == []


def test_text_and_unknown_bytes():
    assert detection.detect_content_type(io.BytesIO("说明：第一行\n".encode())) == "text/plain"
    assert detection.detect_content_type(io.BytesIO("说明".encode("gb18030"))) == "text/plain"
    user = factories.citizen()
    with pytest.raises(FileRejected) as error:
        file_store(actor=user, upload=SimpleUploadedFile("x.pdf", b"\x00\x01\x02\x03garbage"))
    assert error.value.code == "unknown_type"
    with pytest.raises(FileRejected) as error:
        file_store(actor=user, upload=SimpleUploadedFile("x.pdf", b""))
    assert error.value.code == "empty"


def test_rollback_of_the_outer_transaction_removes_the_stored_file():
    user = factories.citizen()
    seen: dict[str, object] = {}

    class CaseFailed(Exception):
        pass

    def accept_case_with_attachment() -> None:
        with transaction.atomic():
            seen["stored"] = file_store(actor=user, upload=SimpleUploadedFile("a.png", png_bytes()))
            seen["on_disk"] = len(files_on_disk())
            raise CaseFailed

    with pytest.raises(CaseFailed):
        accept_case_with_attachment()
    assert seen["on_disk"] == 1
    assert files_on_disk() == []
    assert not StoredFile.objects.filter(pk=seen["stored"].pk).exists()  # type: ignore[attr-defined]


def test_a_file_from_a_committed_block_stays(django_capture_on_commit_callbacks):
    user = factories.citizen()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        stored = file_store(actor=user, upload=SimpleUploadedFile("a.png", png_bytes()))
    assert len(callbacks) == 1
    del callbacks  # drop the captured callback: the file must survive its collection
    assert [path.name for path in files_on_disk()] == [Path(stored.storage_name).name]


def test_the_uploader_downloads_with_a_utf8_file_name(client):
    user = factories.citizen()
    stored = file_store(actor=user, upload=SimpleUploadedFile("营业执照 副本.png", png_bytes()))
    client.force_login(user)
    response = client.get(reverse("files:download", args=[stored.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == png_bytes()
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == (
        "attachment; filename*=utf-8''%E8%90%A5%E4%B8%9A%E6%89%A7%E7%85%A7%20%E5%89%AF%E6%9C%AC.png"
    )
    read = AuditEntry.objects.get(action="files.file.read")
    assert read.outcome == "success"
    assert read.actor_id == user.pk


def test_another_user_is_refused_and_the_refusal_is_audited(client):
    owner = factories.citizen("owner", "张三")
    other = factories.citizen("other", "李四")
    stored = file_store(actor=owner, upload=SimpleUploadedFile("a.png", png_bytes()))
    client.force_login(other)
    response = client.get(reverse("files:download", args=[stored.pk]))
    assert response.status_code == 403
    refused = AuditEntry.objects.get(action="files.file.read")
    assert refused.outcome == "denied"
    assert refused.actor_id == other.pk
    client.logout()
    anonymous = client.get(reverse("files:download", args=[stored.pk]))
    assert anonymous.status_code == 302
    assert AuditEntry.objects.filter(action="files.file.read").count() == 1


def test_a_registered_read_check_extends_access(client):
    owner = factories.citizen("owner", "张三")
    reviewer = factories.citizen("reviewer", "王五")
    stored = file_store(actor=owner, upload=SimpleUploadedFile("a.png", png_bytes()))

    def reviewer_may_read(actor, candidate):
        return actor.pk == reviewer.pk and candidate.pk == stored.pk

    services.file_read_check_register(reviewer_may_read)
    try:
        client.force_login(reviewer)
        response = client.get(reverse("files:download", args=[stored.pk]))
        assert response.status_code == 200
    finally:
        services._read_checks.remove(reviewer_may_read)
