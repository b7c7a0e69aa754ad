"""``/healthz``: is the process up and can it reach its database?"""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy.exc import SQLAlchemyError

from app.db import Database
from app.kit.registry import provided

from .errors import Problem

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    try:
        provided(Database).ping()
    except SQLAlchemyError as exc:
        raise Problem("The database is unreachable.", status=503, title="Service unavailable") from exc
    return jsonify(status="ok")
