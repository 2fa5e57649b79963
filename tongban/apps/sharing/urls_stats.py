"""Sharing pages: statistics, the gateway call log and the citizen's "who used my data"."""

from django.urls import URLPattern, URLResolver, path

from tongban.apps.sharing import views_stats, views_transparency

urlpatterns: list[URLPattern | URLResolver] = [
    path("stats/", views_stats.stats_home, name="stats"),
    path("stats/table/", views_stats.stats_table, name="stats_table"),
    path("stats/export.csv", views_stats.stats_export, name="stats_export"),
    path("log/", views_stats.call_log, name="call_log"),
    path("my-data/", views_transparency.my_data, name="my_data"),
    path("my-data/<id:call_id>/report/", views_transparency.my_data_report, name="my_data_report"),
]
