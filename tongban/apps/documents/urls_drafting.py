"""Drafting and sign-off pages (发文办理), included in ``urls.py``."""

from django.urls import URLPattern, URLResolver, path

from tongban.apps.documents import views_drafting as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("drafts/", views.draft_list, name="drafts"),
    path("drafts/new/", views.document_new, name="document_new"),
    path("drafts/<id:document_id>/", views.document_detail, name="document_detail"),
    path("drafts/<id:document_id>/edit/", views.document_edit, name="document_edit"),
    path("drafts/<id:document_id>/diff/", views.document_diff, name="document_diff"),
    path("drafts/<id:document_id>/submit/", views.document_submit, name="document_submit"),
    path("drafts/<id:document_id>/decide/", views.document_decide, name="document_decide"),
    path("drafts/<id:document_id>/number/", views.document_number, name="document_number"),
    path("drafts/<id:document_id>/seal/", views.document_seal, name="document_seal"),
    path("drafts/<id:document_id>/cancel/", views.document_cancel, name="document_cancel"),
    path("drafts/<id:document_id>/preview.pdf", views.document_preview, name="document_preview"),
    path("drafts/<id:document_id>/attachments/", views.attachment_add, name="attachment_add"),
    path(
        "drafts/<id:document_id>/attachments/<id:attachment_id>/",
        views.attachment_download,
        name="attachment_download",
    ),
    path(
        "drafts/<id:document_id>/attachments/<id:attachment_id>/delete/",
        views.attachment_remove,
        name="attachment_remove",
    ),
]
