from django.urls import path

from . import views

app_name = "alerts"

urlpatterns = [
    path("alerts/", views.index, name="index"),
    path("alerts/feed.atom", views.feed, name="feed"),
    path("alerts/<int:pk>/", views.detail, name="detail"),
    path("alerts/<int:pk>/cap.xml", views.cap, name="cap"),
    path("alerts/subscribe/", views.subscribe, name="subscribe"),
    path("alerts/subscribe/sent/", views.subscribe_sent, name="subscribe_sent"),
    path("alerts/subscribe/code/<str:token>/", views.subscribe_code, name="subscribe_code"),
    path("alerts/subscribe/confirm/<str:token>/", views.confirm_email, name="confirm_email"),
    path("alerts/unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("alerts/sms/inbound/", views.sms_inbound, name="sms_inbound"),
    path("me/alerts/", views.my_alerts, name="my_alerts"),
    path("me/messages/", views.inbox, name="inbox"),
    path("me/messages/<int:pk>/", views.message, name="message"),
]
