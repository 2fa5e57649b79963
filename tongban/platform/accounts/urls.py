from django.urls import path  # noqa: F401

app_name = "accounts"
urlpatterns: list = []  # filled in by the identity work
