"""``/login`` and ``/logout``.  Thin: parse the form, call the accounts service."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from app.db import Database
from app.kit.registry import provided
from app.people import accounts

from .session import SessionUser

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return "/"


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        with provided(Database).unit_of_work() as uow:
            user = accounts.authenticate(uow, form.email.data or "", form.password.data or "")
            session_user = SessionUser(user) if user else None
        if session_user:
            login_user(session_user)
            return redirect(_safe_next(request.args.get("next")))
        flash("Wrong e-mail or password.", "error")
        return render_template("auth/login.html", form=form), 401
    status = 422 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
def logout():
    logout_user()
    return redirect(url_for("auth.login"))
