"""Sharing pages: the information resource catalogue (views_catalogue)."""

from django.urls import URLPattern, URLResolver, path, register_converter

from tongban.apps.sharing import views_catalogue


class ResourceCodeConverter:
    """A resource code: 10 or 13 digits (models.RESOURCE_CODE_PATTERN checks the rest)."""

    regex = r"[0-9]{10}(?:[0-9]{3})?"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return str(value)


register_converter(ResourceCodeConverter, "resource_code")

urlpatterns: list[URLPattern | URLResolver] = [
    path("catalogue/", views_catalogue.catalogue_home, name="catalogue"),
    path("catalogue/new/", views_catalogue.resource_new, name="catalogue_new"),
    path("catalogue/mine/", views_catalogue.my_entries, name="catalogue_mine"),
    path("catalogue/review/", views_catalogue.review_queue, name="catalogue_review"),
    path("catalogue/item-row/", views_catalogue.item_row, name="catalogue_item_row"),
    path(
        "catalogue/<resource_code:code>/",
        views_catalogue.resource_detail,
        name="catalogue_resource",
    ),
    path(
        "catalogue/<resource_code:code>/diff/",
        views_catalogue.version_diff,
        name="catalogue_diff",
    ),
    path(
        "catalogue/<resource_code:code>/new-version/",
        views_catalogue.version_new,
        name="catalogue_version_new",
    ),
    path(
        "catalogue/<resource_code:code>/withdraw/",
        views_catalogue.resource_withdraw,
        name="catalogue_withdraw",
    ),
    path(
        "catalogue/<resource_code:code>/v<id:number>/",
        views_catalogue.version_detail,
        name="catalogue_version",
    ),
    path(
        "catalogue/<resource_code:code>/v<id:number>/edit/",
        views_catalogue.version_edit,
        name="catalogue_version_edit",
    ),
    path(
        "catalogue/<resource_code:code>/v<id:number>/submit/",
        views_catalogue.version_submit,
        name="catalogue_version_submit",
    ),
    path(
        "catalogue/<resource_code:code>/v<id:number>/publish/",
        views_catalogue.version_publish,
        name="catalogue_version_publish",
    ),
    path(
        "catalogue/<resource_code:code>/v<id:number>/reject/",
        views_catalogue.version_reject,
        name="catalogue_version_reject",
    ),
]
