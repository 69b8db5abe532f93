from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    # Label "billing": "payments" is django-payments' own package and app label.
    name = "cityhall.payments"
    label = "billing"
    verbose_name = "Online payments"
