"""Authentication and request protection: web login (Flask-Login, hashed passwords),
CSRF on every form (Flask-WTF; the token-authenticated JSON API and /webhooks/ are
exempt), rate limits (Flask-Limiter; ``RATELIMIT_STORAGE_URI``, in-memory by default)
and the bearer-token check of the JSON API."""
from __future__ import annotations

from flask import Flask, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, UserMixin
from flask_wtf.csrf import CSRFProtect

from app.db import get_db
from app.marketplace.models import User

CSRF_EXEMPT_PREFIXES = ("/api/", "/webhooks/")
DEFAULTS = {
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_LOGIN": "10 per minute",
    "RATELIMIT_API": "600 per minute",
    "WTF_CSRF_CHECK_DEFAULT": False,  # checked in csrf_guard, which knows the exempt prefixes
}


class SessionUser(UserMixin):
    """What Flask-Login keeps for a logged-in person (never the password hash)."""

    def __init__(self, user: User):
        self.id = user.id
        self.email = user.email
        self.display_name = user.display_name
        self.role = user.role

    def get_id(self) -> str:
        return str(self.id)


def load_user(user_id: str) -> SessionUser | None:
    if not user_id.isdigit():
        return None
    with get_db().unit_of_work() as uow:
        user = uow.session.get(User, int(user_id))
        return SessionUser(user) if user is not None and user.is_active else None


def limiter(app: Flask | None = None) -> Limiter:
    return (app or current_app).extensions["cameo.limiter"]


def init_app(app: Flask) -> None:
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)

    login_manager = LoginManager()
    login_manager.login_view = "auth.login"
    login_manager.user_loader(load_user)
    login_manager.init_app(app)

    csrf = CSRFProtect(app)

    @app.before_request
    def csrf_guard():
        if request.method in ("GET", "HEAD", "OPTIONS", "TRACE") or request.path.startswith(CSRF_EXEMPT_PREFIXES):
            return None
        if app.config.get("WTF_CSRF_ENABLED", True):
            csrf.protect()
        return None

    rate_limiter = Limiter(get_remote_address, app=app, storage_uri=app.config["RATELIMIT_STORAGE_URI"])
    app.extensions["cameo.limiter"] = rate_limiter

    from . import views

    rate_limiter.limit(lambda: app.config["RATELIMIT_LOGIN"], methods=["POST"])(views.bp)
    app.register_blueprint(views.bp)
