from django.apps import AppConfig


class CodeEnforcementConfig(AppConfig):
    name = "code_enforcement"
    verbose_name = "Code enforcement"

    def ready(self):
        # Public pages show these: a change reaches every visitor at once (cityhall.pagecache).
        from cityhall.pagecache import invalidate_on_change

        from .models import ServiceCategory

        invalidate_on_change(ServiceCategory)
        # Fines are paid online through cityhall.payments, which knows no app.
        from cityhall.payments.registry import register

        from .payables import Fines

        register(Fines())
        # Their records under the retention schedule (cityhall.records, which knows no app).
        from . import records

        records.register()
