"""File responses: one place that names a download (``Content-Disposition``)."""

from __future__ import annotations

from collections.abc import Iterable

from flask import Response


def download(body: bytes | str | Iterable, filename: str, mimetype: str, *, inline: bool = False) -> Response:
    """``body`` (bytes, text or a stream of chunks) served as ``filename``: saved by the
    browser, or shown in it when ``inline``.  File names here are ours, plain ASCII."""
    disposition = "inline" if inline else "attachment"
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'{disposition}; filename="{filename}"'})
