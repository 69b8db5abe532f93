from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = "Alerts and notifications"

    def ready(self):
        # Public pages show these: a change reaches every visitor at once (cityhall.pagecache).
        from cityhall.pagecache import invalidate_on_change

        from .models import Alert, Topic

        invalidate_on_change(Alert, Topic)
