from django.urls import path

from . import views

app_name = "code_enforcement"

urlpatterns = [
    path("report/", views.report, name="report"),
    path("report/location/", views.report_location, name="report_location"),
    path("report/nearest.json", views.nearest_address, name="nearest_address"),
    path("report/addresses/", views.address_suggestions, name="address_suggestions"),
    path("report/details/", views.report_details, name="report_details"),
    path("report/photos/", views.report_photos, name="report_photos"),
    path("report/contact/", views.report_contact, name="report_contact"),
    path("report/review/", views.report_review, name="report_review"),
    path("report/start-over/", views.report_start_over, name="report_start_over"),
    path("requests/map/", views.request_map, name="map"),
    path("requests/map.json", views.request_map_data, name="map_data"),
    path("requests/<str:public_id>/", views.track, name="track"),
    path(
        "requests/<str:public_id>/follow/",
        views.follow_confirm,
        name="follow_confirm",
    ),
    path("requests/<str:public_id>/submitted/", views.submitted, name="submitted"),
    path("requests/<str:public_id>/photos/<int:photo_id>.jpg", views.photo, name="photo"),
]
