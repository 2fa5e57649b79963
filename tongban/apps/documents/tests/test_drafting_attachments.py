"""附件 of a draft: uploaded by whoever may edit it, listed on the detail page, downloaded
by its readers (the read audited), refused to everyone else and once it is signed off."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tongban.apps.documents import drafting
from tongban.apps.documents.convert import document_to_layout
from tongban.apps.documents.models import DocumentAttachment
from tongban.apps.documents.tests.fixtures_drafting import (  # noqa: F401
    City,
    advance_to_sign,
    city_fixture,
)
from tongban.platform.audit.models import AuditEntry
from tongban.platform.files.models import StoredFile

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _pdf(name: str = "实施方案.pdf", content: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def _url(document_id: int, rest: str = "") -> str:
    return f"/documents/drafts/{document_id}/attachments/{rest}"


def test_drafter_uploads_reader_downloads_others_refused(city: City) -> None:
    document = city.draft()
    drafter = _client(city.drafter)
    response = drafter.post(_url(document.pk), {"title": "实施方案", "file": _pdf()})
    assert response.status_code == 302
    assert response["Location"] == f"/documents/drafts/{document.pk}/"
    attachment = DocumentAttachment.objects.get(document=document)
    assert (attachment.position, attachment.title) == (1, "实施方案")
    assert attachment.file is not None
    assert attachment.file.content_type == "application/pdf"
    assert AuditEntry.objects.filter(action="documents.attachment.add").count() == 1
    # 附件说明 of the layout falls back to the attachments' titles
    assert document_to_layout(document).attachment_notes == ("实施方案",)

    page = drafter.get(f"/documents/drafts/{document.pk}/").content.decode()
    assert "实施方案" in page
    assert _url(document.pk, f"{attachment.pk}/") in page
    assert 'enctype="multipart/form-data"' in page
    assert _url(document.pk, f"{attachment.pk}/delete/") in page

    # the leader reads the document: the list and the download, but no form
    leader = _client(city.leader)
    leader_page = leader.get(f"/documents/drafts/{document.pk}/").content.decode()
    assert "实施方案" in leader_page
    assert 'enctype="multipart/form-data"' not in leader_page
    assert _url(document.pk, f"{attachment.pk}/delete/") not in leader_page
    download = leader.get(_url(document.pk, f"{attachment.pk}/"))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF  # type: ignore[attr-defined]
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Type"] == "application/pdf"
    read = AuditEntry.objects.filter(action="files.file.read", actor_id=city.leader.pk)
    assert read.count() == 1

    # not a reader of the document: 404 everywhere, nothing saved
    outsider = _client(city.outsider)
    assert outsider.get(_url(document.pk, f"{attachment.pk}/")).status_code == 404
    refused = outsider.post(_url(document.pk), {"title": "外单位", "file": _pdf()})
    assert refused.status_code == 404
    assert outsider.post(_url(document.pk, f"{attachment.pk}/delete/")).status_code == 404
    # an attachment of another document is not found through this one
    other = city.draft(title="另一份通知")
    assert drafter.get(_url(other.pk, f"{attachment.pk}/")).status_code == 404
    # downloads are GET only
    assert leader.post(_url(document.pk, f"{attachment.pk}/")).status_code == 405
    assert DocumentAttachment.objects.count() == 1


def test_a_reader_who_may_not_edit_gets_403_and_nothing_is_saved(city: City) -> None:
    document = city.draft()
    files_before = StoredFile.objects.count()
    response = _client(city.leader).post(_url(document.pk), {"title": "方案", "file": _pdf()})
    assert response.status_code == 403
    assert not DocumentAttachment.objects.exists()
    assert StoredFile.objects.count() == files_before
    attachment = drafting.attachment_add(
        actor=city.drafter, document=document, title="方案", upload=_pdf()
    )
    removed = _client(city.leader).post(_url(document.pk, f"{attachment.pk}/delete/"))
    assert removed.status_code == 403
    assert DocumentAttachment.objects.filter(pk=attachment.pk).exists()


def test_content_must_match_the_name_and_be_a_document_type(city: City) -> None:
    document = city.draft()
    client = _client(city.drafter)
    files_before = StoredFile.objects.count()
    # PDF bytes under a Word name
    response = client.post(
        _url(document.pk),
        {"title": "方案", "file": _pdf("方案.docx")},
        follow=True,
    )
    page = response.content.decode()
    assert "文件名表明是 Word (DOCX) 格式，但内容是 PDF 格式" in page
    # a picture is not a document attachment
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    with pytest.raises(ValidationError):
        drafting.attachment_add(
            actor=city.drafter,
            document=document,
            title="照片",
            upload=SimpleUploadedFile("照片.png", png),
        )
    assert not DocumentAttachment.objects.exists()
    assert StoredFile.objects.count() == files_before


def test_title_and_file_are_required(city: City) -> None:
    document = city.draft()
    client = _client(city.drafter)
    page = client.post(_url(document.pk), {"title": " ", "file": _pdf()}, follow=True)
    assert "请填写附件名称" in page.content.decode()
    page = client.post(_url(document.pk), {"title": "方案"}, follow=True)
    assert "请选择要上传的附件文件" in page.content.decode()
    with pytest.raises(ValidationError) as error:
        drafting.attachment_add(
            actor=city.drafter, document=document, title="长" * 201, upload=_pdf()
        )
    assert "附件名称不能超过200个字符" in str(error.value)
    assert not DocumentAttachment.objects.exists()


def test_positions_limit_and_removal(city: City, settings: Any) -> None:
    document = city.draft()
    first = drafting.attachment_add(
        actor=city.drafter, document=document, title="一", upload=_pdf("a.pdf")
    )
    second = drafting.attachment_add(
        actor=city.drafter, document=document, title="二", upload=_pdf("b.pdf")
    )
    assert (first.position, second.position) == (1, 2)
    response = _client(city.drafter).post(_url(document.pk, f"{first.pk}/delete/"))
    assert response.status_code == 302
    assert list(document.attachments.values_list("title", flat=True)) == ["二"]
    assert StoredFile.objects.filter(pk=first.file_id).exists()  # the file is kept
    assert AuditEntry.objects.filter(action="documents.attachment.remove").count() == 1
    third = drafting.attachment_add(
        actor=city.drafter, document=document, title="三", upload=_pdf("c.pdf")
    )
    assert third.position == 3  # after the last one
    for index in range(drafting.MAX_ATTACHMENTS - 2):
        DocumentAttachment.objects.create(
            document=document, position=10 + index, title=f"附件{index}", file=third.file
        )
    with pytest.raises(ValidationError) as error:
        drafting.attachment_add(
            actor=city.drafter, document=document, title="多余", upload=_pdf("d.pdf")
        )
    assert "最多20个附件" in str(error.value)
    assert document.attachments.count() == drafting.MAX_ATTACHMENTS


def test_no_upload_once_signed_off(city: City) -> None:
    document = city.draft()
    attachment = drafting.attachment_add(
        actor=city.drafter, document=document, title="方案", upload=_pdf()
    )
    advance_to_sign(city, document)
    drafting.document_sign_off(actor=city.leader, document=document)
    client = _client(city.drafter)
    response = client.post(_url(document.pk), {"title": "补充材料", "file": _pdf()}, follow=True)
    assert "当前环节不能修改公文内容" in response.content.decode()
    assert 'enctype="multipart/form-data"' not in response.content.decode()
    removed = client.post(_url(document.pk, f"{attachment.pk}/delete/"), follow=True)
    assert "当前环节不能修改公文内容" in removed.content.decode()
    assert list(document.attachments.values_list("title", flat=True)) == ["方案"]
    with pytest.raises((PermissionDenied, ValidationError)):
        drafting.attachment_add(
            actor=city.leader, document=document, title="补充", upload=_pdf("x.pdf")
        )
    # still downloadable by its readers
    download = _client(city.leader).get(_url(document.pk, f"{attachment.pk}/"))
    assert download.status_code == 200
