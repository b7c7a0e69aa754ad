"""The creator's pages: dashboard (with payouts and statements), Stripe Connect
onboarding, a new cameo, and one cameo's management page (permissions, co-owners,
consent, listing, offers)."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, url_for
from flask_login import current_user

from app.db import get_existing, id_of
from app.errors import Problem, ValidationProblem
from app.kit.registry import provided
from app.kit.web import acting, now, role_required, submit
from app.marketplace import cameos, consent, offers, templates
from app.marketplace.schemas import CameoIn, CameoPatch, ConsentIn, OfferIn, OwnersIn
from app.marketplace.storage import FileStore
from app.payments import connect
from app.payments.gateway import PaymentGateway
from app.people.models import User
from app.statements import service as statements
from app.validation import parse

from . import queries
from .blueprint import bp
from .forms import (
    ActionForm,
    CameoForm,
    ConsentForm,
    OfferForm,
    OwnersForm,
    PermissionsForm,
)


@bp.get("/dashboard")
@role_required()
def dashboard():
    target = {"creator": "web.creator_dashboard", "brand": "web.brand_dashboard"}.get(current_user.role, "web.overview")
    return redirect(url_for(target))


@bp.get("/creator")
@role_required("creator")
def creator_dashboard():
    with acting() as (uow, actor):
        board = queries.dashboard(uow, actor)
        payouts = connect.payouts_panel(uow, actor)
        months = statements.periods(uow, actor, actor.user_id)
    return render_template(
        "web/creator_dashboard.html", board=board, action=ActionForm(formdata=None), payouts=payouts, months=months
    )


def _payouts_panel() -> str:
    return url_for("web.creator_dashboard") + "#payouts"


def _onboarding_link():
    """Create (once) the Stripe account and go to a fresh onboarding link; a refusal is flashed."""
    try:
        with acting() as (uow, actor):
            link = connect.start_onboarding(
                uow,
                actor,
                now(),
                provided(PaymentGateway),
                return_url=url_for("web.stripe_onboarding_return", _external=True),
                refresh_url=url_for("web.stripe_onboarding_refresh", _external=True),
            )
            uow.commit()
    except Problem as problem:
        flash(problem.detail or problem.title, "error")
        return redirect(_payouts_panel(), 303)
    return redirect(link.url, 303)


@bp.post("/creator/payouts/connect")
@role_required("creator")
def connect_stripe():
    if not ActionForm().validate_on_submit():
        flash("The form expired; try again.", "error")
        return redirect(_payouts_panel(), 303)
    return _onboarding_link()


@bp.get("/creator/payouts/refresh")
@role_required("creator")
def stripe_onboarding_refresh():
    """Stripe sends the creator here when an onboarding link has expired: hand out a new one."""
    return _onboarding_link()


@bp.get("/creator/payouts/return")
@role_required("creator")
def stripe_onboarding_return():
    """Back from Stripe: ask Stripe what the account looks like now (returning proves nothing)."""
    try:
        with acting() as (uow, actor):
            status = connect.refresh_account(uow, actor, now(), provided(PaymentGateway))
            uow.commit()
    except Problem as problem:
        flash(f"{problem.detail or problem.title} Your payout status updates when Stripe tells us.", "error")
        return redirect(_payouts_panel(), 303)
    flash(
        "Payouts are enabled: you will be paid in the next payout run."
        if status.can_pay
        else f"Payouts are on hold. {status.hold_reason}",
        "success" if status.can_pay else "error",
    )
    return redirect(_payouts_panel(), 303)


def _upload(form_field, limit_key: str) -> bytes | None:
    upload = form_field.data
    if not upload or not getattr(upload, "filename", ""):
        return None
    return upload.stream.read(current_app.config[limit_key] + 1)


@bp.route("/creator/cameos/new", methods=["GET", "POST"])
@role_required("creator")
def new_cameo():
    form = CameoForm()
    page = lambda: render_template("web/new_cameo.html", form=form)  # noqa: E731
    if not form.is_submitted():
        return page()

    def action(uow, actor):
        data = parse(
            CameoIn,
            {
                "kind": form.kind.data,
                "title": form.title.data,
                "description": form.description.data or "",
                "visibility": form.visibility.data,
                "blocked_categories": form.blocked_categories.data,
            },
        )
        cameo = cameos.create_cameo(uow, actor, now(), data)
        picture = _upload(form.preview, "PREVIEW_MAX_BYTES")
        if picture is not None:
            cameos.upload_preview(
                uow,
                actor,
                now(),
                id_of(cameo),
                picture,
                store=provided(FileStore),
                max_bytes=current_app.config["PREVIEW_MAX_BYTES"],
            )
        return cameo

    return submit(
        form,
        action,
        page=page,
        aliases={"file": "preview"},
        done=lambda c: f"“{c.title}” created. Record consent to list it.",
        then=lambda c: url_for("web.manage_cameo", cameo_id=c.id),
        back=url_for("web.new_cameo"),
    )


def _manage_page(cameo_id: int, **forms) -> str:
    """One cameo's management page; ``forms`` holds the submitted form (with its errors)."""
    with acting() as (uow, actor):
        cameo = cameos.get_managed_cameo(uow, actor, cameo_id)
        owners = cameos.owners(uow, id_of(cameo))
        names = queries.display_names(uow, [o.user_id for o in owners])
        emails = {o.user_id: get_existing(uow.session, User, o.user_id).email for o in owners}
        orgs = queries.organisations(uow)
        brand_ids = cameos.approved_brand_ids(uow, id_of(cameo))
        current = cameos.active_consent(uow, id_of(cameo))
        statement = consent.statement(uow, actor, id_of(cameo)) if current is None else None
        published = templates.list_templates(uow, actor, cursor=None, limit=100).items
        cameo_offers = offers.list_offers(uow, actor, cursor=None, limit=100, cameo_id=cameo.id).items
    if "permissions" not in forms:
        forms["permissions"] = PermissionsForm(
            formdata=None,
            organisations=orgs,
            visibility=cameo.visibility,
            approved_brand_ids=brand_ids,
            blocked_categories=list(cameo.blocked_categories),
        )
    if "owners_form" not in forms:
        forms["owners_form"] = OwnersForm(
            formdata=None,
            data={
                "owners": [
                    {"email": emails[o.user_id], "share": f"{o.share_bps / 100:g}"}
                    for o in owners
                    if o.user_id != cameo.creator_id
                ]
            },
        )
    if "consent_form" not in forms and statement:
        forms["consent_form"] = ConsentForm(formdata=None, statement_sha256=statement[1])
    if "offer_form" not in forms:
        forms["offer_form"] = OfferForm(formdata=None, templates=published)
    return render_template(
        "web/manage_cameo.html",
        cameo=cameo,
        owners=owners,
        names=names,
        consent=current,
        statement=statement,
        offers=cameo_offers,
        action=ActionForm(formdata=None),
        templates={t.id: t for t in published},
        **forms,
    )


@bp.get("/creator/cameos/<int:cameo_id>")
@role_required("creator")
def manage_cameo(cameo_id: int):
    return _manage_page(cameo_id)


def _here(cameo_id: int, anchor: str = "") -> str:
    return url_for("web.manage_cameo", cameo_id=cameo_id) + (f"#{anchor}" if anchor else "")


@bp.post("/creator/cameos/<int:cameo_id>/permissions")
@role_required("creator")
def cameo_permissions(cameo_id: int):
    with acting() as (uow, _actor):
        orgs = queries.organisations(uow)
    form = PermissionsForm(organisations=orgs)
    return submit(
        form,
        lambda uow, actor: cameos.update_cameo(
            uow,
            actor,
            now(),
            cameo_id,
            parse(
                CameoPatch,
                {
                    "visibility": form.visibility.data,
                    "approved_brand_ids": form.approved_brand_ids.data,
                    "blocked_categories": form.blocked_categories.data,
                },
            ),
        ),
        page=lambda: _manage_page(cameo_id, permissions=form),
        done="Permissions saved.",
        then=lambda _c: _here(cameo_id, "permissions"),
        back=_here(cameo_id, "permissions"),
    )


@bp.post("/creator/cameos/<int:cameo_id>/owners")
@role_required("creator")
def cameo_owners(cameo_id: int):
    form = OwnersForm()

    def action(uow, actor):
        rows = [(i, row, email) for i, row in enumerate(form.owners.entries) if (email := row.form.email.data)]
        found = queries.creator_ids_by_email(uow, [email for _, _, email in rows])
        shares = []
        for index, row, email in rows:
            user_id = found.get(email.strip().lower())
            if user_id is None:
                raise ValidationProblem(errors={f"owners.{index}": f"{email} is not an active creator"})
            shares.append({"user_id": user_id, "share_bps": row.form.share_bps()})
        mine = 10_000 - sum(s["share_bps"] for s in shares)
        if mine <= 0:
            raise ValidationProblem(errors={"owners": "the co-owners' shares must leave you more than 0 %"})
        data = parse(OwnersIn, {"owners": [{"user_id": actor.user_id, "share_bps": mine}, *shares]})
        return cameos.set_owners(uow, actor, now(), cameo_id, data)

    return submit(
        form,
        action,
        page=lambda: _manage_page(cameo_id, owners_form=form),
        done="Owners saved.",
        then=lambda _o: _here(cameo_id, "owners"),
        back=_here(cameo_id, "owners"),
    )


@bp.post("/creator/cameos/<int:cameo_id>/consent")
@role_required("creator")
def record_consent(cameo_id: int):
    form = ConsentForm()

    def action(uow, actor):
        signed = parse(
            ConsentIn,
            {"accept_statement": bool(form.accept_statement.data), "statement_sha256": form.statement_sha256.data},
        )
        return consent.record_consent(
            uow,
            actor,
            now(),
            cameo_id,
            signed,
            _upload(form.recording, "RECORDING_MAX_BYTES") or b"",
            store=provided(FileStore),
            max_bytes=current_app.config["RECORDING_MAX_BYTES"],
        )

    return submit(
        form,
        action,
        page=lambda: _manage_page(cameo_id, consent_form=form),
        done="Consent recorded. You can now list the cameo.",
        then=lambda _c: _here(cameo_id, "consent"),
        back=_here(cameo_id, "consent"),
    )


def _button(cameo_id: int, service, done: str, anchor: str):
    return submit(
        ActionForm(),
        lambda uow, actor: service(uow, actor, now(), cameo_id),
        page=lambda: _manage_page(cameo_id),
        done=done,
        then=lambda _r: _here(cameo_id, anchor),
        back=_here(cameo_id, anchor),
    )


@bp.post("/creator/cameos/<int:cameo_id>/consent/withdraw")
@role_required("creator")
def withdraw_consent(cameo_id: int):
    return _button(
        cameo_id,
        consent.withdraw_consent,
        "Consent withdrawn: the listing is paused and live licences end under their terms.",
        "consent",
    )


@bp.post("/creator/cameos/<int:cameo_id>/list")
@role_required("creator")
def list_cameo(cameo_id: int):
    return _button(cameo_id, cameos.list_cameo, "The cameo is listed.", "status")


@bp.post("/creator/cameos/<int:cameo_id>/pause")
@role_required("creator")
def pause_cameo(cameo_id: int):
    return _button(cameo_id, cameos.pause_cameo, "The listing is paused.", "status")


@bp.post("/creator/cameos/<int:cameo_id>/offers")
@role_required("creator")
def create_offer(cameo_id: int):
    with acting() as (uow, actor):
        published = templates.list_templates(uow, actor, cursor=None, limit=100).items
    form = OfferForm(templates=published)
    return submit(
        form,
        lambda uow, actor: offers.create_offer(
            uow,
            actor,
            now(),
            cameo_id,
            parse(OfferIn, form.offer_data()),
            commission_bps=current_app.config["COMMISSION_BPS"],
        ),
        page=lambda: _manage_page(cameo_id, offer_form=form),
        done=lambda o: f"Offer #{o.id} is open.",
        then=lambda _o: _here(cameo_id, "offers"),
        back=_here(cameo_id, "offers"),
    )


@bp.post("/creator/offers/<int:offer_id>/withdraw")
@role_required("creator")
def withdraw_offer(offer_id: int):
    with acting() as (uow, actor):
        cameo_id = offers.get_offer(uow, actor, offer_id).cameo_id
    return submit(
        ActionForm(),
        lambda uow, actor: offers.withdraw_offer(uow, actor, now(), offer_id),
        page=lambda: _manage_page(cameo_id),
        done=f"Offer #{offer_id} withdrawn.",
        then=lambda _o: _here(cameo_id, "offers"),
        back=_here(cameo_id, "offers"),
    )
