"""The picture pipeline in one place: the stages of a picture after upload, and what a change to pictures sets off.

    validate, store          library.services.ingest_upload, in the request: the whole file decodes; stored once
    metadata and renditions  library.tasks.process_photo -> library.services.process_photo
      stack                  library.stacks.stack_shot, in the same task once the capture time is read: a RAW
                             and the JPEG/HEIC of the same shot become one stack, whichever was read first
    (after a turn)           library.tasks.refresh_renditions -> vision.tasks.reanalyze_photos (analysis again)
    analysis                 vision.tasks.analyze_photos -> vision.services.analyze_waiting (PHOTOCLOUD_VISION)
    people                   people.tasks.cluster_faces -> people.services.faces_for_pictures (after analysis)
    search index             search.tasks.index_changes -> search.services.index_changes
    groupings                vision.tasks.update_groupings -> vision.lookalikes.queue_if_stale per owner

Each stage after the first two is a background task that calls one service; the service reports
`stage_done(stage, photo_ids)` and `stage_done` alone decides what runs next, as Immich's JobService.onDone does.
The library is the lowest layer and must not import the apps above it, so the vision and search apps register their
stages' tasks here from their AppConfig.ready (`register`); a stage nobody registered, or turned off, is skipped.

Changes to pictures and albums (an edit, a move, tags, a category given to many...) are announced once,
explicitly, by the service that made them: `pictures_changed(ids, what)` or `albums_changed(ids, what)`. There are
no signals: a queryset update announces itself like a single edit. The work they set off (search indexing,
retraining the owner's classes) is queued when the transaction commits, once per transaction with the ids of all
the announcements in it (deduplicated), so a request that changes many pictures indexes them in one background pass.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import transaction

# The stages after "metadata", in order. `register` accepts only these names.
STAGES = ("analysis", "reanalysis", "people", "index", "groupings", "training")

# What a change is about. A change of category (or of the album, which carries one) means the owner's own classes
# may have to be learned again. (A deletion needs no announcement: documents are deleted with their rows.)
WHAT = ("created", "fields", "category", "album", "suggestions")
_RELABELLING = {"category", "album"}


@dataclass
class _Stage:
    enqueue: Callable[..., object]
    enabled: Callable[[], bool]


_stages: dict[str, _Stage] = {}


def register(stage: str, enqueue: Callable[..., object], enabled: Callable[[], bool] = lambda: True) -> None:
    """Called by the app that runs `stage`, from its AppConfig.ready. `enqueue` queues the stage's task:
    analysis, people and groupings get `photo_ids`; index gets `photo_ids`, `album_ids`, `album_photo_ids` (albums whose
    pictures' documents changed too); training gets `owner_ids`. All are lists of strings or integers."""
    if stage not in STAGES:
        raise ValueError(f"Unknown pipeline stage {stage!r}; the stages are {STAGES}.")
    _stages[stage] = _Stage(enqueue, enabled)


def runs(stage: str) -> bool:
    return stage in _stages and _stages[stage].enabled()


def stage_done(stage: str, photo_ids: Iterable) -> None:
    """What follows each stage (the only place that says so)."""
    ids = _keys(photo_ids)
    if not ids:
        return
    if stage == "metadata":
        if runs("analysis"):
            _queue("analysis", photo_ids=ids)
        else:
            _queue("index", photo_ids=ids)
    elif stage == "analysis":
        _queue("index", photo_ids=ids)
        _queue("people", photo_ids=ids)
        _queue("groupings", photo_ids=ids)
    elif stage == "renditions":  # the owner turned them: what the models saw was sideways
        _queue("reanalysis" if runs("reanalysis") else "index", photo_ids=ids)
    elif stage == "failed":  # processing gave up: the picture is still found by its name and album
        _queue("index", photo_ids=ids)
    else:
        raise ValueError(f"No stage follows {stage!r}.")


def pictures_changed(photo_ids: Iterable, what: str, *, owner_ids: Iterable = ()) -> None:
    """These pictures changed (`what`, one of WHAT): their search documents follow, in the background. A change of
    category also relearns the classes of `owner_ids` (the owners of the pictures)."""
    if what not in WHAT:
        raise ValueError(f"Unknown change {what!r}; one of {WHAT}.")
    _queue("index", photo_ids=_keys(photo_ids))
    if what in _RELABELLING:
        _queue("training", owner_ids=_keys(owner_ids))


def albums_changed(album_ids: Iterable, what: str, *, owner_ids: Iterable = ()) -> None:
    """These albums changed: their documents follow, and so do their pictures' documents, which carry the album's
    title, description, category and tags ("created" albums have no pictures yet)."""
    if what not in WHAT:
        raise ValueError(f"Unknown change {what!r}; one of {WHAT}.")
    ids = _keys(album_ids)
    _queue("index", album_ids=ids)
    if what != "created":
        _queue("index", album_photo_ids=ids)
    if what in _RELABELLING:
        _queue("training", owner_ids=_keys(owner_ids))


def _keys(ids: Iterable) -> list:
    return [key if isinstance(key, int) else str(key) for key in dict.fromkeys(ids)]


# --- batching per transaction ----------------------------------------------------------------------------------------


class _Batch:
    """The work announced in one transaction on one database connection, queued when the transaction commits."""

    def __init__(self):
        self.work = defaultdict(lambda: defaultdict(dict))  # stage -> argument -> ids (a dict keeps their order)

    def add(self, stage: str, arguments: dict) -> None:
        for name, ids in arguments.items():
            self.work[stage][name].update(dict.fromkeys(ids))

    def flush(self) -> None:
        """Each announcement registers this; the first to run after the commit queues everything, the others find
        nothing left. (Ids announced in a rolled-back savepoint may be queued with the rest: indexing is idempotent.)"""
        work, self.work = self.work, defaultdict(lambda: defaultdict(dict))
        for stage, arguments in work.items():
            _stages[stage].enqueue(**{name: list(ids) for name, ids in arguments.items()})


def _queue(stage: str, **arguments) -> None:
    if not runs(stage) or not any(arguments.values()):
        return
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        _stages[stage].enqueue(**arguments)
        return
    batch = getattr(connection, "photocloud_pipeline_batch", None)
    if batch is None:
        batch = connection.photocloud_pipeline_batch = _Batch()
    batch.add(stage, arguments)
    transaction.on_commit(batch.flush)
