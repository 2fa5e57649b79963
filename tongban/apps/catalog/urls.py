from django.urls import path

from tongban.apps.catalog import views

app_name = "catalog"
urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("browse/", views.browse, name="browse"),
    path("items/<id:item_id>/", views.item_detail, name="item"),
    path("items/<id:item_id>/apply/", views.item_apply, name="apply"),
    path("versions/<id:version_id>/", views.version_detail, name="version"),
    path("bundles/<slug:code>/", views.bundle_detail, name="bundle"),
    path("powers/", views.powers, name="powers"),
    path("powers/<str:code>/", views.power_detail, name="power"),
    path("files/<uuid:file_id>/", views.public_file, name="file"),
    path("negative-list/", views.negative_list, name="negative_list"),
    path("manage/", views.editor, name="editor"),
    path("manage/items/<id:item_id>/draft/", views.item_draft_open, name="draft_open"),
]
