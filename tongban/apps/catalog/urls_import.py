from django.urls import path

from tongban.apps.catalog import views_import

app_name = "catalog_import"
urlpatterns = [
    path("", views_import.upload, name="upload"),
    path("jobs/<id:job_id>/", views_import.job, name="job"),
    path("jobs/<id:job_id>/progress/", views_import.job_progress, name="progress"),
    path("template.xlsx", views_import.template, name="template"),
    path("export.xlsx", views_import.export_xlsx, name="export_xlsx"),
    path("export.csv", views_import.export_csv, name="export_csv"),
]
