"""Warning and correction pages (预警纠错), rules and intake systems (views_alerts)."""

from django.urls import URLPattern, URLResolver, path

from tongban.apps.supervision import views_alerts

urlpatterns: list[URLPattern | URLResolver] = [
    path("alerts/", views_alerts.alert_list, name="alerts"),
    path("alerts/new/", views_alerts.alert_new, name="alert_new"),
    path("alerts/<id:alert_id>/", views_alerts.alert_detail, name="alert"),
    path(
        "alerts/<id:alert_id>/<slug:action>/",
        views_alerts.alert_act,
        name="alert_act",
    ),
    path("corrections/", views_alerts.correction_inbox, name="corrections"),
    path("rules/", views_alerts.rules_page, name="rules"),
    path("sources/", views_alerts.sources_page, name="sources"),
    path("sources/<id:source_id>/<slug:action>/", views_alerts.source_act, name="source_act"),
]
