"""The JSON API under /api/v1: bearer-token authentication, pydantic request and
response models (flask-openapi3), an OpenAPI 3.1 document at /api/v1/openapi.json,
RFC 9457 problem+json errors (validation errors of the library included) and cursor
pagination."""
from __future__ import annotations

from flask import Flask, jsonify
from flask_openapi3 import Info

from app.marketplace.schemas import validation_problem

from .models import ProblemOut

SECURITY_SCHEMES = {"bearer": {"type": "http", "scheme": "bearer",
                               "description": "An API token (cx_…) issued at POST /api/v1/tokens or in the web UI."}}


def _raise_problem(exc):
    raise validation_problem(exc)


def openapi_document(app: Flask) -> dict:
    doc = app.api_doc
    doc["components"]["schemas"].pop("ValidationErrorModel", None)
    return doc


def init_app(app: Flask) -> None:
    from .ratelimit import limit_api
    from .routes import api

    app.info = Info(title="Cameo Exchange API", version="1.0.0",
                    description="Cameos, consent, contract templates, offers and licences.")
    app.security_schemes = SECURITY_SCHEMES
    app.validation_error_callback = _raise_problem
    app.validation_error_model = ProblemOut
    limit_api(app, api)
    app.register_api(api)

    @app.get("/api/v1/openapi.json")
    def openapi_json():
        return jsonify(openapi_document(app))
