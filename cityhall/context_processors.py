from django.conf import settings


def city(request):
    return {
        "CITY": settings.CITY,
        "MAP": {"tiles": settings.MAP_TILE_URL, "attribution": settings.MAP_TILE_ATTRIBUTION},
    }
