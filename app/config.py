"""Settings, read from the environment once, in the factory (never at import).

Every variable is documented in the README's Configuration section.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ledger.money import CURRENCY_EXPONENTS

ENVIRONMENTS = ("development", "production", "test")


class ConfigError(RuntimeError):
    """A setting is missing or malformed; the message says which and how to fix it."""


def normalise_database_url(url: str) -> str:
    """Accept the usual ``postgres://`` spellings and pick the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def default_instance_path() -> Path:
    return Path(os.environ.get("CAMEO_INSTANCE_PATH", Path.cwd() / "instance")).resolve()


def load_secret_key(instance_path: Path, env: str, environ: Mapping[str, str]) -> str:
    """``SECRET_KEY`` from the environment; in development one is generated and kept."""
    key = environ.get("SECRET_KEY")
    if key:
        return key
    if env == "production":
        raise ConfigError(
            "SECRET_KEY must be set in production (e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`)"
        )
    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key


def _int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None


# Settlement: cron "minute hour day month weekday" (UTC) and minimum payouts in minor units.
DEFAULT_SETTLEMENT_SCHEDULE = "0 6 1 * *"
DEFAULT_MIN_PAYOUT = {"USD": 1000, "EUR": 1000, "GBP": 1000, "JPY": 1000}
_CRON_FIELD = re.compile(r"^[0-9*,/\-A-Za-z?LW#]+$")


def parse_settlement_schedule(raw: str | None) -> str:
    """A five-field crontab expression (checked in full by the scheduler at start-up)."""
    value = (raw or "").strip() or DEFAULT_SETTLEMENT_SCHEDULE
    fields = value.split()
    if len(fields) != 5 or not all(_CRON_FIELD.match(f) for f in fields):
        raise ConfigError(
            f"SETTLEMENT_SCHEDULE must be a crontab expression 'minute hour day month weekday' "
            f"(UTC), e.g. {DEFAULT_SETTLEMENT_SCHEDULE!r}; got {raw!r}"
        )
    return value


def parse_min_payout(raw: str | None) -> dict[str, int]:
    """``"USD=1000,EUR=1000"`` (minor units) over the defaults; currencies must be ISO 4217."""
    result = dict(DEFAULT_MIN_PAYOUT)
    for part in filter(None, (p.strip() for p in (raw or "").split(","))):
        currency, sep, amount = (x.strip() for x in part.partition("="))
        currency = currency.upper()
        if not sep or currency not in CURRENCY_EXPONENTS or not amount.isdigit():
            raise ConfigError(
                f"SETTLEMENT_MIN_PAYOUT must look like 'USD=1000,EUR=1000' (ISO currency = "
                f"non-negative minor units); cannot read {part!r}"
            )
        result[currency] = int(amount)
    return result


# Settings with a plain default that the environment may override (README: Configuration).
DEFAULT_STR = {
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_LOGIN": "10 per minute",
    "RATELIMIT_API": "600 per minute",
    "PASSWORD_HASH_METHOD": "scrypt",
}
DEFAULT_INT = {
    "PREVIEW_MAX_BYTES": 5 * 1024 * 1024,
    "RECORDING_MAX_BYTES": 50 * 1024 * 1024,
}
SETTLEMENT_LOCK_WAIT_SECONDS = 3.0  # how long a second run waits for the first before it is refused


def from_environment(environ: Mapping[str, str] | None = None, instance_path: Path | None = None) -> dict[str, Any]:
    """Flask config mapping built from ``environ`` (default: ``os.environ``)."""
    environ = os.environ if environ is None else environ
    env = environ.get("CAMEO_ENV", "development")
    if env not in ENVIRONMENTS:
        raise ConfigError(f"CAMEO_ENV must be one of {', '.join(ENVIRONMENTS)}, got {env!r}")
    instance_path = instance_path or default_instance_path()
    database_url = normalise_database_url(environ.get("DATABASE_URL") or f"sqlite:///{instance_path / 'cameo.db'}")
    if env == "production" and database_url.startswith("sqlite"):
        # Allowed (small deployments), but say so loudly in the log at start-up.
        pass
    if _int(environ, "SETTLEMENT_WORKERS", 4) < 1 or _int(environ, "SETTLEMENT_STRIPE_WRITES_PER_SECOND", 90) < 0:
        raise ConfigError(
            "SETTLEMENT_WORKERS must be at least 1 and SETTLEMENT_STRIPE_WRITES_PER_SECOND at least 0 (0: no pacing)"
        )
    defaults: dict[str, Any] = {k: environ.get(k) or v for k, v in DEFAULT_STR.items()}
    defaults.update({k: _int(environ, k, v) for k, v in DEFAULT_INT.items()})
    return defaults | {
        "CAMEO_ENV": env,
        "INSTANCE_PATH": str(instance_path),
        "DATABASE_URL": database_url,
        "SECRET_KEY": load_secret_key(instance_path, env, environ),
        "COMMISSION_BPS": _int(environ, "COMMISSION_BPS", 2000),
        "STRIPE_SECRET_KEY": environ.get("STRIPE_SECRET_KEY", ""),
        "STRIPE_API_BASE": environ.get("STRIPE_API_BASE", ""),
        "STRIPE_WEBHOOK_SECRET": environ.get("STRIPE_WEBHOOK_SECRET", ""),
        "LOG_LEVEL": environ.get("LOG_LEVEL", "INFO"),
        # Mail (docs/mail.md); checked when the composition root builds the mailer from them.
        "MAIL_URL": environ.get("MAIL_URL", ""),
        "MAIL_FROM": environ.get("MAIL_FROM", ""),
        "MAIL_SINK_DIR": str(instance_path / "mail-sink"),  # where make run's local sink keeps caught mail
        "SETTLEMENT_SCHEDULE": parse_settlement_schedule(environ.get("SETTLEMENT_SCHEDULE")),
        "SETTLEMENT_MIN_PAYOUT": parse_min_payout(environ.get("SETTLEMENT_MIN_PAYOUT")),
        "SETTLEMENT_WORKERS": _int(environ, "SETTLEMENT_WORKERS", 4),
        "SETTLEMENT_STRIPE_WRITES_PER_SECOND": _int(environ, "SETTLEMENT_STRIPE_WRITES_PER_SECOND", 90),
        "SETTLEMENT_LOCK_WAIT_SECONDS": SETTLEMENT_LOCK_WAIT_SECONDS,
        "RECEIPT_KEYS_DIR": str(instance_path / "receipt_keys"),
        # Werkzeug refuses bodies above this with 413 before reading them; per-field
        # limits (preview, recording) are checked again by the services.
        "MAX_CONTENT_LENGTH": _int(environ, "MAX_UPLOAD_BYTES", 64 * 1024 * 1024),
    }
