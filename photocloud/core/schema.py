"""The OpenAPI schema's error answers, added to every operation by the rules DRF follows when it refuses a request, so
that the schema lists every status code a client can get (tests/test_api_fuzz.py holds the API to it).

Two kinds of error answer: `Error`, a request the schema already calls invalid (or missing credentials, a throttle);
and `Refusal`, a request the schema calls valid that the product refuses by one of its rules (you cannot follow
yourself, an id that names nothing you may see, a file that is no picture). Refusals are declared per operation with
`refusal()`; the fuzz test takes a declared refusal as a correct answer to valid data, and nothing else.
"""

import uritemplate
from drf_spectacular import openapi
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import OpenApiResponse
from rest_framework import fields

from .serializers import StrictInput

ERROR_SCHEMA = {
    "type": "object",
    "description": "DRF's error format: `detail` with a message, or a message list per field that was refused.",
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": True,
}

REFUSAL_SCHEMA = {
    **ERROR_SCHEMA,
    "description": "A well-formed request refused by a rule of the product, or a malformed one (the same status): "
    "`detail` or the field's messages say which.",
}

NO_NUL = "^[^\u0000]*$"
FORM_STATED = {"pattern", "format", "enum", "oneOf", "anyOf"}  # text whose form the schema already states

_ERROR = ResolvedComponent(name="Error", type=ResolvedComponent.SCHEMA, schema=ERROR_SCHEMA, object="Error")
_REFUSAL = ResolvedComponent(name="Refusal", type=ResolvedComponent.SCHEMA, schema=REFUSAL_SCHEMA, object="Refusal")


def refusal(description: str, *alternatives: str) -> OpenApiResponse:
    """A refusal of a well-formed request for `extend_schema(responses={code: refusal("Why")})`; or, with the names of
    other components, an answer that is one of those or a refusal. (Errors of malformed requests are added to every
    operation by `AutoSchema`.)"""
    schema = _REFUSAL.ref
    if alternatives:
        schema = {"anyOf": [*({"$ref": f"#/components/schemas/{name}"} for name in alternatives), _REFUSAL.ref]}
    return OpenApiResponse(response=schema, description=description)


_REFUSALS = {
    "400": "The request is malformed: the body or a parameter was refused (see the messages).",
    "401": "Credentials are missing, invalid or revoked.",
    "403": "Not allowed: someone else's object, or a session request without its CSRF token.",
    "404": "No such object that you may see (or no such page of the list).",
    "413": "The request body is too large.",
    "415": "The body's content type is not one this operation reads.",
    "429": "Too many requests: wait the `Retry-After` seconds.",
}


class AutoSchema(openapi.AutoSchema):
    """Adds the answers every DRF view can give besides its own: 401 (authentication runs on every request, and a
    bad token is refused everywhere) and 429 (throttles apply everywhere); 403 for writes (object permissions, CSRF);
    404 where the path names an object or the list is paginated (a page past the end); 400 where a body is read
    and on every GET (a parameter it does not take is refused); 413 and 415 where a body is read. An operation's own
    `responses` for a code take precedence. Request bodies read by `photocloud.core.serializers` take no field they do
    not declare, nor a read-only one."""

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if direction == "request" and schema.get("type") == "array" and str in getattr(field, "json_types", ()):
            text = {"type": "string", "description": "Or the items in one text, separated by commas."}
            return {"oneOf": [schema, text]}
        return schema

    def _map_serializer(self, serializer, direction, bypass_extensions=False):
        schema = super()._map_serializer(serializer, direction, bypass_extensions)
        if direction == "request" and isinstance(serializer, StrictInput):
            schema["additionalProperties"] = False
            schema.update(getattr(serializer, "schema_rules", {}))
        if direction == "request":  # DRF's text fields refuse the NUL character: say so
            for name, field in serializer.fields.items():
                prop = schema.get("properties", {}).get(name, {})
                if (
                    isinstance(field, fields.CharField)
                    and prop.get("type") == "string"
                    and not prop.keys() & FORM_STATED
                ):
                    prop["pattern"] = NO_NUL
        return schema

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        parameters = {p["name"]: p["in"] for p in operation.get("parameters", [])}
        has_body = "requestBody" in operation
        codes = {"401", "429"}
        if method not in ("GET", "HEAD", "OPTIONS"):
            codes.add("403")
        if uritemplate.variables(path) or "page" in parameters:
            codes.add("404")
        if has_body or method == "GET":  # every GET refuses a query parameter it does not take (core.middleware)
            codes.add("400")
        if has_body:
            codes |= {"413", "415"}
        registry.register_on_missing(_ERROR)
        registry.register_on_missing(_REFUSAL)
        responses = operation["responses"]
        for code in sorted(codes - responses.keys()):
            responses[code] = {"description": _REFUSALS[code], "content": {"application/json": {"schema": _ERROR.ref}}}
        operation["responses"] = dict(sorted(responses.items()))
        return operation
