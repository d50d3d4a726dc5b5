"""Writes: faces from the analysis, grouping them into people, and the owner's corrections.

Faces of newly analysed pictures arrive through the "people" stage of the picture pipeline (`faces_for_pictures`):
each joins the owner's closest person or waits until enough alike faces gather into a new one (clustering.py).
Every so often (`TIDY_EVERY` new faces, and `photocloud cluster-faces`) a full pass (`tidy`) recomputes the people
from their faces. What the owner did by hand (a face placed or taken away, names, hidden people) is never undone.
"""

import logging
from collections.abc import Iterable, Sequence

import numpy as np
from django.db import transaction
from django.db.models import F

from photocloud.library.models import Photo
from photocloud.vision import faces as face_models
from photocloud.vision.models import PhotoAnalysis

from . import clustering
from .models import Face, FaceGrouping, Person, decode_embeddings, encode_embedding
from .selectors import analyses_without_faces, pictures_without_identities

logger = logging.getLogger(__name__)

TIDY_EVERY = 200  # new faces of one owner before the full pass runs again (and at least a tenth of their faces)
DETECTION_SIDE = face_models.DETECTION_MAX_SIDE
GOOD_FACE_SIDE = 40  # pixels of the face's shorter side as SFace's aligner sees it; smaller faces blur identities


class PeopleError(ValueError):
    """A correction that cannot be made (a face moved to someone else's person...): a 400 with this message."""


def face_quality(box: Sequence, picture_size: tuple[int, int]) -> float:
    """0-1: the detector's score, lowered for faces too small for a reliable identity. Boxes are in the original's
    pixels; the identity is computed on the picture scaled to DETECTION_SIDE."""
    width, height = picture_size
    scale = min(1.0, DETECTION_SIDE / max(width or 1, height or 1, 1))
    side = min(box[2], box[3]) * scale
    return round(float(box[4]) * min(1.0, side / GOOD_FACE_SIDE), 3)


# --- from the analysis ------------------------------------------------------------------------------------------------


def faces_for_pictures(photo_ids: Iterable) -> int:
    """The people stage: these pictures' faces as Face rows (made again when the analysis found other faces), then
    grouped with their owners' people. Returns how many faces were added."""
    analyses = PhotoAnalysis.objects.filter(photo_id__in=list(photo_ids), face_identities__isnull=False).select_related(
        "photo"
    )
    added: dict[int, list[Face]] = {}
    for analysis in analyses:
        made = _sync_faces(analysis)
        if made:
            added.setdefault(analysis.photo.owner_id, []).extend(made)
    for owner_id, faces in added.items():
        place(owner_id, faces)
    return sum(len(faces) for faces in added.values())


def _sync_faces(analysis: PhotoAnalysis) -> list[Face]:
    """Face rows for one analysed picture, largest first; kept as they are while the analysis found the same faces."""
    photo = analysis.photo
    boxes = analysis.faces or []
    identities = face_models.decode_identities(analysis.face_identities)
    count = min(len(boxes), len(identities))  # they pair one to one (faces.detect and faces.identities agree)
    existing = list(Face.objects.filter(photo=photo).order_by("position"))
    if len(existing) == count and all(
        [face.x, face.y, face.width, face.height] == list(boxes[face.position][:4]) for face in existing
    ):
        return []
    with transaction.atomic():
        people = {face.person_id for face in existing if face.person_id}
        Face.objects.filter(photo=photo).delete()
        made = Face.objects.bulk_create(
            [
                Face(
                    owner_id=photo.owner_id,
                    photo=photo,
                    position=position,
                    x=boxes[position][0],
                    y=boxes[position][1],
                    width=boxes[position][2],
                    height=boxes[position][3],
                    score=boxes[position][4],
                    quality=face_quality(boxes[position], (photo.width, photo.height)),
                    embedding=encode_embedding(identities[position]),
                )
                for position in range(count)
            ]
        )
        refresh_people(people)
    if made and made[0].pk is None:  # MySQL returns no ids from a bulk insert
        made = list(Face.objects.filter(photo=photo).order_by("position"))
    return made


# --- grouping ---------------------------------------------------------------------------------------------------------


def _centroids(owner_id) -> tuple[list[int], np.ndarray]:
    rows = list(Person.objects.filter(owner_id=owner_id).exclude(centroid=b"").values_list("pk", "centroid"))
    return [pk for pk, _ in rows], decode_embeddings([blob for _, blob in rows])


def place(owner_id, faces: list[Face]) -> None:
    """New faces join the owner's closest people (clustering.nearest); the rest wait, and gather into new people
    when enough are alike. Runs the full pass instead when enough faces came since the last one."""
    grouping, _ = FaceGrouping.objects.get_or_create(owner_id=owner_id)
    FaceGrouping.objects.filter(pk=grouping.pk).update(new_faces=F("new_faces") + len(faces))
    if grouping.new_faces + len(faces) >= max(TIDY_EVERY, grouping.faces_at_tidy // 10):
        tidy(owner_id)
        return
    eligible = [face for face in faces if face.quality >= clustering.MIN_QUALITY]
    if not eligible:
        return
    person_ids, centroids = _centroids(owner_id)
    chosen, _ = clustering.nearest(decode_embeddings([face.embedding for face in eligible]), centroids)
    joined: dict[int, list[int]] = {}
    for face, index in zip(eligible, chosen, strict=True):
        if index >= 0:
            joined.setdefault(person_ids[index], []).append(face.pk)
    with transaction.atomic():
        for person_id, members in joined.items():
            Face.objects.filter(pk__in=members).update(person_id=person_id)
        refresh_people(joined)
    if (chosen < 0).any():  # some wait: perhaps enough of them now to make a new person
        gather_waiting(owner_id, around={face.pk for face, index in zip(eligible, chosen, strict=True) if index < 0})


def _waiting(owner_id):
    """Faces that may still gather into a new person: good enough, in no person, not taken away by the owner."""
    return Face.objects.live().filter(
        owner_id=owner_id, person__isnull=True, source=Face.Source.AUTOMATIC, quality__gte=clustering.MIN_QUALITY
    )


def gather_waiting(owner_id, around: set) -> int:
    """New people from waiting faces alike enough (clustering.gather), around `around`, the faces that just started
    waiting: a new person can only form around a new face, so only those and the waiting faces alike to them are
    gathered, and the cost follows the new faces, not the pool. Returns how many people were made."""
    rows = list(_waiting(owner_id).order_by("pk").values_list("pk", "embedding"))
    vectors = decode_embeddings([blob for _, blob in rows])
    fresh = [index for index, (pk, _) in enumerate(rows) if pk in around]
    if not fresh:
        return 0
    near = (vectors[fresh] @ vectors.T >= clustering.GATHER).any(axis=0)
    near[fresh] = True
    if near.sum() < clustering.MIN_FACES:
        return 0
    chosen = np.flatnonzero(near)
    return len(_new_people(owner_id, [rows[index][0] for index in chosen], clustering.gather(vectors[chosen])))


def _new_people(owner_id, face_ids: list, labels: np.ndarray) -> list[tuple[Person, int]]:
    """A new person for each group of faces labelled alike (label >= 0); (person, label) pairs."""
    groups: dict[int, list[int]] = {}
    for pk, label in zip(face_ids, labels, strict=True):
        if label >= 0:
            groups.setdefault(int(label), []).append(pk)
    with transaction.atomic():
        made = [(Person.objects.create(owner_id=owner_id), label) for label in groups]
        for person, label in made:
            _set_person(groups[label], person.pk)
        refresh_people([person.pk for person, _ in made])
    return made


def _set_person(face_ids: list, person_id) -> None:
    for start in range(0, len(face_ids), 1000):  # within every database's limit of query parameters
        Face.objects.filter(pk__in=face_ids[start : start + 1000]).update(person_id=person_id)


def refresh_people(person_ids: Iterable) -> None:
    """Centroids and covers of these people after faces joined or left; people left with no face are deleted."""
    ids = list(set(person_ids))
    if not ids:
        return
    members: dict[int, list] = {pk: [] for pk in ids}
    for pk, person_id, blob, quality in (
        Face.objects.filter(person_id__in=ids).order_by("pk").values_list("pk", "person_id", "embedding", "quality")
    ):
        members[person_id].append((pk, blob, quality))
    empty = [pk for pk, faces in members.items() if not faces]
    Person.objects.filter(pk__in=empty).delete()
    people = Person.objects.in_bulk([pk for pk in ids if pk not in empty])
    for pk, person in people.items():
        faces = members[pk]
        person.centroid = encode_embedding(clustering.centroid(decode_embeddings([blob for _, blob, _ in faces])))
        if person.cover_id not in {face_pk for face_pk, _, _ in faces}:
            person.cover_id = max(faces, key=lambda face: face[2])[0]
    Person.objects.bulk_update(people.values(), ["centroid", "cover"])


def tidy(owner_id) -> None:
    """The full pass: centroids from every member; automatic members now far from their person leave it; every
    waiting face is offered to the closest person again, then the rest gather into new people."""
    with transaction.atomic():
        refresh_people(Person.objects.filter(owner_id=owner_id).values_list("pk", flat=True))
        person_ids, centroids = _centroids(owner_id)
        index_of = {pk: index for index, pk in enumerate(person_ids)}
        placed = list(
            Face.objects.filter(owner_id=owner_id, person__isnull=False, source=Face.Source.AUTOMATIC).values_list(
                "pk", "person_id", "embedding"
            )
        )
        if placed:
            vectors = decode_embeddings([blob for _, _, blob in placed])
            own = centroids[[index_of[person_id] for _, person_id, _ in placed]]
            strays = [
                pk
                for (pk, _, _), sim in zip(placed, (vectors * own).sum(axis=1), strict=True)
                if sim < clustering.STRAY
            ]
            left = {person_id for pk, person_id, _ in placed if pk in set(strays)}
            _set_person(strays, None)
            refresh_people(left)
            person_ids, centroids = _centroids(owner_id)
        _offer_waiting(owner_id, person_ids, centroids)
        FaceGrouping.objects.update_or_create(
            owner_id=owner_id,
            defaults={"faces_at_tidy": Face.objects.filter(owner_id=owner_id).count(), "new_faces": 0},
        )


def _offer_waiting(owner_id, person_ids: list, centroids: np.ndarray) -> None:
    """Every waiting face, a chunk at a time in upload order: it joins the closest person (never one it was taken
    from), or waits in a pool that gathers into new people, whose centroids the next chunks are offered. Grouping
    a whole library from nothing thus costs chunks x (people + pool), not faces squared."""
    waiting = list(_waiting(owner_id).order_by("pk").values_list("pk", "embedding"))
    rejected: dict[int, set] = {}
    for face_id, person_id in Face.rejected.through.objects.filter(face__owner_id=owner_id).values_list(
        "face_id", "person_id"
    ):
        rejected.setdefault(face_id, set()).add(person_id)
    person_ids = list(person_ids)
    joined: dict[int, list] = {}
    pool_ids, pool = [], np.zeros((0, clustering.EMBEDDING_SIZE), np.float32)
    for start in range(0, len(waiting), clustering.CHUNK):
        chunk = waiting[start : start + clustering.CHUNK]
        vectors = decode_embeddings([blob for _, blob in chunk])
        index_of = {pk: index for index, pk in enumerate(person_ids)}
        banned = [[index_of[p] for p in rejected.get(pk, ()) if p in index_of] for pk, _ in chunk]
        chosen, _ = clustering.nearest(vectors, centroids, banned=banned)
        for (pk, _), index in zip(chunk, chosen, strict=True):
            if index >= 0:
                joined.setdefault(person_ids[index], []).append(pk)
        pool_ids += [pk for (pk, _), index in zip(chunk, chosen, strict=True) if index < 0]
        pool = np.vstack([pool, vectors[chosen < 0]])
        labels = clustering.gather(pool) if len(pool) >= clustering.MIN_FACES else np.full(len(pool), -1)
        for person, label in _new_people(owner_id, pool_ids, labels):
            person_ids.append(person.pk)
            centroids = np.vstack([centroids, clustering.centroid(pool[labels == label])])
        pool_ids, pool = [pk for pk, label in zip(pool_ids, labels, strict=True) if label < 0], pool[labels < 0]
    for person_id, members in joined.items():
        _set_person(members, person_id)
    refresh_people(joined)


def find_faces_batch(analyse: int = 16, sync: int = 500) -> bool:
    """One batch of the backfill (people.tasks.find_faces): up to `analyse` pictures analysed before face identities
    existed are analysed again (their people stage follows, as for any analysis), and up to `sync` analysed
    pictures get their Face rows and join people. Returns whether the task should queue itself again: more remain
    and this batch made progress (some picture it handled left the backlog; one that stays, a picture whose faces
    give no Face row, must not make the task loop). Only the handled pictures and two EXISTS are read: counting the
    backlog reads the whole library."""
    from photocloud.vision import services as vision

    stale = list(pictures_without_identities().order_by("created_at", "pk").values_list("pk", flat=True)[:analyse])
    if stale:
        try:
            vision.analyze_photos(stale)
        except Exception:  # one picture that cannot be analysed (its file is damaged...) must not stop the rest
            for photo_id in stale:
                try:
                    vision.analyze_photos([photo_id])
                except Exception:
                    logger.exception("Backfill of faces: picture %s cannot be analysed; it keeps no faces", photo_id)
                    PhotoAnalysis.objects.filter(photo_id=photo_id).update(faces=[], face_identities=b"")
    added: dict[int, list[Face]] = {}
    synced = list(analyses_without_faces().select_related("photo").order_by("photo_id")[:sync])
    for analysis in synced:
        if made := _sync_faces(analysis):
            added.setdefault(analysis.photo.owner_id, []).extend(made)
    for owner_id, faces in added.items():
        place(owner_id, faces)
    still_stale = pictures_without_identities().filter(pk__in=stale).count()
    still_unsynced = analyses_without_faces().filter(pk__in=[analysis.pk for analysis in synced]).count()
    progress = still_stale < len(stale) or still_unsynced < len(synced)
    return progress and (pictures_without_identities().exists() or analyses_without_faces().exists())


def backfill(progress=None) -> int:
    """Faces for every analysed picture that has none yet, then the full pass for every owner (after an upgrade, or
    to rebuild people): what `photocloud cluster-faces` runs. (Pictures analysed before identities were stored
    are analysed again by the background backfill, find_faces_batch, or by `photocloud analyze`.)"""
    todo = list(analyses_without_faces().values_list("photo_id", flat=True))
    added = 0
    for start in range(0, len(todo), 500):
        for analysis in PhotoAnalysis.objects.filter(photo_id__in=todo[start : start + 500]).select_related("photo"):
            added += len(_sync_faces(analysis))
        if progress:
            progress(min(start + 500, len(todo)), len(todo))
    for owner_id in Photo.objects.filter(faces__isnull=False).values_list("owner_id", flat=True).distinct():
        tidy(owner_id)
    return added


# --- the owner's corrections ------------------------------------------------------------------------------------------


def rename(person: Person, name: str) -> Person:
    person.name = " ".join(name.split())[: Person._meta.get_field("name").max_length]
    person.save(update_fields=["name", "updated_at"])
    return person


def set_hidden(person: Person, hidden: bool) -> Person:
    person.hidden = hidden
    person.save(update_fields=["hidden", "updated_at"])
    return person


@transaction.atomic
def merge(target: Person, sources: Iterable[Person]) -> Person:
    """The faces of `sources` join `target` (the same owner's people); the sources are deleted. A nameless target
    takes the first source's name."""
    others = [person for person in sources if person.pk != target.pk]
    if any(person.owner_id != target.owner_id for person in others):
        raise PeopleError("People can only be merged with the same owner's people.")
    if not others:
        return target
    Face.objects.filter(person__in=others).update(person=target)
    through = Face.rejected.through
    for face_id in through.objects.filter(person__in=others).values_list("face_id", flat=True):
        through.objects.get_or_create(face_id=face_id, person_id=target.pk)
    if not target.name:
        target.name = next((person.name for person in others if person.name), "")
        target.save(update_fields=["name", "updated_at"])
    Person.objects.filter(pk__in=[person.pk for person in others]).delete()
    refresh_people([target.pk])
    return target


@transaction.atomic
def move_face(face: Face, person: Person | None, *, new_person: bool = False) -> Person | None:
    """The owner places a face: on another of their people, on a new person (`new_person`), or on nobody ("not
    this person": it never joins its former person again). Returns the person it is now with."""
    if person is not None and person.owner_id != face.owner_id:
        raise PeopleError("A face can only join a person of its picture's owner.")
    former = face.person_id
    if new_person:
        person = Person.objects.create(owner_id=face.owner_id)
    if person is None and former:
        face.rejected.add(former)
    elif person is not None:
        face.rejected.remove(person)
    face.person = person
    face.source = Face.Source.OWNER
    face.save(update_fields=["person", "source"])
    refresh_people([pk for pk in (former, person.pk if person else None) if pk])
    return person
