"""Pages under /basedata/."""

from django.urls import URLPattern, URLResolver

app_name = "basedata"
urlpatterns: list[URLPattern | URLResolver] = []
