"""Bulk actions on a selection of the owner's pictures (the bulk bar and POST /api/photos/bulk/).

Each action calls the existing service once for the whole selection (or for a chunk of it), so a change is announced
once per batch (pipeline.pictures_changed inside the services). A selection larger than `INLINE_LIMIT` runs as a
background task in chunks, its progress kept in a BulkJob row that the client polls.
"""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from . import services, trash
from .models import Album, BulkJob, Photo

INLINE_LIMIT = 200  # more ids than this run in the background
CHUNK = 200  # pictures per transaction in the background
NOT_FOUND = "No such picture of yours."


class BulkError(ValueError):
    """A parameter of the action is wrong (the whole request is refused, nothing changed)."""


def _album(owner, pk, *, required=True) -> Album | None:
    if pk is None:
        if required:
            raise BulkError("Name the album.")
        return None
    album = Album.objects.owned_by(owner).filter(pk=pk).first()
    if album is None:
        raise BulkError("No such album of yours.")
    return album


def _marks(**marks):
    return lambda owner, ids, params: _ids_of(owner, ids) if services.set_marks(owner, ids, **marks) else []


def _ids_of(owner, ids) -> list:
    return list(Photo.objects.owned_by(owner).filter(pk__in=list(ids)).values_list("pk", flat=True))


def _set_category(owner, ids, params):
    found = list(Photo.objects.owned_by(owner).filter(pk__in=list(ids)).only("pk"))
    services.set_category(owner, found, params.get("category", ""))
    return [photo.pk for photo in found]


def _new_album(owner, params) -> Album:
    """Make an album from a selection: the album first, then the pictures are added to it like to any other."""
    fields = {name: params[name] for name in ("title", "category", "access") if params.get(name)}
    album = services.create_album(owner, **fields)
    params["album"] = str(album.pk)  # reported back to the client
    return album


def _set_date(owner, ids, params):
    return services.set_taken(owner, ids, _wall_clock(params), params.get("taken_offset"))


def _wall_clock(params) -> datetime:
    """The date taken of set_date, kept by a background job as ISO text."""
    try:
        local = datetime.fromisoformat(str(params.get("taken_local") or ""))
    except ValueError:
        raise BulkError("Give the date taken (taken_local), for example 2024-05-01T18:30:00.") from None
    if local.tzinfo is not None:
        raise BulkError("Give the date taken without a zone, and the zone in taken_offset (minutes).")
    return local


def _set_location(owner, ids, params):
    if params.get("latitude") is None or params.get("longitude") is None:
        raise BulkError("Give the latitude and the longitude (or use remove_location).")
    return services.set_location(owner, ids, params["latitude"], params["longitude"])


# action -> (function(owner, ids, params) -> ids done, which pictures it applies to: "live" or "trash")
ACTIONS = {
    "add_to_album": lambda owner, ids, params: services.add_to_album(owner, _album(owner, params.get("album")), ids),
    "move_to_album": lambda owner, ids, params: services.move_to_album(
        owner, _album(owner, params.get("album"), required=False), ids
    ),
    "remove_from_album": lambda owner, ids, params: services.remove_from_album(
        owner, _album(owner, params.get("album")), ids
    ),
    "new_album": lambda owner, ids, params: services.add_to_album(owner, _new_album(owner, params), ids),
    "set_category": _set_category,
    "add_tags": lambda owner, ids, params: _tagged(services.add_tags, owner, ids, params),
    "remove_tags": lambda owner, ids, params: _tagged(services.remove_tags, owner, ids, params),
    "favourite": _marks(favourite=True),
    "unfavourite": _marks(favourite=False),
    "archive": _marks(archived=True),
    "unarchive": _marks(archived=False),
    "rotate": lambda owner, ids, params: services.rotate(owner, ids, int(params.get("degrees") or 90)),
    "set_date": _set_date,
    "set_location": _set_location,
    "remove_location": lambda owner, ids, params: services.set_location(owner, ids, None, None),
    "trash": lambda owner, ids, params: trash.trash_photos(owner, ids),
    "restore": lambda owner, ids, params: _restored(owner, ids),
}


def _tagged(service, owner, ids, params):
    if not params.get("tags"):
        raise BulkError("Name the tags.")
    service(owner, ids, params["tags"])
    return _ids_of(owner, ids)


def _restored(owner, ids):
    chosen = list(Photo.objects.in_trash_of(owner).filter(pk__in=list(ids)).values_list("pk", flat=True))
    trash.restore(owner, photo_ids=chosen)
    return chosen


def check(owner, action: str, params: dict) -> None:
    """Refuse a wrong action or parameter before anything runs (and before a background job is queued)."""
    if action not in ACTIONS:
        raise BulkError(f"Unknown action; one of {', '.join(ACTIONS)}.")
    if action in ("add_to_album", "remove_from_album"):
        _album(owner, params.get("album"))
    if action == "move_to_album":
        _album(owner, params.get("album"), required=False)
    if action in ("add_tags", "remove_tags") and not params.get("tags"):
        raise BulkError("Name the tags.")
    if action == "new_album" and not (params.get("title") and params.get("category")):
        raise BulkError("A new album needs a title and a category.")
    try:  # the services' own checks, on no picture, so that a background job never starts wrong
        if action == "set_date":
            services.set_taken(owner, [], _wall_clock(params), params.get("taken_offset"))
        if action == "set_location":
            _set_location(owner, [], params)
    except ValueError as error:
        raise BulkError(str(error)) from None


def run(owner, action: str, ids: list, params: dict) -> list[dict]:
    """Apply `action` to the owner's pictures among `ids`, in one transaction; one result per id, in order."""
    check(owner, action, params)
    ids = [str(pk) for pk in dict.fromkeys(str(pk) for pk in ids)]
    with transaction.atomic():
        done = {str(pk) for pk in ACTIONS[action](owner, ids, params)}
    return [{"id": pk, "ok": True} if pk in done else {"id": pk, "ok": False, "error": NOT_FOUND} for pk in ids]


def start(owner, action: str, ids: list, params: dict) -> BulkJob:
    """Queue a large bulk action as a background job (after checking its parameters)."""
    check(owner, action, params)
    ids = list(dict.fromkeys(str(pk) for pk in ids))
    if action == "new_album":  # made once, here; the chunks then add to it
        _new_album(owner, params)
        action = "add_to_album"
    job = BulkJob.objects.create(owner=owner, action=action, params=params, ids=ids, total=len(ids))

    def enqueue():
        from .tasks import run_bulk_job

        run_bulk_job.enqueue(str(job.pk))

    transaction.on_commit(enqueue)
    return job


def run_job(job_id) -> None:
    """The background side of `start`: the selection a chunk at a time, each chunk in its own transaction, with the
    progress saved after each so that the client sees it move."""
    job = BulkJob.objects.filter(pk=job_id).select_related("owner").first()
    if job is None or job.state in (BulkJob.State.DONE, BulkJob.State.FAILED):
        return
    BulkJob.objects.filter(pk=job.pk).update(state=BulkJob.State.RUNNING)
    results = list(job.results)
    try:
        for start_at in range(len(results), len(job.ids), CHUNK):
            chunk = run(job.owner, job.action, job.ids[start_at : start_at + CHUNK], job.params)
            results += chunk
            BulkJob.objects.filter(pk=job.pk).update(
                done=len(results), failed=sum(not row["ok"] for row in results), results=results
            )
    except Exception:
        BulkJob.objects.filter(pk=job.pk).update(state=BulkJob.State.FAILED, finished_at=timezone.now())
        raise
    BulkJob.objects.filter(pk=job.pk).update(state=BulkJob.State.DONE, finished_at=timezone.now())
