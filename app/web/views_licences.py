"""A licence's page (terms, contract text and hash, signatures, history) and its
transitions: approve, decline, sign, revoke; the signed contract as HTML or PDF; the
brand's dashboard."""

from __future__ import annotations

from flask import render_template, url_for

from app.db import get_existing, id_of
from app.kit.downloads import download
from app.kit.registry import provided
from app.kit.web import acting, now, role_required, submit
from app.marketplace import cameos, contracts, licences
from app.marketplace.models import Cameo
from app.payments.gateway import PaymentGateway
from app.payments.licence_payments import start_licence_checkout
from app.people import audit

from . import queries
from .blueprint import bp
from .forms import ActionForm, ReasonForm, SignForm


@bp.get("/brand")
@role_required("brand")
def brand_dashboard():
    with acting() as (uow, actor):
        board = queries.dashboard(uow, actor)
    return render_template("web/brand_dashboard.html", board=board)


def _licence_page(licence_id: int, **forms) -> str:
    with acting() as (uow, actor):
        licence = licences.get_licence(uow, actor, licence_id)
        cameo = get_existing(uow.session, Cameo, licence.cameo_id)
        events = audit.events_for(uow, "licence", id_of(licence))
        names = queries.display_names(
            uow,
            [e.actor_id for e in events]
            + [cameo.creator_id, licence.requested_by]
            + [o["user_id"] for o in licence.owners],
        )
        brand = queries.organisation_names(uow, [licence.brand_org_id])[licence.brand_org_id]
        is_creator = actor.user_id == cameo.creator_id
        is_brand = actor.role == "brand" and licence.brand_org_id in actor.org_ids
        has_consent = cameos.active_consent(uow, id_of(cameo)) is not None
    mine = "creator_signature" if is_creator else "brand_signature" if is_brand else None
    may_sign = mine is not None and licence.status == "approved" and getattr(licence, mine) is None and has_consent
    if may_sign and "sign_form" not in forms:
        forms["sign_form"] = SignForm(formdata=None, contract_sha256=licence.contract_sha256)
    may_end = is_creator or actor.role == "admin"
    if may_end and "reason_form" not in forms:
        forms["reason_form"] = ReasonForm(formdata=None)
    return render_template(
        "web/licence.html",
        licence=licence,
        cameo=cameo,
        events=events,
        names=names,
        brand=brand,
        is_creator=is_creator,
        is_brand=is_brand,
        may_sign=may_sign,
        may_end=may_end,
        action=ActionForm(formdata=None),
        live=licences.LIVE,
        **forms,
    )


@bp.get("/licences/<int:licence_id>")
@role_required()
def licence(licence_id: int):
    return _licence_page(licence_id)


def _here(licence_id: int) -> str:
    return url_for("web.licence", licence_id=licence_id)


@bp.post("/licences/<int:licence_id>/approve")
@role_required("creator")
def approve_licence(licence_id: int):
    return submit(
        ActionForm(),
        lambda uow, actor: licences.approve(uow, actor, now(), licence_id),
        page=lambda: _licence_page(licence_id),
        done="Approved: the contract is ready for both signatures.",
        then=lambda _l: _here(licence_id),
        back=_here(licence_id),
    )


def _with_reason(licence_id: int, service, done: str):
    form = ReasonForm()
    return submit(
        form,
        lambda uow, actor: service(uow, actor, now(), licence_id, (form.reason.data or "").strip()),
        page=lambda: _licence_page(licence_id, reason_form=form),
        done=done,
        then=lambda _l: _here(licence_id),
        back=_here(licence_id),
    )


@bp.post("/licences/<int:licence_id>/decline")
@role_required("creator")
def decline_licence(licence_id: int):
    return _with_reason(licence_id, licences.decline, "Request declined.")


@bp.post("/licences/<int:licence_id>/revoke")
@role_required("creator", "admin")
def revoke_licence(licence_id: int):
    return _with_reason(licence_id, licences.revoke, "Revocation recorded under the contract's termination terms.")


@bp.post("/licences/<int:licence_id>/sign")
@role_required("creator", "brand")
def sign_licence(licence_id: int):
    form = SignForm()

    def done(lic) -> str:
        if lic.status == "approved":
            return "Signed. Waiting for the other party's signature."
        return f"Signed by both parties: the licence is {lic.status}."

    return submit(
        form,
        lambda uow, actor: licences.sign(uow, actor, now(), licence_id, form.contract_sha256.data or ""),
        page=lambda: _licence_page(licence_id, sign_form=form),
        done=done,
        then=lambda _l: _here(licence_id),
        back=_here(licence_id),
    )


@bp.post("/licences/<int:licence_id>/pay")
@role_required("brand")
def pay_licence_fee(licence_id: int):
    """Send the licensee brand to Stripe Checkout for the upfront fee; back to this page after."""
    here = url_for("web.licence", licence_id=licence_id, _external=True)
    return submit(
        ActionForm(),
        lambda uow, actor: start_licence_checkout(
            uow, actor, now(), licence_id, provided(PaymentGateway), success_url=f"{here}?paid=1", cancel_url=here
        ),
        page=lambda: _licence_page(licence_id),
        done="Opening Stripe Checkout: the licence becomes active once Stripe confirms the payment.",
        then=lambda started: started.url or _here(licence_id),
        back=_here(licence_id),
    )


@bp.get("/licences/<int:licence_id>/contract.html")
@role_required()
def contract_html(licence_id: int):
    with acting() as (uow, actor):
        html = contracts.as_html(licences.signed_contract(uow, actor, licence_id))
    return download(html, f"licence-{licence_id}.html", "text/html", inline=True)


@bp.get("/licences/<int:licence_id>/contract.pdf")
@role_required()
def contract_pdf(licence_id: int):
    with acting() as (uow, actor):
        pdf = contracts.as_pdf(licences.signed_contract(uow, actor, licence_id), now=now())
    return download(pdf, f"licence-{licence_id}.pdf", "application/pdf")
