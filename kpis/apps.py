from django.apps import AppConfig


class KpisConfig(AppConfig):
    name = "kpis"
    verbose_name = "Performance"

    def ready(self):
        # Public pages show these: a change reaches every visitor at once (cityhall.pagecache).
        from cityhall.console import register_record_source
        from cityhall.pagecache import invalidate_on_change

        from . import drilldown
        from .models import PerformanceSettings, Target

        invalidate_on_change(PerformanceSettings, Target)
        # Each dashboard number links to the console list of the records behind it.
        register_record_source(drilldown.resolve)
        # Disposal under the retention schedule seals the roll-ups first (cityhall.records).
        from cityhall.records.registry import before_disposal

        from .rollups import seal

        before_disposal(seal)
