"""Open311 GeoReport v2 at /open311/v2/..., outside the language prefixes (the API is English)."""

from django.urls import path, re_path, register_converter

from . import open311


class ResponseFormat:
    """The spec's response_format: the extension of every endpoint."""

    regex = "json|xml"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(ResponseFormat, "open311_format")

app_name = "open311"

urlpatterns = [
    path("open311/v2/discovery.<open311_format:fmt>", open311.discovery, name="discovery"),
    path("open311/v2/services.<open311_format:fmt>", open311.service_list, name="services"),
    path(
        "open311/v2/services/<str:code>.<open311_format:fmt>",
        open311.service_definition,
        name="service",
    ),
    path("open311/v2/requests.<open311_format:fmt>", open311.request_collection, name="requests"),
    path(
        "open311/v2/requests/<str:request_id>.<open311_format:fmt>",
        open311.request_detail,
        name="request",
    ),
    path("open311/v2/tokens/<str:token>.<open311_format:fmt>", open311.token, name="token"),
    # Anything else under the API answers in the API's error shape, not an HTML page.
    re_path(r"^open311/v2/(?P<rest>.*?)(?:\.(?P<fmt>json|xml))?$", open311.not_found),
]
