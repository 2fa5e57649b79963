from django.apps import AppConfig


class ApprovalsConfig(AppConfig):
    name = "tongban.apps.approvals"
    label = "approvals"
    verbose_name = "Online and parallel approval"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from tongban.apps.approvals import access, permissions  # noqa: F401  (registers them)
        from tongban.platform.files.services import file_read_check_register
        from tongban.platform.notify.services import notify_register_category

        notify_register_category("approvals", _("办件进度"))
        file_read_check_register(access.file_read_check)

        from django.urls import reverse

        from tongban.apps.approvals import workbench
        from tongban.apps.catalog.public import application_urls_register
        from tongban.platform.ui.navigation import NavLink, register_nav_link
        from tongban.platform.ui.workbench import WorkbenchProvider, register_provider

        register_nav_link(NavLink("approvals", _("办件"), "approvals:home", order=20, public=False))

        application_urls_register(
            item=lambda item_id: reverse("approvals:apply", args=[item_id]),
            bundle=lambda code: reverse("approvals:apply_bundle", args=[code]),
        )
        register_provider(
            WorkbenchProvider(
                key="approvals",
                label=_("网上审批"),
                todo=workbench.todo,
                for_public=workbench.for_public,
            )
        )
