"""Mail bodies from templates: ``mail/<name>.subject.txt``, ``mail/<name>.txt`` and, optionally,
``mail/<name>.html`` under app/templates.

Features that send mail render with the app's Jinja environment (handed in) and pass
the result to ``outbox.enqueue`` with ``template=<name>``, so the outbox records which
template a message came from.  The ``.txt`` templates are not auto-escaped (Flask
escapes ``.html`` only); the subject is the first line of its template, stripped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, TemplateNotFound


@dataclass(frozen=True)
class RenderedMail:
    template: str
    subject: str
    text: str
    html: str | None


def render_mail(env: Environment, name: str, **context: Any) -> RenderedMail:
    subject_lines = env.get_template(f"mail/{name}.subject.txt").render(**context).strip().splitlines()
    subject = subject_lines[0].strip() if subject_lines else ""  # empty: enqueue says it is invalid
    text = env.get_template(f"mail/{name}.txt").render(**context)
    try:
        html: str | None = env.get_template(f"mail/{name}.html").render(**context)
    except TemplateNotFound:
        html = None
    return RenderedMail(template=name, subject=subject, text=text, html=html)
