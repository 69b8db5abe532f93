from django.apps import AppConfig


class PermitsConfig(AppConfig):
    name = "permits"
    verbose_name = "Permits and licenses"

    def ready(self):
        # Public pages show these: a change reaches every visitor at once (cityhall.pagecache).
        from cityhall.pagecache import invalidate_on_change

        from .models import DocumentRequirement, PermitType

        invalidate_on_change(DocumentRequirement, PermitType)
        # Fees are paid online through cityhall.payments, which knows no app.
        from cityhall.payments.registry import register

        from .payables import PermitFees

        register(PermitFees())
        # Their records under the retention schedule (cityhall.records, which knows no app).
        from . import records

        records.register()
