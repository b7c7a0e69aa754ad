"""The marketplace's hooks into the Flask app: settings with their defaults, the
upload store under instance/, the acting user of a request, and demo seeding."""
from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask, current_app, request

from app.db import UnitOfWork, get_db

from . import demo
from .actors import Actor, actor_for
from .models import User
from .storage import FileStore

DEFAULTS = {
    "PREVIEW_MAX_BYTES": 5 * 1024 * 1024,
    "RECORDING_MAX_BYTES": 50 * 1024 * 1024,
    "PASSWORD_HASH_METHOD": "scrypt",
}


def init_app(app: Flask) -> None:
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    logging.getLogger("fontTools").setLevel(logging.WARNING)  # fpdf2's font subsetting is chatty at INFO
    app.extensions["cameo.files"] = FileStore(Path(app.config["INSTANCE_PATH"]) / "uploads")


def file_store(app: Flask | None = None) -> FileStore:
    return (app or current_app).extensions["cameo.files"]


def request_actor(uow: UnitOfWork, user: User) -> Actor:
    """The actor for ``user`` acting through the current request (IP and user agent)."""
    return actor_for(uow, user, ip=request.remote_addr or "", user_agent=request.headers.get("User-Agent", ""))


def seed_marketplace(app: Flask, *, now) -> list[str]:
    with get_db(app).unit_of_work() as uow:
        lines = demo.seed_demo(uow, now, store=file_store(app), commission_bps=app.config["COMMISSION_BPS"],
                               password_method=app.config["PASSWORD_HASH_METHOD"])
        uow.commit()
    return lines
