"""Rate limits: the login form's (Flask-Limiter, ``RATELIMIT_LOGIN`` per client on
POST) and the JSON API's, on one store (``RATELIMIT_STORAGE_URI``).

The JSON API's rate limit: ``RATELIMIT_API`` per bearer token (per address for a
request without one), across every API blueprint, checked before anything else runs
— authentication included, so a flood of bad tokens costs no database work.

The check is one fixed-window hit on Flask-Limiter's own strategy and storage
(``RATELIMIT_STORAGE_URI``), so the login form's limit and this one live in one store
and ``RATELIMIT_ENABLED = False`` turns both off.
It does not go through Flask-Limiter's per-request resolution, which re-parses and
filters every registered limit on each request: for the metered-use endpoint that
bookkeeping cost ~0.12 ms of CPU a request, 8 % of the whole request
(bench/usage_bench.py).  The limit string is parsed once per value, so a changed
setting (``RATELIMIT_API``, ``RATELIMIT_ENABLED``) takes effect at the next request.

A refusal is a 429 problem saying when to come back, in its body and in
``Retry-After``.
"""

from __future__ import annotations

import hashlib
import math
import time
from functools import lru_cache

from flask import Blueprint, Flask, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse

from app.errors import Problem

EXTENSION = "cameo.limiter"

_BLUEPRINTS = "cameo.api_rate_limited"
_SCOPE = "api"


class TooManyRequests(Problem):
    status = 429
    title = "Too many requests"


def rate_key() -> str:
    """Whose budget a request spends: its token's (hashed: the key may be stored), else its address's."""
    header = request.headers.get("Authorization", "")
    if header:
        return "token:" + hashlib.sha256(header.encode("utf-8", "replace")).hexdigest()[:24]
    return "ip:" + (get_remote_address() or "")


@lru_cache(maxsize=8)
def _limit(setting: str) -> RateLimitItem:
    return parse(setting)


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = Limiter(get_remote_address, app=app, storage_uri=app.config["RATELIMIT_STORAGE_URI"])


def limiter(app: Flask | None = None) -> Limiter:
    return (app or current_app).extensions[EXTENSION]


def limit_logins(app: Flask, blueprint: Blueprint) -> None:
    """Put ``blueprint``'s POSTs (the login form) under ``RATELIMIT_LOGIN`` per client."""
    limiter(app).limit(lambda: app.config["RATELIMIT_LOGIN"], methods=["POST"])(blueprint)


def limit_api(app: Flask, blueprint) -> None:
    """Put ``blueprint``'s endpoints under the API rate limit."""
    names = app.extensions.get(_BLUEPRINTS)
    if names is None:
        names = app.extensions[_BLUEPRINTS] = set()
        app.before_request(_check)  # app-level: runs before the blueprints' own hooks
    names.add(blueprint.name)


def _check() -> None:
    if request.blueprint not in current_app.extensions[_BLUEPRINTS]:
        return
    rate_limits = limiter(current_app)
    if not (rate_limits.enabled and current_app.config.get("RATELIMIT_ENABLED", True)):
        return
    strategy = rate_limits.limiter
    item, key = _limit(current_app.config["RATELIMIT_API"]), rate_key()
    if not strategy.hit(item, _SCOPE, key):
        reset_at = strategy.get_window_stats(item, _SCOPE, key).reset_time
        wait = max(1, math.ceil(reset_at - time.time()))  # the store's windows run on wall time
        raise TooManyRequests(f"At most {item} per API token; try again in {wait} s.", retry_after=wait)
