from django.apps import AppConfig


class FilesConfig(AppConfig):
    name = "tongban.platform.files"
    label = "files"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tongban.platform.events.registry import schedule_every

        # bytes left behind by a crash between writing a file and committing its row
        schedule_every(3600, "tongban.platform.files.services.file_orphans_remove")
