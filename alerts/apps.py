from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = "Alerts and notifications"

    def ready(self):
        # Public pages show these: a change reaches every visitor at once (cityhall.pagecache).
        from cityhall.pagecache import invalidate_on_change

        from .models import Alert, Topic

        invalidate_on_change(Alert, Topic)
        # Receipts for card payments and refunds, in the payer's language.
        from cityhall.payments.signals import payment_settled, refund_succeeded

        from . import receipts

        payment_settled.connect(receipts.payment_receipt, dispatch_uid="alerts-payment-receipt")
        refund_succeeded.connect(receipts.refund_receipt, dispatch_uid="alerts-refund-receipt")
        # Their records under the retention schedule (cityhall.records, which knows no app).
        from . import records

        records.register()
