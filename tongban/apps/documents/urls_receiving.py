"""收文办理 pages (views_receiving), included in ``urls.py`` under ``documents:``."""

from django.urls import URLPattern, URLResolver, path

from tongban.apps.documents import views_receiving

urlpatterns: list[URLPattern | URLResolver] = [
    path("receipts/", views_receiving.receipt_list, name="receipts"),
    path("receipts/paper/", views_receiving.receipt_new, name="receipt_new"),
    path(
        "receipts/register/<id:delivery_id>/",
        views_receiving.receipt_register,
        name="receipt_register",
    ),
    path("receipts/<id:receipt_id>/", views_receiving.receipt_detail, name="receipt_detail"),
    path(
        "receipts/<id:receipt_id>/<slug:action>/",
        views_receiving.receipt_act,
        name="receipt_act",
    ),
]
