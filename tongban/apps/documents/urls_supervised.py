"""督查督办 pages (views_supervised), included in ``urls.py`` under ``documents:``."""

from django.urls import URLPattern, URLResolver, path

from tongban.apps.documents import views_supervised

urlpatterns: list[URLPattern | URLResolver] = [
    path("tasks/", views_supervised.task_list, name="tasks"),
    path("tasks/new/", views_supervised.task_new, name="task_new"),
    path("tasks/<id:task_id>/", views_supervised.task_detail, name="task_detail"),
    path("tasks/<id:task_id>/<slug:action>/", views_supervised.task_act, name="task_act"),
]
