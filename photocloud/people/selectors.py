"""Reads: the owner's people and faces. Everything starts from `owned_by(viewer)`: people, names and face boxes
belong to the owner of the pictures and no one else ever reaches them (a visitor's queries simply find nothing)."""

import re

import numpy as np
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from photocloud.library.access import can_edit
from photocloud.library.models import Photo
from photocloud.library.selectors import displayed
from photocloud.vision.models import PhotoAnalysis

from .models import Face, Person, decode_embeddings

SIMILAR_FACES = 60  # pictures listed by "similar faces"


def people_of(viewer, *, hidden: bool | None = False):
    """The viewer's people that still have a face in a picture outside the Trash, most pictures first. `hidden`:
    False leaves the hidden out, True gives only them, None both."""
    people = (
        Person.objects.owned_by(viewer)
        .annotate(photo_count=_photo_count(viewer))
        .filter(photo_count__gt=0)
        .select_related("cover__photo")
        .order_by("-photo_count", "pk")
    )
    return people if hidden is None else people.filter(hidden=hidden)


def _photo_count(owner):
    """A person's pictures outside the Trash, counted from the index of (person, picture) alone.

    The owner's trashed pictures are one list (`IN` a subquery that depends on no person: PostgreSQL hashes it once,
    SQLite and MariaDB materialise it), checked for each index entry. Joining each face to its picture read 20,000
    pictures at random for a person in one picture in fifty of 1,000,000 (230 ms on PostgreSQL, bench/pages.py);
    checking the owner's Trash once for each person cost people × Trash: 602 ms for 300 people with 10,000 of
    50,000 pictures in the Trash (PostgreSQL, load 8), 165 ms this way."""
    trashed = Photo.objects.filter(owner=owner, trashed_at__isnull=False).order_by().values("pk")
    faces = Face.objects.filter(person=OuterRef("pk")).order_by().values("person")
    live = faces.annotate(n=Count("photo", distinct=True, filter=~Q(photo__in=trashed))).values("n")
    return Coalesce(Subquery(live, output_field=IntegerField()), 0)


def person_of(viewer, pk) -> Person | None:
    """One of the viewer's people (hidden ones too), with its count; None for anyone else's or an unknown id."""
    return people_of(viewer, hidden=None).filter(pk=pk).first()


def shown_cover(person: Person) -> Face | None:
    """The person's cover face while its picture is outside the Trash, else their best face that is."""
    if person.cover_id and person.cover.photo.trashed_at is None:
        return person.cover
    return Face.objects.live().filter(person=person).select_related("photo").order_by("-quality", "pk").first()


def photos_of(viewer, person: Person):
    """The person's pictures in timeline order (the viewer's own, outside the Trash)."""
    # EXISTS, not IN: a page's rows, loaded by their keys, are then checked a face each, where IN joined all of the
    # person's faces to them first (20 ms for 2,000 pictures on PostgreSQL, bench/pages.py).
    faces = Face.objects.filter(person=person, owner=viewer, photo=OuterRef("pk"))
    return displayed(Photo.objects.owned_by(viewer).filter(Exists(faces)))  # as every grid: one query for the tiles


def faces_in(viewer, photo: Photo) -> list[Face]:
    """The faces in a picture with their people, only for its owner: nobody else learns who is in it."""
    if not can_edit(viewer, photo):
        return []
    return list(Face.objects.filter(photo=photo, owner=viewer).select_related("person").order_by("position"))


def face_of(viewer, pk) -> Face | None:
    return Face.objects.owned_by(viewer).live().filter(pk=pk).select_related("person", "photo").first()


def similar_faces(viewer, face: Face, limit: int = SIMILAR_FACES) -> list[tuple[Photo, float]]:
    """The viewer's pictures with the faces most like this one, most alike first (one exact pass over their faces,
    a few tens of milliseconds at 100,000)."""
    rows = list(
        Face.objects.owned_by(viewer).live().exclude(photo_id=face.photo_id).values_list("photo_id", "embedding")
    )
    if not rows:
        return []
    similarity = decode_embeddings([blob for _, blob in rows]) @ face.vector
    best: dict = {}
    for index in np.argsort(-similarity):
        photo_id = rows[index][0]
        if photo_id not in best:
            best[photo_id] = float(similarity[index])
            if len(best) == limit:
                break
    photos = Photo.objects.owned_by(viewer).select_related("album", "owner").in_bulk(list(best))
    return [(photos[pk], score) for pk, score in best.items() if pk in photos]


def named_people(viewer) -> list[Person]:
    """The viewer's named people that are not hidden, longest names first (so "Anna Lee" wins over "Anna")."""
    if not viewer.is_authenticated:
        return []
    people = Person.objects.owned_by(viewer).filter(hidden=False).exclude(name="").only("pk", "name")
    return sorted(people, key=lambda person: -len(person.name))


def names_in_query(viewer, q: str) -> tuple[list[Person], str]:
    """The viewer's own people named in a search (a name as whole words, any case; a Chinese name anywhere), and the
    query without them: "Anna beach" is Anna's pictures matching "beach". Only the viewer's people are looked at,
    so a name never matches for anyone else.

    One word of a longer name names its person too when no other of the viewer's people has that word: people are
    named "Anna Lee" or "Eileen 艾琳" and searched for as "Anna" or "艾琳". A word several names share ("Lee" for
    Anna Lee and Ben Lee) stays a word of the search: choosing one of them would hide the others' pictures."""
    people = named_people(viewer) if q.strip() else []
    found = []
    rest = q
    for person in people:
        rest, named = _take(person.name, rest)
        if named:
            found.append(person)
    owners: dict[str, tuple[str, set]] = {}  # {word of a longer name, case-folded: (the word, people with it)}
    for person in people:
        words = person.name.split()
        for word in words if len(words) > 1 else ():
            if len(word) > 1:
                owners.setdefault(word.casefold(), (word, set()))[1].add(person)
    for word, named_by in sorted(owners.values(), key=lambda item: -len(item[0])):
        person = next(iter(named_by))
        if len(named_by) == 1 and person not in found:
            rest, named = _take(word, rest)
            if named:
                found.append(person)
    return found, " ".join(rest.split())


def _take(name: str, q: str) -> tuple[str, bool]:
    """`q` without `name` (whole words, any case; anywhere when it is not ASCII), and whether it was there."""
    pattern = rf"(?<!\w){re.escape(name)}(?!\w)" if name.isascii() else re.escape(name)
    if not re.search(pattern, q, flags=re.IGNORECASE):
        return q, False
    return re.sub(pattern, " ", q, flags=re.IGNORECASE), True


def showing(viewer, person_ids: list) -> Q:
    """Pictures showing every one of these people of the viewer's (a filter on pictures). Someone else's person
    id, or any id for a visitor, matches nothing."""
    if not viewer.is_authenticated:
        return Q(pk__in=[])
    condition = Q()
    for person_id in dict.fromkeys(person_ids):
        condition &= Q(pk__in=Face.objects.filter(owner=viewer, person_id=person_id).values("photo_id"))
    return condition


def choices(viewer, exclude=None) -> list[Person]:
    """The viewer's people as options to move a face to or merge with (names and ids only)."""
    people = people_of(viewer, hidden=None).select_related(None).only("pk", "name")
    return list(people.exclude(pk=exclude.pk) if exclude else people)


# --- the backfill (services.find_faces_batch), by owner or for everyone ------------------------------------------


def pictures_without_identities(owner_id=None):
    """Ready pictures analysed before face identities were stored: their faces are still to be found, by analysing
    them again (pictures never analysed are the pipeline's, not the backfill's)."""
    photos = Photo.objects.filter(
        status=Photo.Status.READY, trashed_at__isnull=True, analysis__isnull=False, analysis__face_identities=None
    )
    return photos.filter(owner_id=owner_id) if owner_id is not None else photos


def analyses_without_faces(owner_id=None):
    """Analyses with faces and their identities whose pictures have no Face rows yet (analysed before the people
    app, or whose people stage never ran)."""
    analyses = PhotoAnalysis.objects.filter(
        face_identities__isnull=False, photo__faces__isnull=True, photo__trashed_at__isnull=True
    ).exclude(faces=[])
    return analyses.filter(photo__owner_id=owner_id) if owner_id is not None else analyses


def faces_to_find(owner_id=None, at_most: int | None = None) -> int:
    """How many pictures the backfill still has to find faces in. With `at_most`, counting stops there (the People
    page says "more than …"): a full count reads the whole library, seconds at 100,000 pictures."""
    if at_most is None:
        return pictures_without_identities(owner_id).count() + analyses_without_faces(owner_id).count()
    # Unordered: the models' order would sort every picture before the first is counted.
    found = pictures_without_identities(owner_id).order_by().values("pk")[: at_most + 1].count()
    if found <= at_most:
        found += analyses_without_faces(owner_id).order_by().values("pk")[: at_most + 1 - found].count()
    return found
