"""Jinja filters and globals of the web pages: money, instants, labels."""

from __future__ import annotations

from datetime import datetime

from flask import Flask

from app.marketplace import catalogue
from ledger.money import format_minor

KIND_LABELS = {"face": "Face", "voice": "Voice", "persona": "Persona", "pet": "Pet", "object": "Object"}
VISIBILITY_LABELS = {
    "only_me": "Only me (not on the market)",
    "approved_brands": "Approved brands only",
    "licensed": "Any brand (licence required)",
}
MEDIA_LABELS = {
    "social": "Social",
    "web": "Web",
    "tv": "TV",
    "radio": "Radio",
    "print": "Print",
    "out_of_home": "Out of home",
    "streaming": "Streaming",
    "film": "Film",
    "podcast": "Podcast",
    "games": "Games",
}


def money(minor: int | None, currency: str) -> str:
    """``1500000, "USD"`` → ``15,000.00 USD`` (exact: format_minor, then digit grouping)."""
    if minor is None:
        return "—"
    text = format_minor(minor, currency)
    sign, text = ("-", text[1:]) if text.startswith("-") else ("", text)
    whole, dot, frac = text.partition(".")
    return f"{sign}{int(whole):,}{dot}{frac} {currency}"


def when(value: datetime | str | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.strftime("%Y-%m-%d %H:%M UTC")


def init_app(app: Flask) -> None:
    app.add_template_filter(money, "money")
    app.add_template_filter(when, "when")
    app.add_template_filter(lambda kind: KIND_LABELS.get(kind, kind), "kind_label")
    app.add_template_filter(lambda value: VISIBILITY_LABELS.get(value, value), "visibility_label")
    app.add_template_filter(lambda values: ", ".join(MEDIA_LABELS.get(v, v) for v in values), "media_list")
    app.add_template_global(lambda slug: catalogue.categories().get(slug, slug), "category_label")
