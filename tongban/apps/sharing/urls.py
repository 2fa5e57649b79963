"""Sharing pages under /sharing/: one namespace, each area in its own module."""

from django.urls import URLPattern, URLResolver

from tongban.apps.sharing import urls_catalogue, urls_grants, urls_stats

app_name = "sharing"
urlpatterns: list[URLPattern | URLResolver] = [
    *urls_catalogue.urlpatterns,
    *urls_grants.urlpatterns,
    *urls_stats.urlpatterns,
]
