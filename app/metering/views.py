"""Public endpoints: the platform's receipt keys and the receipt verification page.
No login: anyone holding a receipt (or finding one in a C2PA manifest) can check it."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request

from app.clock import Clock
from app.db import Database
from app.kit.registry import provided

from .receipts import KeyStore
from .verification import verify_receipt

bp = Blueprint("metering_public", __name__, template_folder="templates")


@bp.get("/.well-known/cameo-receipt-keys.json")
def receipt_keys():
    response = jsonify(provided(KeyStore).jwks())
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _wants_json() -> bool:
    if request.args.get("format") == "json":
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


@bp.get("/verify/<path:receipt>")
def verify(receipt: str):
    with provided(Database).unit_of_work() as uow:
        result = verify_receipt(uow, provided(KeyStore), receipt[:8192], provided(Clock)())
    if _wants_json():
        response = jsonify(result)
        response.headers["Access-Control-Allow-Origin"] = "*"
        return response
    return render_template("metering/verify.html", result=result)
