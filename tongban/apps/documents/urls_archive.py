"""Seals, verify, the sealed PDF and archive pages under /documents/ (included in
``urls.py``)."""

from django.urls import URLPattern, URLResolver, path

from tongban.apps.documents import views_archive, views_seals, views_verify

urlpatterns: list[URLPattern | URLResolver] = [
    path("seals/", views_seals.seal_list, name="seals"),
    path("seals/<id:seal_id>/image/", views_seals.seal_image, name="seal_image"),
    path("seals/<id:seal_id>/rotate/", views_seals.seal_rotate, name="seal_rotate"),
    path("seals/<id:seal_id>/retire/", views_seals.seal_retire, name="seal_retire"),
    path("verify/", views_verify.verify, name="verify"),
    path("verify/<uuid:public_id>/", views_verify.verify_document, name="verify_document"),
    path("pdf/<id:document_id>/", views_verify.document_pdf, name="document_pdf"),
    path("archive/", views_archive.archive_home, name="archive"),
    path("archive/<id:record_id>/", views_archive.archive_detail, name="archive_detail"),
    path(
        "archive/documents/<id:document_id>/",
        views_archive.document_archive,
        name="document_archive",
    ),
    path(
        "archive/receipts/<id:receipt_id>/",
        views_archive.receipt_archive,
        name="receipt_archive",
    ),
]
