from django import template

register = template.Library()


@register.filter
def dollars(value) -> str:
    """$1,234.50: amounts are in US dollars in both languages."""
    if value is None:
        return ""
    return f"-${-value:,.2f}" if value < 0 else f"${value:,.2f}"  # a refund: -$30.00
