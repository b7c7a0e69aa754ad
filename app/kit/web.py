"""What every page route shares: the time, the acting user, role checks, and running
one service call for a submitted form (commit, flash, redirect — or re-render with
field errors)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import wraps
from typing import Any

from flask import flash, redirect, request
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from app.clock import Clock
from app.db import Database, UnitOfWork, get_existing
from app.errors import Conflict, Forbidden, ValidationProblem
from app.people.actors import Actor, actor_for
from app.people.models import User

from .registry import provided


def now() -> datetime:
    """The app clock's time (services get it as an argument)."""
    return provided(Clock)()


def request_actor(uow: UnitOfWork, user: User) -> Actor:
    """The actor for ``user`` acting through the current request (IP and user agent)."""
    return actor_for(uow, user, ip=request.remote_addr or "", user_agent=request.headers.get("User-Agent", ""))


@contextmanager
def acting() -> Iterator[tuple[UnitOfWork, Actor]]:
    """A unit of work and the logged-in user as the acting ``Actor`` (IP, user agent).
    Rows read inside stay readable afterwards (detached, not expired by the closing
    rollback), so the page renders after the transaction has ended."""
    with provided(Database).unit_of_work() as uow:
        try:
            yield uow, request_actor(uow, get_existing(uow.session, User, current_user.id))
        finally:
            uow.session.expunge_all()


def role_required(*roles: str) -> Callable:
    """Log in first (redirect to /login); then 403 unless the user has one of ``roles``."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def guarded(*args, **kwargs):
            if roles and current_user.role not in roles:
                raise Forbidden(f"This page is for the {' or '.join(roles)} role.")
            return view(*args, **kwargs)

        return guarded

    return decorate


def attach_errors(form: FlaskForm, problem: ValidationProblem, aliases: dict[str, str] | None = None) -> None:
    """Put a service's field messages (``"owners.0.user_id"``, ``"upfront_fee.amount_minor"``)
    next to the form field they belong to; anything else is shown at the top of the form."""
    aliases = aliases or {}
    for path, message in problem.errors.items():
        head = path.split(".")[0]
        field = form._fields.get(aliases.get(path) or aliases.get(head) or head)
        if field is None or field.name == "csrf_token":
            form.form_errors.append(message if path == "body" else f"{path}: {message}")
        else:
            field.errors = [*field.errors, message]
    if not problem.errors:
        form.form_errors.append(problem.detail or problem.title)


def submit(
    form: FlaskForm,
    action: Callable[[UnitOfWork, Actor], Any],
    *,
    done: str | Callable[[Any], str],
    then: Callable[[Any], str],
    page: Callable[[], str],
    back: str,
    aliases: dict[str, str] | None = None,
):
    """Validate ``form``; run ``action(uow, actor)`` (one service call) and commit; flash
    ``done`` and redirect to ``then(result)``.  Invalid input re-renders ``page()`` with
    the messages beside their fields (422, or the service's 4xx status for uploads);
    a refused transition (409) is flashed and redirects ``back``."""
    if not form.validate_on_submit():
        return page(), 422
    try:
        with acting() as (uow, actor):
            result = action(uow, actor)
            uow.commit()
    except ValidationProblem as problem:
        attach_errors(form, problem, aliases)
        return page(), problem.status if 400 <= problem.status < 500 else 422
    except Conflict as conflict:
        flash(conflict.detail or conflict.title, "error")
        return redirect(back, 303)
    flash(done(result) if callable(done) else done, "success")
    return redirect(then(result), 303)
