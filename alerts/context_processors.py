from django.utils.translation import get_language

from .selectors import banner_alerts


def emergency_banner(request):
    """The active severe/extreme alerts for the banner slot of every page (one cache read)."""
    spanish = (get_language() or "en").startswith("es")
    alerts = [
        {
            "title": alert["title_es" if spanish else "title_en"],
            "summary": alert["summary_es" if spanish else "summary_en"],
            "pk": alert["pk"],
        }
        for alert in banner_alerts()
    ]
    return {"emergency_alerts": alerts}
