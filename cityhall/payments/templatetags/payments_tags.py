from django import template

register = template.Library()


@register.filter
def dollars(value) -> str:
    """$1,234.50: amounts are in US dollars in both languages."""
    return f"${value:,.2f}" if value is not None else ""
