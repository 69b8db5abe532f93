from django.apps import AppConfig


class CodeEnforcementConfig(AppConfig):
    name = "code_enforcement"
    verbose_name = "Code enforcement"
