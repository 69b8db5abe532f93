from django.urls import path

from . import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("me/", views.me, name="me"),
    path("me/profile/", views.profile, name="profile"),
    path("me/phone/", views.confirm_phone, name="confirm_phone"),
    path("me/data/", views.my_data, name="my_data"),
    path("me/delete/", views.delete_account, name="delete_account"),
    path("accessibility/", views.accessibility, name="accessibility"),
    path(
        "accounts/confirmation/resend/",
        views.resend_confirmation,
        name="resend_confirmation",
    ),
    path("manifest.webmanifest", views.manifest, name="manifest"),
]
