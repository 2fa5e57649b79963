"""Evaluation (绩效评估): the report, one department's score, the exports."""

from django.urls import URLPattern, URLResolver, path

from tongban.apps.supervision import views_reports

urlpatterns: list[URLPattern | URLResolver] = [
    path("evaluation/", views_reports.evaluation_page, name="evaluation"),
    path("evaluation/ranking/", views_reports.evaluation_page, name="ranking"),
    path("evaluation/export/", views_reports.evaluation_export, name="evaluation_export"),
    path(
        "evaluation/departments/<id:department_id>/",
        views_reports.evaluation_department,
        name="evaluation_department",
    ),
]
