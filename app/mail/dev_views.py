"""``/dev/mail``: the mail the local sink caught, for development only.

The blueprint is registered only when ``CAMEO_ENV=development`` (``app.mail.init_app``),
so everywhere else the path does not exist (404).  It reads the sink's Maildir
(``MAIL_SINK_DIR``, by default ``instance/mail-sink``) and shows the outbox's counts
beside it, so a developer sees both what is waiting and what went out.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template

from app.db import Database
from app.kit.registry import provided

from .outbox import status_counts
from .sink import caught_message, caught_messages

bp = Blueprint("dev_mail", __name__, url_prefix="/dev/mail")


@bp.get("")
def index():
    return render_template(
        "mail/dev/index.html",
        messages=caught_messages(current_app.config["MAIL_SINK_DIR"]),
        counts=status_counts(provided(Database)),
        sink_dir=current_app.config["MAIL_SINK_DIR"],
    )


@bp.get("/<key>")
def message(key: str):
    found = caught_message(current_app.config["MAIL_SINK_DIR"], key)
    if found is None:
        abort(404)
    return render_template("mail/dev/message.html", message=found)
