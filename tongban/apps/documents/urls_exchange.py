"""Exchange pages (views_exchange): sending, per-unit status, the inbox and saved groups.
Included in ``urls.py`` (namespace ``documents``)."""

from django.urls import URLPattern, URLResolver, path

from tongban.apps.documents import views_exchange as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("send/<id:document_id>/", views.document_send, name="document_send"),
    path("dispatches/<id:dispatch_id>/", views.dispatch_detail, name="dispatch_detail"),
    path("dispatches/<id:dispatch_id>/csv/", views.dispatch_csv, name="dispatch_csv"),
    path("dispatches/<id:dispatch_id>/remind/", views.dispatch_remind, name="dispatch_remind"),
    path("deliveries/<id:delivery_id>/recall/", views.delivery_recall, name="delivery_recall"),
    path(
        "deliveries/<id:delivery_id>/return-notice/",
        views.delivery_return_notice,
        name="delivery_return_notice",
    ),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/<id:delivery_id>/", views.delivery_detail, name="delivery_detail"),
    path("inbox/<id:delivery_id>/sign/", views.delivery_sign, name="delivery_sign"),
    path("inbox/<id:delivery_id>/return/", views.delivery_return, name="delivery_return"),
    path("groups/", views.groups, name="groups"),
    path("groups/<id:group_id>/", views.group_detail, name="group_detail"),
    path("groups/<id:group_id>/delete/", views.group_delete, name="group_delete"),
]
