from django.urls import path

from . import views

app_name = "billing"

urlpatterns = [
    path("pay/fine/", views.fine_lookup, name="fine_lookup"),
    path("pay/<slug:kind>/<str:reference>/", views.pay, name="pay"),
    path("payments/<uuid:token>/return/", views.returned, name="return"),
    path("payments/<uuid:token>/cancelled/", views.cancelled, name="cancelled"),
    path("payments/<uuid:token>/receipt/", views.receipt, name="receipt"),
    path("payments/<uuid:token>/demo/", views.demo, name="demo"),
]

# Providers post here: one address, no language prefix, no CSRF token (the signature is checked).
webhook_urlpatterns = [
    path("payments/webhook/<slug:variant>/", views.webhook, name="payments_webhook"),
]
