from django.urls import URLPattern, URLResolver, path

from tongban.platform.workflow import views

app_name = "workflow"
urlpatterns: list[URLPattern | URLResolver] = [
    path(
        "definitions/<id:definition_id>/xml",
        views.definition_xml,
        name="definition_xml",
    ),
]
