"""The monitoring screen, its auto-refreshed figures, the case list and one case."""

from django.urls import URLPattern, URLResolver, path

from tongban.apps.supervision import views_monitor

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views_monitor.home, name="home"),
    path("figures/", views_monitor.home_figures, name="home_figures"),
    path("cases/", views_monitor.cases, name="cases"),
    path("cases/<id:case_id>/", views_monitor.case, name="case"),
]
