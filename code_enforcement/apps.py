from django.apps import AppConfig


class CodeEnforcementConfig(AppConfig):
    name = "code_enforcement"
    verbose_name = "Code enforcement"

    def ready(self):
        # Public pages show these: a change reaches every visitor at once (cityhall.pagecache).
        from cityhall.pagecache import invalidate_on_change

        from .models import ServiceCategory

        invalidate_on_change(ServiceCategory)
