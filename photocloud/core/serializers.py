"""Serializers that read input exactly as the OpenAPI schema describes it.

DRF reads leniently: a JSON `0` passes for the boolean false and `5` for the text "5", an empty query parameter counts
as absent, an unknown body field is dropped without a word. The schema (/api/schema/) promises types, so a request
the schema calls invalid must be refused with a 400 naming the field (tests/test_api_fuzz.py holds the API to it).
Every serializer that reads a request body or a query string derives from `Serializer` or `ModelSerializer` here.
"""

import re

from rest_framework import fields, relations, serializers
from rest_framework.utils import html

_WHOLE_NUMBER = re.compile(r"-?[0-9]+")
_FORM_BOOLEANS = ("true", "false", "True", "False")  # what JSON and Python's str() write


def _json_types(field) -> tuple[type, ...] | None:
    """The JSON types a field reads, as the schema states them; None where the schema states no type. A field that
    reads more than its type (a list, or the same items in one text) says so in `json_types`."""
    if (types := getattr(field, "json_types", None)) is not None:
        return types
    if isinstance(field, fields.BooleanField):
        return (bool,)
    if isinstance(field, fields.IntegerField):
        return (int,)
    if isinstance(field, fields.FloatField | fields.DecimalField):
        return (int, float)
    if isinstance(
        field, fields.ListField | fields.MultipleChoiceField | relations.ManyRelatedField | serializers.ListSerializer
    ):
        return (list,)
    if isinstance(field, fields.DictField | serializers.Serializer):
        return (dict,)
    if isinstance(field, relations.PrimaryKeyRelatedField):
        pk = field.queryset.model._meta.pk if field.queryset is not None else None
        return (int,) if pk is not None and pk.get_internal_type().endswith("AutoField") else (str,)
    if isinstance(field, fields.FileField | fields.JSONField | fields.HiddenField):
        return None
    if isinstance(field, fields.Field) and not isinstance(field, fields.SerializerMethodField | fields.ReadOnlyField):
        return (str,)  # text, choices, ids, dates and times are strings in JSON
    return None


def _type_error(types: tuple[type, ...]) -> str:
    names = {
        bool: "true or false",
        int: "a whole number",
        float: "a number",
        str: "text",
        list: "a list",
        dict: "an object",
    }
    return "Must be " + " or ".join(dict.fromkeys(names[t] for t in types if not (t is int and float in types))) + "."


def _json_problem(field, value) -> str | None:
    """Why a JSON value does not have the field's type (None when it does)."""
    if value is None:
        return None if field.allow_null else "This field may not be null."
    if value == "" and not isinstance(field, fields.CharField | fields.ChoiceField):
        return "This field may not be blank."  # DRF would read it as null or as absent
    types = _json_types(field)
    # bool is an int in Python, but true is no number in JSON
    if types is None or (isinstance(value, types) and not (isinstance(value, bool) and bool not in types)):
        if isinstance(value, list) and (child := getattr(field, "child", None)) is not None:
            return next((f"Item {i}: {p}" for i, item in enumerate(value) if (p := _json_problem(child, item))), None)
        return None
    return _type_error(types)


def _text_problem(field, text: str) -> str | None:
    """Why a query-string or form value is not of the field's type (None when it is)."""
    if text == "":
        if isinstance(field, fields.CharField | fields.ChoiceField) and getattr(field, "allow_blank", False):
            return None
        return "This value may not be empty; leave the parameter out instead."
    if isinstance(field, fields.BooleanField) and text not in _FORM_BOOLEANS:
        return "Must be true or false."
    if isinstance(field, fields.IntegerField) and not _WHOLE_NUMBER.fullmatch(text):
        return "Must be a whole number."
    return None


class StrictInput:
    # Refuses what the schema calls invalid before DRF's lenient conversion: a JSON value of another type, an unknown
    # or read-only body field, an empty or malformed query-string or form value. (No docstring: the schema would show
    # it for every serializer without one of its own.)

    def to_internal_value(self, data):
        errors = {}
        if html.is_html_input(data):  # a query string or a form (multipart for files)
            for name, field in self.fields.items():
                if field.read_only or name not in data or isinstance(field, fields.FileField | fields.ListField):
                    continue
                if problem := next(filter(None, (_text_problem(field, text) for text in data.getlist(name))), None):
                    errors[name] = [problem]
        elif isinstance(data, dict):
            for name, value in data.items():
                field = self.fields.get(name)
                if field is None or field.read_only:  # a read-only field silently ignored would hide a lost change
                    known = ", ".join(n for n, f in self.fields.items() if not f.read_only) or "no field"
                    said = "Unknown field" if field is None else "This field cannot be changed here"
                    errors[name] = [f"{said}; this request takes {known}."]
                elif problem := _json_problem(field, value):
                    errors[name] = [problem]
        if errors:
            raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


class Serializer(StrictInput, serializers.Serializer):
    # `schema_rules`: what `validate()` requires across fields, as JSON Schema keywords for the request body's schema
    # (e.g. {"anyOf": [{"required": ["a"]}, {"required": ["b"]}]}), so that the schema says what is valid.
    schema_rules: dict = {}


class ModelSerializer(StrictInput, serializers.ModelSerializer):
    pass


class QueryFilters(Serializer):
    """Query-string parameters of a GET. Any other parameter is refused, so a typo or a filter of another list is an
    error rather than silently ignored (which answers a script with everything it meant to filter out)."""

    ALLOWED_EXTRA = ("page", "format")  # pagination; DRF's format override

    def validate(self, attrs):
        known = [*self.fields, *(extra for extra in self.ALLOWED_EXTRA if extra == "page")]
        if unknown := unknown_filters(self.initial_data, known, self.ALLOWED_EXTRA):
            raise serializers.ValidationError(unknown)
        return super().validate(attrs)


def unknown_filters(given, known, allowed=("format",)) -> dict[str, list[str]]:
    """{parameter: [message]} for each query parameter that is neither one of the list's `known` ones (named in the
    message) nor `allowed` anyway (DRF's `format`)."""
    takes = f"this list takes {', '.join(known)}" if known else "this request takes none"
    return {name: [f"Unknown filter; {takes}."] for name in sorted(set(given) - {*known, *allowed})}


def read_query(request) -> None:
    """Mark the query string as read by the view, by its own rules: a GET of the API whose view read none is refused
    any parameter but `format` (core.middleware.UnreadQueryMiddleware)."""
    getattr(request, "_request", request).query_read = True


def checked_query(request, filters_class=QueryFilters) -> dict:
    """The query string read by `filters_class`, or a 400; once per request and class, as a list's parts each ask.
    The API's pagination refuses every parameter but `page` of a list that did not read its query string here."""
    read_query(request)
    checked = request.__dict__.setdefault("_checked_query", {})
    if filters_class not in checked:
        params = filters_class(data=request.query_params)
        params.is_valid(raise_exception=True)
        checked[filters_class] = params.validated_data
    return checked[filters_class]
