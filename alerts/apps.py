from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = "Alerts and notifications"

    def ready(self):
        # Public pages show these: a change reaches every visitor at once (cityhall.pagecache).
        from django.db.models.signals import post_delete, post_save

        from cityhall.pagecache import invalidate_public_pages

        from .models import Alert, Topic

        for model in (
            Alert,
            Topic,
        ):
            for signal in (post_save, post_delete):
                signal.connect(
                    invalidate_public_pages,
                    sender=model,
                    dispatch_uid=f"pagecache-{model.__name__}-{signal is post_save}",
                )
