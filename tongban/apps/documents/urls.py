"""Document pages under /documents/: one namespace, each area in its own module."""

from django.urls import URLPattern, URLResolver, path

from tongban.apps.documents import views_home

app_name = "documents"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views_home.home, name="home"),
]
