"""Document pages under /documents/: one namespace, each area in its own module."""

from django.urls import URLPattern, URLResolver, path

from tongban.apps.documents import (
    urls_archive,
    urls_drafting,
    urls_exchange,
    urls_receiving,
    urls_supervised,
    views_home,
)

app_name = "documents"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views_home.home, name="home"),
    *urls_drafting.urlpatterns,
    *urls_archive.urlpatterns,
    *urls_exchange.urlpatterns,
    *urls_receiving.urlpatterns,
    *urls_supervised.urlpatterns,
]
