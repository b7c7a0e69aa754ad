"""Browse and search cameos; a cameo's page with its offers and, for brands, the
licence-request form; the preview image."""

from __future__ import annotations

from flask import Response, render_template, request, url_for
from flask_login import current_user, login_required

from app.db import id_of
from app.errors import NotFound
from app.kit.registry import provided
from app.kit.web import acting, now, role_required, submit
from app.marketplace import cameos, licences
from app.marketplace.schemas import LicenceRequestIn
from app.marketplace.storage import FileStore
from app.validation import parse

from . import queries
from .blueprint import bp
from .forms import INTENDED_USE_HINT, LicenceRequestForm, SearchForm


@bp.get("/")
def home():
    if not current_user.is_authenticated:
        return render_template("web/welcome.html")
    form = SearchForm(formdata=request.args)
    if not form.validate():
        return render_template("web/browse.html", form=form, found=None, args={}), 422
    filters = queries.Filters(
        text=form.q.data or None,
        kind=form.kind.data or None,
        category=form.category.data or None,
        currency=form.currency.data or None,
        min_minor=form.min_minor,
        max_minor=form.max_minor,
        territory=form.territory_code,
    )
    with acting() as (uow, actor):
        found = queries.search(uow, actor, filters, form.page.data or 1)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template("web/browse.html", form=form, found=found, args=args)


def _cameo_page(cameo_id: int, form: LicenceRequestForm | None = None) -> str:
    with acting() as (uow, actor):
        cameo = cameos.get_cameo(uow, actor, cameo_id)
        offers = queries.offers_for(uow, actor, [id_of(cameo)])[id_of(cameo)]
        creator = queries.display_names(uow, [cameo.creator_id]).get(cameo.creator_id, "")
        has_consent = cameos.active_consent(uow, id_of(cameo)) is not None
        owners = cameos.owners(uow, id_of(cameo))
        names = queries.display_names(uow, [o.user_id for o in owners])
        may_request = actor.role == "brand" and cameo.status == "listed" and has_consent and bool(offers)
    if may_request and form is None:
        form = LicenceRequestForm(formdata=None, offers=offers)
        if request.args.get("offer", "").isdigit():
            form.offer_id.data = int(request.args["offer"])
    return render_template(
        "web/cameo.html",
        cameo=cameo,
        offers=offers,
        creator=creator,
        owners=owners,
        names=names,
        has_consent=has_consent,
        form=form if may_request else None,
        hint=INTENDED_USE_HINT,
    )


@bp.get("/cameos/<int:cameo_id>")
@login_required
def cameo(cameo_id: int):
    return _cameo_page(cameo_id)


@bp.post("/cameos/<int:cameo_id>/request")
@role_required("brand")
def request_licence(cameo_id: int):
    with acting() as (uow, actor):
        cameo = cameos.get_cameo(uow, actor, cameo_id)
        offers = queries.offers_for(uow, actor, [id_of(cameo)])[id_of(cameo)]
    form = LicenceRequestForm(offers=offers)

    def action(uow, actor):
        data = parse(
            LicenceRequestIn,
            {
                "intended_use": form.intended_use.data,
                "categories": form.categories.data,
                "media": form.media.data or None,
                "territories": form.territories.data or None,
            },
        )
        return licences.request_licence(uow, actor, now(), form.offer_id.data, data)

    return submit(
        form,
        action,
        page=lambda: _cameo_page(cameo_id, form),
        done=lambda lic: f"Licence #{lic.id} requested ({lic.status}).",
        then=lambda lic: url_for("web.licence", licence_id=lic.id),
        back=url_for("web.cameo", cameo_id=cameo_id),
    )


@bp.get("/cameos/<int:cameo_id>/preview")
@login_required
def preview(cameo_id: int):

    with acting() as (uow, actor):
        cameo = cameos.get_cameo(uow, actor, cameo_id)
        path, content_type = cameo.preview_path, cameo.preview_content_type
    if not path:
        raise NotFound("This cameo has no preview image.")
    return Response(
        provided(FileStore).path(path).read_bytes(),
        mimetype=content_type,
        headers={"Cache-Control": "private, max-age=300", "X-Content-Type-Options": "nosniff"},
    )
