"""Reads of the sync app: a user's import folders with their progress."""

from .models import ImportEvent, ImportFolder

RECENT_EVENTS = 10


def import_folders_of(user) -> list[ImportFolder]:
    """The user's own import folders, each with `recent` = its latest events (a user has a few folders at most)."""
    folders = list(ImportFolder.objects.filter(owner=user).select_related("album"))
    for folder in folders:
        folder.recent = list(ImportEvent.objects.filter(folder=folder).select_related("photo")[:RECENT_EVENTS])
    return folders
