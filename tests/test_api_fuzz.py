"""API fuzzing: schemathesis sends generated requests, valid and invalid, to every operation of the live OpenAPI schema
(/api/schema/) through the WSGI application, as a user with a personal token, and checks that none is answered with a
server error, a status code the schema does not list, another content type, or a body outside the schema; that every
request the schema calls invalid is refused (4xx); and that every request it calls valid is accepted, or refused only
with a status the operation declares as a refusal of a well-formed request (the `Refusal` answers of
photocloud/core/schema.py: following yourself, an id that names nothing you may see, a file that is no picture).

Bounded: a fixed seed, derandomized generation and a few examples per operation. Path parameters are drawn from the
generated values and from ids that exist (the user's album and processed picture, another user's public and private
albums, a comment, an upload, a spare token), so the checks reach past "404 not found".
"""

import json
from dataclasses import dataclass

import hypothesis
import pytest
import schemathesis
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection
from hypothesis import HealthCheck
from hypothesis import strategies as st
from rest_framework.throttling import SimpleRateThrottle

from photocloud.accounts.models import ApiToken
from photocloud.library import services
from photocloud.library.models import BulkJob
from photocloud.library.storage import original_name
from photocloud.people.models import Person
from photocloud.people.tests.faces import identity, picture_of
from photocloud.social import services as social
from photocloud.sync import services as sync
from photocloud.wsgi import application
from tests import images

# What a valid request may be answered with anywhere: success, or no credentials, someone else's object, no such
# object (a generated id), a conflict with the object's state, a throttle. Not 400: the schema must say what is valid.
ACCEPTED = ["2xx", "401", "403", "404", "409", "429"]


def _declared_refusals(raw: dict) -> list[dict]:
    """Per operation, its declared refusals of well-formed requests count as accepting valid data (and only there)."""
    operations = []
    for methods in raw["paths"].values():
        for operation in methods.values():
            codes = [code for code, answer in operation["responses"].items() if "schemas/Refusal" in json.dumps(answer)]
            if codes:
                expected = {"expected-statuses": sorted({*ACCEPTED, *codes})}
                operations.append(
                    {
                        "include-operation-id": operation["operationId"],
                        "checks": {"positive_data_acceptance": expected},
                    }
                )
    return operations


RAW_SCHEMA = schemathesis.openapi.from_wsgi("/api/schema/", application).raw_schema

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 20261204,
        "generation": {"mode": "all", "max-examples": 6, "deterministic": True, "database": "none"},
        # The coverage phase tries each parameter's boundaries (0, 2**63, empty, wrong types): where server errors hide.
        # Methods a path does not have are left out: they get DRF's 405 and are not part of the schema's promise.
        "phases": {
            "stateful": {"enabled": False},
            "coverage": {"unexpected-methods": [], "generate-duplicate-query-parameters": False},
        },
        # Each search by image runs the image model (a second a request here): generated pictures only.
        "operations": [
            {"include-path": "/api/search/image/", "phases": {"coverage": {"enabled": False}}},
            *_declared_refusals(RAW_SCHEMA),
        ],
        "checks": {
            "enabled": False,
            "not_a_server_error": {"enabled": True},
            "status_code_conformance": {"enabled": True},
            "content_type_conformance": {"enabled": True},
            "response_schema_conformance": {"enabled": True},
            "positive_data_acceptance": {"enabled": True, "expected-statuses": ACCEPTED},
            "negative_data_rejection": {"enabled": True},
        },
    }
)

schema = schemathesis.openapi.from_wsgi("/api/schema/", application, config=CONFIG)

pytestmark = [
    pytest.mark.fuzz,
    pytest.mark.skipif(
        connection.vendor != "sqlite", reason="runs on SQLite in CI; the API code is the same on every database"
    ),
]


@dataclass
class World:
    """Real ids for path parameters, by the kind of object the path names."""

    ids: dict[str, list[str]]
    token: str


_world: World | None = None


@pytest.fixture
def world(db, alice, bob, settings, monkeypatch, django_capture_on_commit_callbacks):
    """An album with a processed picture of the token user, another user's public and private albums, and throttles
    raised so that every operation is answered rather than rate-limited."""
    global _world
    parts_before = set(sync.uploads_dir().glob("*.part"))
    rates = dict.fromkeys(SimpleRateThrottle.THROTTLE_RATES, "1000000/min")
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)
    settings.RATELIMIT_ENABLE = False
    album = services.create_album(alice, title="Holiday", category="landscape", access="public")
    with django_capture_on_commit_callbacks(execute=True):
        photo = services.ingest_upload(alice, album, SimpleUploadedFile("cat.jpg", images.jpeg())).photo
    public = services.create_album(bob, title="Open", category="food", access="public")
    private = services.create_album(bob, title="Closed", category="food", access="private")
    comment = social.add_comment(alice, photo, "Nice light.")
    anna = identity()
    pictured = [picture_of(album, anna) for _ in range(3)]
    for picture in pictured:  # rows made by a factory: a file of their own, so the album's ZIP can be built
        if not default_storage.exists(name := original_name(picture.sha256, "jpg")):
            default_storage.save(name, ContentFile(images.jpeg()))
    person = Person.objects.get(owner=alice, faces__photo=pictured[0])
    session, _ = sync.start_upload(alice, sha256="ab" * 32, size=10, name="later.jpg")
    spare, _ = ApiToken.issue(alice, "spare")
    _, key = ApiToken.issue(alice, "fuzz")
    year = photo.sort_date.year
    job = BulkJob.objects.create(owner=alice, action="favourite", ids=[str(photo.pk)], total=1)
    _world = World(
        ids={
            "albums": [str(album.pk), str(public.pk), str(private.pk)],
            "photos": [str(photo.pk), str(pictured[0].pk)],
            "people": [str(person.pk)],
            "faces": [str(person.faces.first().pk)],
            "comments": [str(comment.pk)],
            "uploads": [str(session.pk)],
            "tokens": [str(spare.pk)],
            "jobs": [str(job.pk)],
            "users": ["alice", "bob"],
            "year": [str(year)],
            "month": [str(photo.sort_date.month)],
        },
        token=key,
    )
    # Requests run inside the test's transaction, as with Django's test client, which also keeps the end of a
    # request from closing the connection (on PostgreSQL and MariaDB that would end the transaction).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield _world
    finally:
        _world = None
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
        for part in set(sync.uploads_dir().glob("*.part")) - parts_before:  # their sessions are rolled back
            part.unlink()


def _kind(path: str, name: str, params: dict) -> str:
    """Which objects a path parameter names: /api/<kind>/{id}/..., or the kind given as a parameter."""
    if name in ("year", "month"):
        return name
    if name == "id" and "kind" in params:
        return str(params["kind"])
    return path.removeprefix("/api/").split("/")[0]


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    """Keep the generated values or swap in ids that exist, so requests also reach real objects."""
    if _world is None or not path_parameters:
        return st.just(path_parameters)
    choices = [path_parameters]
    known = {name: _world.ids.get(_kind(context.operation.path, name, path_parameters), []) for name in path_parameters}
    for name, reals in known.items():
        choices += [{**path_parameters, name: real} for real in reals]
    if len(known) > 1 and all(known.values()):  # e.g. a year and a month of the library
        choices.append({name: reals[0] for name, reals in known.items()})
    return st.sampled_from(choices)


@schema.parametrize()
@hypothesis.settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_api_answers_within_its_schema(case, world):
    case.call_and_validate(headers={"Authorization": f"Token {world.token}"})
