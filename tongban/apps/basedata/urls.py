"""Pages under /basedata/."""

from django.urls import URLPattern, URLResolver, path

from tongban.apps.basedata import views

app_name = "basedata"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.search, name="search"),
    path("upload/", views.upload, name="upload"),
    path("upload/template/<slug:dataset>.csv", views.upload_template, name="upload_template"),
    path("quality/", views.issue_list, name="issues"),
    path("quality/<id:issue_id>/", views.issue_detail, name="issue"),
    path("<slug:dataset>/<id:record_id>/", views.record, name="record"),
]
