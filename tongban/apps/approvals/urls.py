from django.urls import URLPattern, URLResolver, path

from tongban.apps.approvals import views

app_name = "approvals"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.home, name="home"),
    path("apply/<id:item_id>/", views.apply, name="apply"),
    path("apply/bundle/<slug:code>/", views.apply_bundle, name="apply_bundle"),
    path("mine/", views.mine, name="mine"),
    path("queue/", views.queue, name="queue"),
    path("inbox/", views.inbox, name="inbox"),
    path("all/", views.staff_cases, name="staff_cases"),
    path("<id:case_id>/", views.case_page, name="case"),
    path("<id:case_id>/act/<slug:action>/", views.case_act, name="act"),
    path("<id:case_id>/notices/<id:notice_id>.pdf", views.notice_pdf, name="notice_pdf"),
]
