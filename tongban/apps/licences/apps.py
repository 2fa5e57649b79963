from django.apps import AppConfig


class LicencesConfig(AppConfig):
    name = "tongban.apps.licences"
    label = "licences"
    verbose_name = "Electronic licences"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from tongban.apps.licences import permissions  # noqa: F401  (registers them)
        from tongban.platform.ui.navigation import NavLink, register_nav_link

        register_nav_link(NavLink("licences", _("证照核验"), "licences:verify_form", order=60))
