"""The site's URLs plus one view that fails, to see the 500 page (tests only)."""

from django.urls import path

from cityhall.urls import handler400, handler403, handler404, handler500  # noqa: F401
from cityhall.urls import urlpatterns as site_urlpatterns


def broken(request):
    raise RuntimeError("a bug")


urlpatterns = [path("broken/", broken), path("es/broken/", broken), *site_urlpatterns]
