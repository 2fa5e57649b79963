"""Pages under /exchange/ (views)."""

from django.urls import URLPattern, URLResolver, path

from tongban.apps.exchange import views

app_name = "exchange"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.home, name="home"),
    path("jobs/", views.job_list, name="jobs"),
    path("jobs/new/", views.job_new, name="job_new"),
    path("jobs/<id:job_id>/", views.job_detail, name="job"),
    path("jobs/<id:job_id>/upload/", views.job_upload, name="job_upload"),
    path("jobs/<id:job_id>/toggle/", views.job_toggle, name="job_toggle"),
    path("datasets/<id:dataset_id>/download/", views.dataset_download, name="dataset_download"),
    path("deliveries/<id:delivery_id>/retry/", views.delivery_retry, name="delivery_retry"),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/<id:delivery_id>/download/", views.delivery_download, name="delivery_download"),
    path("inbox/<id:delivery_id>/confirm/", views.delivery_confirm, name="delivery_confirm"),
    path(
        "subscriptions/<id:subscription_id>/webhook/",
        views.subscription_webhook,
        name="subscription_webhook",
    ),
    path("monitor/", views.monitor, name="monitor"),
    path("monitor/<id:job_id>/", views.monitor_job, name="monitor_job"),
]
