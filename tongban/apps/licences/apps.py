from django.apps import AppConfig


class LicencesConfig(AppConfig):
    name = "tongban.apps.licences"
    label = "licences"
    verbose_name = "Electronic licences"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from tongban.apps.licences import permissions  # noqa: F401  (registers them)
        from tongban.apps.licences.models import ISSUER_KEY_PURPOSE, IssuerKey
        from tongban.platform.crypto.rotation import register_encrypted_column

        # the issuers' SM2 private keys are SM4 frames in a plain BinaryField: key rotation
        # must re-encrypt them with the personal data
        register_encrypted_column(IssuerKey, "private_key_encrypted", ISSUER_KEY_PURPOSE)
        from tongban.platform.ui.navigation import NavLink, register_nav_link

        register_nav_link(NavLink("licences", _("证照核验"), "licences:verify_form", order=60))
