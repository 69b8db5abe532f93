"""The Open311 URLconf at the root, as cityhall/urls.py includes it (outside i18n_patterns),
with the public pages it links to (photos)."""

from django.urls import include, path

urlpatterns = [
    path("", include("code_enforcement.open311_urls")),
    path("", include("code_enforcement.urls")),
]
