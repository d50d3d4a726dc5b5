"""Seeing pictures: features, labels, faces, text and category for ingested pictures, in batches.

Analysis works on the picture's upright 1024 px rendition (already decoded, small, orientation applied), and reads
text from the 2048 px one only when a cheap check says there is text to read.
"""

import io
from collections.abc import Sequence

import numpy as np
from django.core.files.storage import default_storage
from django.db import transaction
from PIL import Image

from photocloud.library import imaging, pipeline, tallies
from photocloud.library import services as library
from photocloud.library.models import Photo
from photocloud.library.uploads import local_file

from . import classifier, faces, features, labels, ocr, pg_vectors, taught
from .models import PhotoAnalysis, encode_features

MODEL_VERSION = "efficientnet-lite0/2"  # 2: categories with "none of these" and calibrated confidence
BATCH = 16  # pictures per forward pass: several times faster per picture than one at a time (bench/vision.py)


def _open_rendition(photo: Photo, size: str) -> Image.Image:
    with default_storage.open(library.ensure_rendition(photo, size), "rb") as handle:
        image = Image.open(handle)
        image.load()
    return image.convert("RGB")


def analyze_photos(photo_ids: Sequence) -> int:
    """Analyse these pictures (those that are ready) in one batch; returns how many were analysed."""
    photos = list(Photo.objects.filter(pk__in=list(photo_ids), status=Photo.Status.READY))
    if not photos:
        return 0
    images = [_open_rendition(photo, "m") for photo in photos]
    seen = features.analyze(images)
    for index, (photo, image) in enumerate(zip(photos, images, strict=True)):
        found = faces.detect(image)
        lines = ocr.text_lines(image)
        text = ocr.read_text(_open_rendition(photo, "l")) if lines.likely else ""
        signals = classifier.picture_signals(image, found, lines)
        row = slice(index, index + 1)
        (decision,) = classifier.classify(seen.features[row], seen.imagenet_probs[row], [signals])
        if decision.category == "document" and not lines.likely:  # the text gate misses tilted or small pages
            text = ocr.read_text(_open_rendition(photo, "l"))
        tags = labels.top_labels(seen.imagenet_probs[index])
        with transaction.atomic():  # with pgvector, the picture's vector changes in the analysis's transaction
            with tallies.changing([photo.pk]):  # a confident system category lends the picture to a theme
                PhotoAnalysis.objects.update_or_create(
                    photo=photo,
                    defaults={
                        "features": encode_features(seen.features[index]),
                        "category": decision.category,
                        "confidence": round(decision.confidence, 4),
                        "labels": [[name, round(float(score), 4)] for name, score in tags],
                        "text": text[:20000],
                        "faces": _face_boxes(found, (photo.width or image.width) / image.width),
                        "face_identities": faces.encode_identities(
                            faces.identities(image) if found else np.zeros((0, 128))
                        ),
                        "model_version": MODEL_VERSION,
                    },
                )
            pg_vectors.store([(photo.pk, seen.features[index])])
    with transaction.atomic():  # one search index pass for the analysed pictures and any retrained suggestions
        for owner_id in {photo.owner_id for photo in photos}:
            owned = [photo for photo in photos if photo.owner_id == owner_id]
            taught.refresh(owned[0].owner, PhotoAnalysis.objects.filter(photo__in=owned))
        pipeline.stage_done("analysis", [photo.pk for photo in photos])
    return len(photos)


def _face_boxes(found, scale: float) -> list[list]:
    """Boxes found on the rendition, in the original picture's pixels."""
    return [
        [
            round(face.x * scale),
            round(face.y * scale),
            round(face.width * scale),
            round(face.height * scale),
            round(float(face.score), 3),
        ]
        for face in found
    ]


def analyze_waiting(photo_ids: Sequence) -> int:
    """Live ingest: these pictures plus others still waiting, up to one batch; any already done are skipped.

    Each new picture queues a task, but whichever task runs first takes the others along, so a burst of uploads is
    analysed in batches and the later tasks find nothing left to do.
    """
    waiting = pictures_to_analyse()
    ids = list(waiting.filter(pk__in=list(photo_ids)).values_list("pk", flat=True))
    ids += list(waiting.exclude(pk__in=ids).values_list("pk", flat=True)[: max(BATCH - len(ids), 0)])
    return analyze_photos(ids) if ids else 0


def pictures_to_analyse(redo: bool = False):
    """Ready pictures without a complete analysis from the current models (what a backfill still has to do): pictures
    analysed before face identities were stored are done again."""
    queryset = Photo.objects.filter(status=Photo.Status.READY).order_by("created_at", "pk")
    if redo:
        return queryset
    return queryset.exclude(analysis__model_version=MODEL_VERSION, analysis__face_identities__isnull=False)


def embed_upload(uploaded) -> np.ndarray:
    """Features of a query picture that is not stored: validated like any upload, analysed like its 1024 px
    rendition would be. Raises imaging.ImageRejected for files that are not acceptable pictures."""
    with local_file(uploaded) as path:
        info = imaging.probe(path)
        data = imaging.verify(path, info, {"m": 1024})["m"]  # one decode checks the file and makes the rendition
    with Image.open(io.BytesIO(data)) as image:
        return features.analyze([image.convert("RGB")]).features[0]


def photo_vector(photo: Photo) -> np.ndarray | None:
    """Its stored features; from the analysis read with the photo (`select_related("analysis")`) when it was."""
    if Photo.analysis.is_cached(photo):
        analysis = getattr(photo, "analysis", None)  # None cached when it has no analysis
    else:
        analysis = PhotoAnalysis.objects.filter(photo=photo).only("features").first()
    return analysis.vector if analysis else None
