"""Stand-in URLs for the CAP and Atom tests, so they run before the alerts views are wired."""

from django.http import HttpResponse
from django.urls import include, path


def placeholder(request, pk):
    return HttpResponse()


alert_patterns = [
    path("alerts/<int:pk>/", placeholder, name="detail"),
    path("alerts/<int:pk>/cap.xml", placeholder, name="cap"),
]

urlpatterns = [path("", include((alert_patterns, "alerts")))]
