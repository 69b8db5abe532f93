from django.conf import settings


def city(request):
    return {"CITY": settings.CITY}
