from django.urls import URLPattern, path

from tongban.platform.files import views

app_name = "files"
urlpatterns: list[URLPattern] = [path("<uuid:file_id>/", views.download, name="download")]
