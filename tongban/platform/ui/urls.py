from django.urls import path

from tongban.platform.ui import views

app_name = "ui"
urlpatterns = [
    path("", views.home, name="home"),
    path("workbench/", views.workbench, name="workbench"),
    path("workbench/tab/<str:tab>/", views.workbench_tab, name="workbench_tab"),
    path("me/", views.personal, name="personal"),
    path("healthz", views.healthz, name="healthz"),
    path("metrics", views.metrics, name="metrics"),
]
