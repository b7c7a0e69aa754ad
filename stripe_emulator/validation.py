"""Contract checks: requests and responses against the spec's JSON Schemas.

OpenAPI 3.0 schemas are *almost* JSON Schema. :func:`to_json_schema` fixes the
one difference that matters here, ``nullable: true``, and — for request schemas
only — closes nested objects (``additionalProperties: false`` where the spec
lists ``properties`` and says nothing), because Stripe rejects unknown nested
parameters just as it rejects unknown top-level ones.

Validators are Draft 7, with the (converted) ``components`` attached to every
root schema so ``#/components/schemas/...`` references resolve. They are
compiled lazily, once per operation, and cached on the
:class:`~stripe_emulator.spec.Operation`; the components are converted once per
spec on first use.

Failures become Stripe's ``invalid_request_error`` with the offending ``param``
in Stripe's bracket notation (``line_items[0][price_data][currency]``).
"""

from __future__ import annotations

import threading
from typing import Any

from jsonschema import Draft7Validator
from jsonschema.exceptions import ValidationError, best_match

from .errors import StripeError
from .forms import coerce, stripe_param_name
from .spec import OpenAPISpec, Operation

# Parameters newer than the 2024-04-10 spec that this project really sends.
# Key: (method, path template); value: {param name: JSON Schema}. Each entry needs
# a comment naming who sends it and since which Stripe API version it exists.
# Empty today: neither stripe-python 16.x on its own nor app.payments sends any.
NEWER_PARAMS_ALLOWED: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}


def to_json_schema(node: Any, *, close_objects: bool = False) -> Any:
    """Rewrite OpenAPI 3.0 ``nullable`` into JSON Schema (recursively)."""
    if isinstance(node, list):
        return [to_json_schema(item, close_objects=close_objects) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {
        key: value if key in ("enum", "required") else to_json_schema(value, close_objects=close_objects)
        for key, value in node.items()
        if key not in ("description", "nullable", "x-expansionResources")
    }
    if properties_is_schema_map(node) and close_objects and "additionalProperties" not in node:
        converted["additionalProperties"] = False
    if node.get("nullable"):
        converted = _allow_null(converted)
    return converted


def properties_is_schema_map(node: dict[str, Any]) -> bool:
    return isinstance(node.get("properties"), dict) and node.get("type", "object") == "object"


def _allow_null(schema: dict[str, Any]) -> dict[str, Any]:
    if "enum" in schema:
        schema["enum"] = [*schema["enum"], None]
    if "anyOf" in schema:
        schema["anyOf"] = [*schema["anyOf"], {"type": "null"}]
        return schema
    declared = schema.get("type")
    if declared:
        types = declared if isinstance(declared, list) else [declared]
        schema["type"] = [*types, "null"]
        return schema
    return {"anyOf": [schema, {"type": "null"}]}


class ContractChecker:
    """Compiles and applies the spec's schemas; one per spec, shared by threads."""

    def __init__(self, spec: OpenAPISpec):
        self.spec = spec
        self._lock = threading.Lock()
        self._components: dict[str, Any] | None = None

    # -- schema plumbing -------------------------------------------------------
    @property
    def components(self) -> dict[str, Any]:
        with self._lock:
            if self._components is None:
                self._components = to_json_schema(self.spec.components)
            return self._components

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        """Follow ``$ref`` chains to the referenced (converted) schema."""
        while "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            schema = self.components["schemas"][name]
        return schema

    def _validator(self, schema: dict[str, Any]) -> Draft7Validator:
        return Draft7Validator({**schema, "components": self.components})

    def _cached(self, op: Operation, key: str, build) -> Any:
        with self._lock:
            if key in op.cache:
                return op.cache[key]
        built = build()
        with self._lock:
            return op.cache.setdefault(key, built)

    def request_schema(self, op: Operation) -> dict[str, Any]:
        """The JSON Schema of the operation's form body or query string."""

        def build() -> dict[str, Any]:
            if op.method == "get" or (op.method == "delete" and not op.form_schema):
                schema = {
                    "type": "object",
                    "properties": {p["name"]: p.get("schema", {}) for p in op.query_parameters},
                    "required": [p["name"] for p in op.query_parameters if p.get("required")],
                    "additionalProperties": False,
                }
            else:
                schema = op.form_schema or {"type": "object", "additionalProperties": False}
            schema = to_json_schema(schema, close_objects=True)
            extra = NEWER_PARAMS_ALLOWED.get((op.method, op.template))
            if extra:
                schema["properties"] = {**schema.get("properties", {}), **extra}
            return schema

        return self._cached(op, "request_schema", build)

    # -- checks ----------------------------------------------------------------
    def coerce_request(self, op: Operation, params: dict[str, Any]) -> dict[str, Any]:
        return coerce(params, self.request_schema(op), self.resolve)

    def check_request(self, op: Operation, params: dict[str, Any]) -> None:
        validator = self._cached(op, "request_validator", lambda: self._validator(self.request_schema(op)))
        error = best_match(validator.iter_errors(params))
        if error is not None:
            raise to_stripe_error(error)

    def response_errors(self, op: Operation, status: int, body: Any) -> list[str]:
        """Contract violations in one of the emulator's own responses."""
        schema = op.response_schema(status)
        if schema is None:
            return []
        validator = self._cached(op, f"response_validator:{status}", lambda: self._validator(to_json_schema(schema)))
        return [_describe(error) for error in validator.iter_errors(body)]

    def object_errors(self, schema_name: str, obj: Any) -> list[str]:
        """Violations of ``components.schemas[schema_name]`` (for tests and tools)."""
        validator = self._validator({"$ref": f"#/components/schemas/{schema_name}"})
        return [_describe(error) for error in validator.iter_errors(obj)]


def _describe(error: ValidationError, limit: int = 300) -> str:
    message = error.message if len(error.message) <= limit else error.message[:limit] + "…"
    return f"{stripe_param_name(error.absolute_path) or '<root>'}: {message}"


def to_stripe_error(error: ValidationError) -> StripeError:
    """Translate a jsonschema failure into Stripe's wording and ``param``."""
    path = list(error.absolute_path)
    instance = error.instance
    if error.validator == "additionalProperties" and isinstance(instance, dict):
        allowed = set(error.schema.get("properties", {}))
        unknown = sorted(key for key in instance if key not in allowed)
        param = stripe_param_name([*path, unknown[0]]) if unknown else stripe_param_name(path)
        return StripeError(f"Received unknown parameter: {param}", param=param)
    if error.validator == "required" and isinstance(instance, dict):
        absent = [name for name in error.validator_value if name not in instance]
        param = stripe_param_name([*path, absent[0]]) if absent else stripe_param_name(path)
        return StripeError(f"Missing required param: {param}.", param=param)
    param = stripe_param_name(path)
    if error.validator == "type":
        expected = error.validator_value
        expected = expected[0] if isinstance(expected, list) else expected
        return StripeError(f"Invalid {expected}: {instance!r}", param=param)
    if error.validator == "enum":
        options = ", ".join(repr(option) for option in error.validator_value if option is not None)
        return StripeError(f"Invalid {param}: must be one of {options}", param=param)
    return StripeError(f"Invalid value for {param}: {error.message}", param=param)
