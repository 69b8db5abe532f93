from django.apps import AppConfig


class KpisConfig(AppConfig):
    name = "kpis"
    verbose_name = "Performance"

    def ready(self):
        # Public pages show these: a change reaches every visitor at once (cityhall.pagecache).
        from cityhall.pagecache import invalidate_on_change

        from .models import PerformanceSettings, Target

        invalidate_on_change(PerformanceSettings, Target)
