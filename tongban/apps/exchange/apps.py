from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    name = "tongban.apps.exchange"
    label = "exchange"
    verbose_name = "Scheduled data exchange"
    default_auto_field = "django.db.models.BigAutoField"
