from django.urls import URLPattern, URLResolver, path, register_converter

from tongban.apps.licences import views
from tongban.apps.licences.identifiers import IDENTIFIER_URL_REGEX


class IdentifierConverter:
    """``1.2.156.3005.2.<type>.<USCC>.<serial>.<version>.<check>``"""

    regex = IDENTIFIER_URL_REGEX

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(IdentifierConverter, "licence_identifier")

app_name = "licences"
urlpatterns: list[URLPattern | URLResolver] = [
    path("verify/", views.verify_form, name="verify_form"),
    path("verify/<licence_identifier:identifier>/", views.verify, name="verify"),
    path("verify/<licence_identifier:identifier>/qr.svg", views.verify_qr, name="verify_qr"),
    path("mine/", views.mine, name="mine"),
    path("manage/", views.manage, name="manage"),
    path("manage/<licence_identifier:identifier>/revoke/", views.revoke, name="revoke"),
    path("<licence_identifier:identifier>.pdf", views.licence_pdf, name="pdf"),
]
