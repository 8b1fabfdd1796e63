from django import template

register = template.Library()


@register.filter
def pct(value):
    """A rate (fraction 0…1) as a percentage with two decimals; an em dash when there is none."""
    if value is None:
        return "—"
    return f"{float(value) * 100:.2f}%"


@register.filter
def score(value):
    """The composite (fraction 0…1) as a score out of 100 with two decimals."""
    if value is None:
        return "—"
    return f"{float(value) * 100:.2f}"


@register.filter
def num(value):
    """A count or weighted numerator: 2.5 stays 2.5, 3.0 becomes 3."""
    if value is None:
        return "—"
    number = float(value)
    return str(int(number)) if number == int(number) else f"{number:.2f}".rstrip("0")
