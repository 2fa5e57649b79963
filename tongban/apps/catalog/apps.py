from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "tongban.apps.catalog"
    label = "catalog"
    verbose_name = "Service catalogue"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from tongban.apps.catalog import permissions  # noqa: F401  (registers them)
        from tongban.platform.ui.navigation import NavLink, register_nav_link
        from tongban.platform.ui.workbench import WorkbenchProvider, register_provider

        register_nav_link(NavLink("catalog", _("办事服务"), "catalog:home", order=10))
        from tongban.apps.catalog import workbench

        register_provider(
            WorkbenchProvider(key="catalog", label=_("事项清单"), todo=workbench.todo)
        )
