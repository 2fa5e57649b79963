"""Sharing pages: consumer systems, sharing requests and grants (views_grants)."""

from django.urls import URLPattern, URLResolver, path

from tongban.apps.sharing import views_grants

urlpatterns: list[URLPattern | URLResolver] = [
    path("systems/", views_grants.system_list, name="systems"),
    path("systems/<id:system_id>/", views_grants.system_detail, name="system"),
    path("systems/<id:system_id>/<slug:action>/", views_grants.system_act, name="system_act"),
    path("requests/", views_grants.request_list, name="requests"),
    path("requests/new/", views_grants.request_new, name="request_new"),
    path("requests/<id:request_id>/", views_grants.request_detail, name="request"),
    path(
        "requests/<id:request_id>/<slug:action>/",
        views_grants.request_act,
        name="request_act",
    ),
    path("grants/", views_grants.grant_list, name="grants"),
    path("grants/<id:grant_id>/", views_grants.grant_detail, name="grant"),
    path("grants/<id:grant_id>/revoke/", views_grants.grant_revoke, name="grant_revoke"),
]
