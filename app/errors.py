"""Errors as RFC 9457 problem details.

Services raise ``Problem`` (or a subclass) with an HTTP status and, for bad input,
field-level messages; routes never build error bodies themselves.  API paths
(``/api/…``) and clients that ask for JSON get ``application/problem+json``; the web
UI gets an HTML page.  The ledger's ``PeriodClosed`` (an entry that would land in a
closed month) is a 409 ``period_closed`` problem wherever it happens.  Unexpected
exceptions become a 500 problem without details — the traceback goes to the log,
never to the client.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, json, render_template, request
from werkzeug.exceptions import HTTPException

from ledger import PeriodClosed

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"


class Problem(Exception):
    status = 400
    title = "Bad request"

    def __init__(
        self,
        detail: str = "",
        *,
        status: int | None = None,
        title: str | None = None,
        errors: Mapping[str, str] | None = None,
        type: str = "about:blank",
        **extra: Any,
    ):
        super().__init__(detail or title or self.title)
        self.detail = detail
        self.status = status or self.status
        self.title = title or self.title
        self.errors = dict(errors or {})
        self.type = type
        self.extra = extra

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"type": self.type, "title": self.title, "status": self.status}
        if self.detail:
            body["detail"] = self.detail
        if self.errors:
            body["errors"] = self.errors
        body.update(self.extra)
        return body


class ValidationProblem(Problem):
    status = 422
    title = "Invalid input"


class NotFound(Problem):
    status = 404
    title = "Not found"


class Forbidden(Problem):
    status = 403
    title = "Forbidden"


class Conflict(Problem):
    status = 409
    title = "Conflict"


JSON_PATHS = ("/api/", "/webhooks/", "/healthz", "/.well-known/")


def wants_json() -> bool:
    if request.path.startswith(JSON_PATHS):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json", PROBLEM_JSON])
    return best in ("application/json", PROBLEM_JSON)


def problem_response(problem: Problem) -> Response:
    response = Response(json.dumps(problem.body()), status=problem.status, mimetype=PROBLEM_JSON)
    if problem.status == 405 and "allow" in problem.extra:
        response.headers["Allow"] = ", ".join(problem.extra["allow"])
    if "retry_after" in problem.extra:
        response.headers["Retry-After"] = str(problem.extra["retry_after"])
    return response


def render_problem(problem: Problem):
    """The problem as the client wants it: problem+json for the API and JSON clients, else a page."""
    if wants_json():
        return problem_response(problem)
    return render_template("error.html", problem=problem), problem.status


class PeriodClosedProblem(Conflict):
    title = "Accounting period closed"


def init_app(app: Flask) -> None:
    # The ledger's refusals that a request can run into, translated here, at the one boundary.
    @app.errorhandler(PeriodClosed)
    def _period_closed(exc: PeriodClosed):
        return render_problem(
            PeriodClosedProblem(
                f"This would be booked in a closed accounting period ({exc}); nothing was recorded. "
                "Corrections go into the next open period.",
                code="period_closed",
            )
        )

    @app.errorhandler(Problem)
    def _problem(exc: Problem):
        return render_problem(exc)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        valid_methods = getattr(exc, "valid_methods", None)  # a MethodNotAllowed's
        problem = Problem(exc.description or "", status=exc.code or 500, title=exc.name)
        if exc.code == 405 and valid_methods:
            problem.extra["allow"] = list(valid_methods)
        return render_problem(problem)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        return render_problem(
            Problem(
                "The server hit an unexpected error; it has been logged.", status=500, title="Internal server error"
            )
        )
