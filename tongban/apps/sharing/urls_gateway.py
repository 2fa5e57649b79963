"""The shared-data gateway department systems call (a Ninja API of its own, /gateway/)."""

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []
