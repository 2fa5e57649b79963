"""Chinese full-text search shared by the applications (segmentation, pinyin, synonyms)."""

from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "tongban.platform.search"
    label = "search"
    verbose_name = "Search"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tongban.platform.search import permissions  # noqa: F401  (registers them)
