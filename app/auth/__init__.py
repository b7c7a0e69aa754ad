"""Authentication and request protection.

``views``    sign-in and sign-out pages (Flask-Login sessions, hashed passwords), the
             sign-in form under the login rate limit
``session``  what a session remembers of the person
``api``      /api/v1/me, /api/v1/tokens (API tokens) and /api/v1/audit
CSRF is checked on every state-changing request (Flask-WTF) except the
token-authenticated JSON API and the signed Stripe webhooks.
"""

from __future__ import annotations

from flask import Flask, request
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

from app.kit.api import register_api
from app.kit.ratelimit import limit_logins

from . import api, views
from .session import load_user

CSRF_EXEMPT_PREFIXES = ("/api/", "/webhooks/")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS", "TRACE")


def init_app(app: Flask) -> None:
    login_manager = LoginManager()
    login_manager.login_view = "auth.login"
    login_manager.user_loader(load_user)
    login_manager.init_app(app)

    # Checked here rather than by Flask-WTF's own hook, which cannot exempt path prefixes.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    csrf = CSRFProtect(app)

    @app.before_request
    def csrf_guard() -> None:
        if request.method in SAFE_METHODS or request.path.startswith(CSRF_EXEMPT_PREFIXES):
            return
        if app.config.get("WTF_CSRF_ENABLED", True):
            csrf.protect()

    limit_logins(app, views.bp)
    app.register_blueprint(views.bp)
    register_api(app, api.bp)
