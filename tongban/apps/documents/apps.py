from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "tongban.apps.documents"
    label = "documents"
    verbose_name = "Official documents and office work"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tongban.apps.documents import (
            permissions,  # noqa: F401  (registers them)
            setup,
        )

        setup.register_all()
        _warm_up_fonts()


def _warm_up_fonts() -> None:
    """Load the document fonts in the background when the server starts (about 1 s of
    font parsing that the first rendered document would otherwise wait for)."""
    import sys
    import threading

    from django.conf import settings

    if not getattr(settings, "TONGBAN_DOCUMENTS_WARM_FONTS", False) or "pytest" in sys.modules:
        return
    from tongban.apps.documents.rendering import document_fonts

    threading.Thread(target=document_fonts, name="document-fonts", daemon=True).start()
