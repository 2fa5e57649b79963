"""Supervision pages under /supervision/: one namespace, each area in its own module."""

from django.urls import URLPattern, URLResolver

from tongban.apps.supervision import urls_alerts, urls_monitor, urls_reports

app_name = "supervision"
urlpatterns: list[URLPattern | URLResolver] = [
    *urls_monitor.urlpatterns,
    *urls_alerts.urlpatterns,
    *urls_reports.urlpatterns,
]
