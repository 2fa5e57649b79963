from django.apps import AppConfig


class CalendarConfig(AppConfig):
    name = "tongban.platform.calendar"
    label = "workcalendar"
    verbose_name = "Working-day calendar"
    default_auto_field = "django.db.models.BigAutoField"
