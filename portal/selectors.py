"""What the resident portal shows, read from the other apps' selectors."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Service:
    title: str
    description: str
    url_name: str

    @property
    def url(self) -> str:
        try:
            return reverse(self.url_name)
        except NoReverseMatch:
            return ""


SERVICES = [
    Service(
        _("Apply for a permit or license"),
        _(
            "Building, electrical, plumbing, signs, events, business licenses and more. "
            "See the fees and what you need before you start."
        ),
        "permits:index",
    ),
    Service(
        _("Report a problem"),
        _(
            "Potholes, graffiti, illegal dumping, overgrown lots, streetlights, unsafe housing. "
            "You can report without an account."
        ),
        "code_enforcement:report",
    ),
    Service(
        _("Get alerts"),
        _("Emergencies, road closures, water outages and city news by email or text message."),
        "alerts:index",
    ),
    Service(
        _("Look up permit records"),
        _("Search issued permits by number or address."),
        "permits:search",
    ),
    Service(
        _("See how the city is doing"),
        _("How fast the city answers requests and decides permits, measured every day."),
        "kpis:performance",
    ),
]


def services() -> list[Service]:
    return SERVICES


@dataclass
class DashboardSection:
    key: str
    title: str
    items: list
    empty_text: str
    action_text: str
    action_url: str
    template: str = ""


def dashboard_for(*, user) -> list[DashboardSection]:
    """The sections of "My City Hall". Each module adds its records here as it lands."""
    from alerts import selectors as alerts
    from code_enforcement import selectors as reports
    from permits import selectors as permits

    by_url = {service.url_name: service.url for service in SERVICES}
    subscription = alerts.subscription_for_user(user=user)
    messages = list(alerts.inbox_for(user=user)[:5])
    return [
        DashboardSection(
            "permits",
            _("My permits and licenses"),
            list(permits.permits_for_resident(user=user)[:20]),
            _("You have no permit or license applications."),
            _("Apply for a permit or license"),
            by_url["permits:index"],
            template="portal/_permits.html",
        ),
        DashboardSection(
            "requests",
            _("My reports"),
            list(reports.requests_for_resident(user=user)[:20]),
            _("You have not reported any problems."),
            _("Report a problem"),
            by_url["code_enforcement:report"],
            template="portal/_reports.html",
        ),
        DashboardSection(
            "subscriptions",
            _("My alert subscriptions"),
            [subscription] if subscription and subscription.channels() else [],
            _("You are not subscribed to any alerts."),
            _("Choose your alerts"),
            reverse("alerts:my_alerts"),
            template="portal/_subscription.html",
        ),
        DashboardSection(
            "messages",
            _("Messages"),
            messages,
            _("You have no messages from the city."),
            _("All messages"),
            reverse("alerts:inbox"),
            template="portal/_messages.html",
        ),
    ]
