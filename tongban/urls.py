from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path

from tongban.api import api

urlpatterns: list[URLPattern | URLResolver] = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("accounts/", include("tongban.platform.accounts.urls")),
    path("notifications/", include("tongban.platform.notify.urls")),
    path("files/", include("tongban.platform.files.urls")),
    path("audit/", include("tongban.platform.audit.urls")),
    path("calendar/", include("tongban.platform.calendar.urls")),
    path("services/", include("tongban.apps.catalog.urls")),
    path("cases/", include("tongban.apps.approvals.urls")),
    path("licences/", include("tongban.apps.licences.urls")),
    path("supervision/", include("tongban.apps.supervision.urls")),
    path("sharing/", include("tongban.apps.sharing.urls")),
    path("gateway/", include("tongban.apps.sharing.urls_gateway")),
    path("basedata/", include("tongban.apps.basedata.urls")),
    path("exchange/", include("tongban.apps.exchange.urls")),
    path("documents/", include("tongban.apps.documents.urls")),
    path("workflow/", include("tongban.platform.workflow.urls")),
    path("catalog/manage/import/", include("tongban.apps.catalog.urls_import")),
    path("", include("tongban.platform.ui.urls")),
]

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
