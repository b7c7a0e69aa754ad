"""Contract rendering: a licence's text comes from its exact template version and its
parameters (Jinja, sandboxed, every placeholder required), and is stored with its
sha256.  Downloads: the stored text as HTML and as PDF (fpdf2)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from ledger.money import format_minor

from .models import Licence

_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def environment() -> SandboxedEnvironment:
    return SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _money(minor: int, currency: str) -> str:
    return f"{format_minor(minor, currency)} {currency}"


def context(
    licence: Licence,
    *,
    cameo_title: str,
    cameo_kind: str,
    creators: list[str],
    brand_name: str,
    template_title: str,
    template_version: int,
) -> dict[str, Any]:
    """Every placeholder a template may use."""
    return {
        "licence_id": licence.id,
        "template_title": template_title,
        "template_version": template_version,
        "licensors": ", ".join(creators),
        "licensee": brand_name,
        "cameo_title": cameo_title,
        "cameo_kind": cameo_kind,
        "intended_use": licence.intended_use,
        "media": ", ".join(licence.media),
        "territory": ", ".join(licence.territories),
        "term_days": licence.term_days,
        "term_start": licence.term_start.strftime("%Y-%m-%d %H:%M UTC"),
        "term_end": licence.term_end.strftime("%Y-%m-%d %H:%M UTC"),
        "exclusivity": "exclusive" if licence.exclusivity else "non-exclusive",
        "exclusive": licence.exclusivity,
        "usage_cap": "unlimited" if licence.usage_cap is None else f"{licence.usage_cap:,}",
        "upfront_fee": _money(licence.upfront_fee_minor, licence.currency),
        "advance": _money(licence.advance_minor, licence.currency),
        "has_advance": licence.advance_minor > 0,
        "per_use_royalty": _money(licence.per_use_royalty_minor, licence.currency),
        "currency": licence.currency,
        "holdback_days": licence.holdback_days,
        "revocation_notice_days": licence.revocation_notice_days,
        "blocked_categories": "",
    }


SAMPLE = dict.fromkeys(
    (
        "licence_id",
        "template_title",
        "template_version",
        "licensors",
        "licensee",
        "cameo_title",
        "cameo_kind",
        "intended_use",
        "media",
        "territory",
        "term_days",
        "term_start",
        "term_end",
        "exclusivity",
        "usage_cap",
        "upfront_fee",
        "advance",
        "per_use_royalty",
        "currency",
        "holdback_days",
        "revocation_notice_days",
        "blocked_categories",
    ),
    "x",
) | {"exclusive": True, "has_advance": True}


def check_template(body: str) -> str | None:
    """None if ``body`` renders with every known placeholder, else the error."""
    try:
        environment().from_string(body).render(**SAMPLE)
    except TemplateError as exc:
        return str(exc)
    return None


def render(body: str, values: dict[str, Any]) -> tuple[str, str]:
    text = environment().from_string(body).render(**values)
    return text, sha256_text(text)


def _signature_lines(licence: Licence) -> list[str]:
    lines = []
    for party, sig in (("Licensor", licence.creator_signature), ("Licensee", licence.brand_signature)):
        if sig:
            lines.append(
                f"{party}: signed by user #{sig['user_id']} at {sig['signed_at']} from {sig['ip']} "
                f"({sig['user_agent']}), contract sha256 {sig['sha256']}"
            )
        else:
            lines.append(f"{party}: not signed")
    return lines


def as_html(licence: Licence) -> str:
    sigs = "".join(f"<li>{escape(line)}</li>" for line in _signature_lines(licence))
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Licence #{licence.id}</title></head><body>"
        f"<h1>Licence #{licence.id}</h1>"
        f"<p>Contract sha256: <code>{escape(licence.contract_sha256 or '')}</code></p>"
        f'<pre style="white-space: pre-wrap">{escape(licence.contract_text or "")}</pre>'
        f"<h2>Signatures</h2><ul>{sigs}</ul></body></html>"
    )


def as_pdf(licence: Licence, *, now: datetime) -> bytes:
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_creation_date(now.astimezone(UTC))
    pdf.set_title(f"Licence #{licence.id}")
    pdf.add_page()
    clean: Callable[[str], str]
    if _FONT.exists():
        pdf.add_font("body", fname=str(_FONT))
        pdf.set_font("body", size=10)
        clean = str
    else:  # core fonts are Latin-1 only; the stored text (and its hash) stays authoritative
        pdf.set_font("Helvetica", size=10)
        clean = lambda s: s.encode("latin-1", "replace").decode("latin-1")  # noqa: E731
    width = pdf.w - pdf.l_margin - pdf.r_margin
    pdf.multi_cell(width, 5, clean(licence.contract_text or ""))
    pdf.ln(4)
    for line in [f"Contract sha256: {licence.contract_sha256}", *_signature_lines(licence)]:
        pdf.multi_cell(width, 5, clean(line))
    return bytes(pdf.output())
