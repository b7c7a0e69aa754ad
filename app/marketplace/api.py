"""/api/v1 marketplace routes: cameos, consent, templates, offers and licences.

Thin: flask-openapi3 validates the request against the pydantic models, the route
calls one service for the token's user (``app.kit.api.call``) and renders its result."""

from __future__ import annotations

from flask import Response, current_app, request
from flask_openapi3 import Tag
from flask_openapi3.types import ResponseDict

from app.db import id_of
from app.errors import Problem
from app.kit.api import AuditList, PageQuery, ProblemOut, api_blueprint, audit_out, authenticate, call, paged
from app.kit.downloads import download
from app.kit.registry import provided
from app.kit.web import now
from app.marketplace import cameos, consent, contracts, licences, offers, templates
from app.marketplace.models import Cameo, Consent, ContractTemplate, Licence, Offer
from app.marketplace.schemas import (
    CameoIn,
    CameoPatch,
    ConsentIn,
    LicenceRequestIn,
    OfferIn,
    OwnersIn,
    ReasonIn,
    SignIn,
    TemplateIn,
)
from app.marketplace.storage import FileStore

from . import api_models as m

api = api_blueprint("api_v1", __name__)
api.before_request(authenticate)
UPLOAD_PROBLEMS: ResponseDict = {413: ProblemOut, 415: ProblemOut}
T_CAMEO, T_TPL = Tag(name="cameos"), Tag(name="templates")
T_OFFER, T_LIC = Tag(name="offers"), Tag(name="licences")


class Unauthorised(Problem):
    status = 401
    title = "Unauthorised"


# --- renderers ------------------------------------------------------------------------


def cameo_out(uow, cameo: Cameo) -> dict:
    return m.CameoOut(
        **cameo.model_dump(exclude={"preview_path"}),
        approved_brand_ids=cameos.approved_brand_ids(uow, id_of(cameo)),
        owners=[{"user_id": o.user_id, "share_bps": o.share_bps} for o in cameos.owners(uow, id_of(cameo))],
        has_consent=cameos.active_consent(uow, id_of(cameo)) is not None,
    ).model_dump(mode="json")


def consent_out(_uow, row: Consent | None) -> dict:
    if row is None:
        raise Problem("No consent is on record for this cameo.", status=404, title="Not found")
    return m.ConsentOut.model_validate(row, from_attributes=True).model_dump(mode="json")


def template_out(_uow, template: ContractTemplate) -> dict:
    return m.TemplateOut.model_validate(template, from_attributes=True).model_dump(mode="json")


def _terms(row: Offer | Licence) -> dict:
    fields = row.model_dump()
    fields["upfront_fee"] = {"amount_minor": row.upfront_fee_minor, "currency": row.currency}
    fields["advance"] = {"amount_minor": row.advance_minor, "currency": row.currency}
    fields["per_use_royalty"] = {"amount_minor": row.per_use_royalty_minor, "currency": row.currency}
    return fields


def offer_out(_uow, offer: Offer) -> dict:
    return m.OfferOut(**_terms(offer)).model_dump(mode="json")


def licence_out(_uow, licence: Licence) -> dict:
    fields = _terms(licence)
    fields["creator_signed_at"] = (licence.creator_signature or {}).get("signed_at")
    fields["brand_signed_at"] = (licence.brand_signature or {}).get("signed_at")
    return m.LicenceOut(**fields).model_dump(mode="json")


# --- account and tokens -----------------------------------------------------------------

# --- cameos -----------------------------------------------------------------------------


@api.get("/cameos", tags=[T_CAMEO], responses={200: m.CameoPage})
def list_cameos(query: PageQuery):
    return call(cameos.list_cameos, cursor=query.cursor, limit=query.limit, render=paged(cameo_out))


@api.post("/cameos", tags=[T_CAMEO], responses={201: m.CameoOut})
def create_cameo(body: CameoIn):
    return call(
        lambda uow, actor: cameos.create_cameo(uow, actor, now(), body), render=cameo_out, http_status=201, write=True
    )


@api.get("/cameos/<int:cameo_id>", tags=[T_CAMEO], responses={200: m.CameoOut})
def get_cameo(path: m.CameoPath):
    return call(cameos.get_cameo, path.cameo_id, render=cameo_out)


@api.patch("/cameos/<int:cameo_id>", tags=[T_CAMEO], responses={200: m.CameoOut})
def update_cameo(path: m.CameoPath, body: CameoPatch):
    return call(
        lambda uow, actor: cameos.update_cameo(uow, actor, now(), path.cameo_id, body), render=cameo_out, write=True
    )


@api.put("/cameos/<int:cameo_id>/owners", tags=[T_CAMEO], responses={200: m.OwnerList})
def set_owners(path: m.CameoPath, body: OwnersIn):
    return call(
        lambda uow, actor: cameos.set_owners(uow, actor, now(), path.cameo_id, body),
        render=lambda _u, rows: {"items": [{"user_id": o.user_id, "share_bps": o.share_bps} for o in rows]},
        write=True,
    )


def _upload(field: str, limit_key: str) -> bytes:
    """The uploaded file's bytes, read up to one byte past the limit (the service says what is wrong)."""
    upload = request.files[field]
    return upload.stream.read(current_app.config[limit_key] + 1)


@api.put("/cameos/<int:cameo_id>/preview", tags=[T_CAMEO], responses={200: m.CameoOut, **UPLOAD_PROBLEMS})
def upload_preview(path: m.CameoPath, form: m.PreviewForm):
    data = _upload("file", "PREVIEW_MAX_BYTES")
    return call(
        lambda uow, actor: cameos.upload_preview(
            uow,
            actor,
            now(),
            path.cameo_id,
            data,
            store=provided(FileStore),
            max_bytes=current_app.config["PREVIEW_MAX_BYTES"],
        ),
        render=cameo_out,
        write=True,
    )


@api.get(
    "/cameos/<int:cameo_id>/preview",
    tags=[T_CAMEO],
    responses={
        200: {
            "description": "The preview image",
            "content": {
                t: {"schema": {"type": "string", "format": "binary"}} for t in ("image/png", "image/jpeg", "image/webp")
            },
        }
    },
)
def get_preview(path: m.CameoPath):
    (stored, content_type), _ = call(
        cameos.get_cameo, path.cameo_id, render=lambda _u, c: (c.preview_path, c.preview_content_type)
    )
    if not stored:
        raise Problem("This cameo has no preview image.", status=404, title="Not found")
    return Response(provided(FileStore).path(stored).read_bytes(), mimetype=content_type)


@api.post("/cameos/<int:cameo_id>/list", tags=[T_CAMEO], responses={200: m.CameoOut})
def list_cameo(path: m.CameoPath):
    return call(lambda uow, actor: cameos.list_cameo(uow, actor, now(), path.cameo_id), render=cameo_out, write=True)


@api.post("/cameos/<int:cameo_id>/pause", tags=[T_CAMEO], responses={200: m.CameoOut})
def pause_cameo(path: m.CameoPath):
    return call(lambda uow, actor: cameos.pause_cameo(uow, actor, now(), path.cameo_id), render=cameo_out, write=True)


@api.get("/cameos/<int:cameo_id>/consent/statement", tags=[T_CAMEO], responses={200: m.StatementOut})
def consent_statement(path: m.CameoPath):
    return call(consent.statement, path.cameo_id, render=lambda _u, s: {"text": s[0], "sha256": s[1]})


@api.get("/cameos/<int:cameo_id>/consent", tags=[T_CAMEO], responses={200: m.ConsentOut})
def get_consent(path: m.CameoPath):
    return call(consent.current, path.cameo_id, render=consent_out)


@api.post("/cameos/<int:cameo_id>/consent", tags=[T_CAMEO], responses={201: m.ConsentOut, **UPLOAD_PROBLEMS})
def record_consent(path: m.CameoPath, form: m.ConsentForm):
    data = _upload("recording", "RECORDING_MAX_BYTES")
    signed = ConsentIn(accept_statement=form.accept_statement, statement_sha256=form.statement_sha256)
    return call(
        lambda uow, actor: consent.record_consent(
            uow,
            actor,
            now(),
            path.cameo_id,
            signed,
            data,
            store=provided(FileStore),
            max_bytes=current_app.config["RECORDING_MAX_BYTES"],
        ),
        render=consent_out,
        http_status=201,
        write=True,
    )


@api.post("/cameos/<int:cameo_id>/consent/withdraw", tags=[T_CAMEO], responses={200: m.ConsentOut})
def withdraw_consent(path: m.CameoPath):
    return call(
        lambda uow, actor: consent.withdraw_consent(uow, actor, now(), path.cameo_id), render=consent_out, write=True
    )


# --- templates --------------------------------------------------------------------------


@api.get("/templates", tags=[T_TPL], responses={200: m.TemplatePage})
def list_templates(query: PageQuery):
    return call(templates.list_templates, cursor=query.cursor, limit=query.limit, render=paged(template_out))


@api.get("/templates/<int:template_id>", tags=[T_TPL], responses={200: m.TemplateOut})
def get_template(path: m.TemplatePath):
    return call(templates.get_template, path.template_id, render=template_out)


@api.post("/templates", tags=[T_TPL], responses={201: m.TemplateOut})
def publish_template(body: TemplateIn):
    return call(
        lambda uow, actor: templates.publish_version(uow, actor, now(), body),
        render=template_out,
        http_status=201,
        write=True,
    )


# --- offers -----------------------------------------------------------------------------


@api.get("/offers", tags=[T_OFFER], responses={200: m.OfferPage})
def list_offers(query: m.OfferQuery):
    return call(
        offers.list_offers, cursor=query.cursor, limit=query.limit, cameo_id=query.cameo_id, render=paged(offer_out)
    )


@api.post("/cameos/<int:cameo_id>/offers", tags=[T_OFFER], responses={201: m.OfferOut})
def create_offer(path: m.CameoPath, body: OfferIn):
    return call(
        lambda uow, actor: offers.create_offer(
            uow, actor, now(), path.cameo_id, body, commission_bps=current_app.config["COMMISSION_BPS"]
        ),
        render=offer_out,
        http_status=201,
        write=True,
    )


@api.get("/offers/<int:offer_id>", tags=[T_OFFER], responses={200: m.OfferOut})
def get_offer(path: m.OfferPath):
    return call(offers.get_offer, path.offer_id, render=offer_out)


@api.post("/offers/<int:offer_id>/withdraw", tags=[T_OFFER], responses={200: m.OfferOut})
def withdraw_offer(path: m.OfferPath):
    return call(
        lambda uow, actor: offers.withdraw_offer(uow, actor, now(), path.offer_id), render=offer_out, write=True
    )


@api.post("/offers/<int:offer_id>/licences", tags=[T_LIC], responses={201: m.LicenceOut})
def request_licence(path: m.OfferPath, body: LicenceRequestIn):
    return call(
        lambda uow, actor: licences.request_licence(uow, actor, now(), path.offer_id, body),
        render=licence_out,
        http_status=201,
        write=True,
    )


# --- licences ---------------------------------------------------------------------------


@api.get("/licences", tags=[T_LIC], responses={200: m.LicencePage})
def list_licences(query: m.LicenceQuery):
    return call(
        licences.list_licences, cursor=query.cursor, limit=query.limit, status=query.status, render=paged(licence_out)
    )


@api.get("/licences/<int:licence_id>", tags=[T_LIC], responses={200: m.LicenceOut})
def get_licence(path: m.LicencePath):
    return call(licences.get_licence, path.licence_id, render=licence_out)


@api.post("/licences/<int:licence_id>/approve", tags=[T_LIC], responses={200: m.LicenceOut})
def approve_licence(path: m.LicencePath):
    return call(lambda uow, actor: licences.approve(uow, actor, now(), path.licence_id), render=licence_out, write=True)


@api.post("/licences/<int:licence_id>/decline", tags=[T_LIC], responses={200: m.LicenceOut})
def decline_licence(path: m.LicencePath, body: ReasonIn):
    return call(
        lambda uow, actor: licences.decline(uow, actor, now(), path.licence_id, body.reason),
        render=licence_out,
        write=True,
    )


@api.post("/licences/<int:licence_id>/sign", tags=[T_LIC], responses={200: m.LicenceOut})
def sign_licence(path: m.LicencePath, body: SignIn):
    return call(
        lambda uow, actor: licences.sign(uow, actor, now(), path.licence_id, body.contract_sha256),
        render=licence_out,
        write=True,
    )


@api.post("/licences/<int:licence_id>/revoke", tags=[T_LIC], responses={200: m.LicenceOut})
def revoke_licence(path: m.LicencePath, body: ReasonIn):
    return call(
        lambda uow, actor: licences.revoke(uow, actor, now(), path.licence_id, body.reason),
        render=licence_out,
        write=True,
    )


@api.get("/licences/<int:licence_id>/history", tags=[T_LIC], responses={200: AuditList})
def licence_history(path: m.LicencePath):
    return call(
        licences.history, path.licence_id, render=lambda uow, rows: {"items": [audit_out(uow, e) for e in rows]}
    )


def _rendered(_uow, licence: Licence) -> dict:
    if licence.contract_text is None:
        raise Problem("The contract is rendered when the licence is approved.", status=409, title="Conflict")
    return {"licence_id": licence.id, "text": licence.contract_text, "sha256": licence.contract_sha256}


@api.get("/licences/<int:licence_id>/contract", tags=[T_LIC], responses={200: m.ContractOut})
def licence_contract(path: m.LicencePath):
    return call(licences.get_licence, path.licence_id, render=_rendered)


@api.get(
    "/licences/<int:licence_id>/contract.html",
    tags=[T_LIC],
    responses={200: {"description": "The signed contract", "content": {"text/html": {"schema": {"type": "string"}}}}},
)
def licence_contract_html(path: m.LicencePath):
    html, _ = call(licences.signed_contract, path.licence_id, render=lambda _u, lic: contracts.as_html(lic))
    return Response(html, mimetype="text/html")


@api.get(
    "/licences/<int:licence_id>/contract.pdf",
    tags=[T_LIC],
    responses={
        200: {
            "description": "The signed contract",
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
def licence_contract_pdf(path: m.LicencePath):
    pdf, _ = call(licences.signed_contract, path.licence_id, render=lambda _u, lic: contracts.as_pdf(lic, now=now()))
    return download(pdf, f"licence-{path.licence_id}.pdf", "application/pdf")
