from django.apps import AppConfig
from django.db import transaction


class SearchConfig(AppConfig):
    """One search box: keywords, meaning, filters and scopes over everything the viewer may see."""

    name = "photocloud.search"
    label = "search"

    def ready(self):
        from django.db.models.signals import m2m_changed, post_save

        from photocloud.library.models import Album, Photo
        from photocloud.library.signals import labels_changed, photo_processed, photos_moved
        from photocloud.vision.models import PhotoAnalysis
        from photocloud.vision.signals import taught_suggestions_changed

        post_save.connect(photo_saved, sender=Photo, dispatch_uid="search.photo_saved")
        post_save.connect(analysis_saved, sender=PhotoAnalysis, dispatch_uid="search.analysis_saved")
        post_save.connect(album_saved, sender=Album, dispatch_uid="search.album_saved")
        m2m_changed.connect(photo_tags_changed, sender=Photo.tags.through, dispatch_uid="search.photo_tags")
        m2m_changed.connect(album_tags_changed, sender=Album.tags.through, dispatch_uid="search.album_tags")
        photo_processed.connect(photo_processed_handler, dispatch_uid="search.photo_processed")
        labels_changed.connect(labels_changed_handler, dispatch_uid="search.labels_changed")
        photos_moved.connect(photos_moved_handler, dispatch_uid="search.photos_moved")
        taught_suggestions_changed.connect(taught_suggestions_handler, dispatch_uid="search.taught_suggestions")
        # Deleting a picture or album deletes its document (cascade), and each database's index follows.

    def recover_interrupted_work(self):
        """Called by `photocloud serve`: pictures and albums without a document (made before this app was installed,
        or whose indexing failed) are indexed in the background."""
        from .services import missing_documents
        from .tasks import index_missing

        photos, albums = missing_documents()
        if photos or albums:
            index_missing.enqueue()
            return f"Queued search indexing of {photos} picture(s) and {albums} album(s) missing from the index."
        return None


def photo_saved(sender, instance, raw=False, **kwargs):
    if not raw:
        from .services import index_photos

        index_photos([instance.pk])


def analysis_saved(sender, instance, raw=False, **kwargs):
    if not raw:
        from .services import index_photos

        index_photos([instance.photo_id])


def album_saved(sender, instance, created, raw=False, **kwargs):
    if raw:
        return
    from .services import index_albums

    index_albums([instance.pk])
    if not created:
        _queue_album_photos(instance.pk)


def photo_tags_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if action in ("post_add", "post_remove", "post_clear"):
        from .services import index_photos

        index_photos(list(pk_set or []) if reverse else [instance.pk])


def album_tags_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if action in ("post_add", "post_remove", "post_clear"):
        from .services import index_albums

        album_ids = list(pk_set or []) if reverse else [instance.pk]
        index_albums(album_ids)
        for album_id in album_ids:
            _queue_album_photos(album_id)


def _queue_album_photos(album_id):
    from .tasks import index_album_photos

    transaction.on_commit(lambda: index_album_photos.enqueue(str(album_id)))


def photo_processed_handler(sender, photo, **kwargs):
    """Metadata and renditions exist now: the dominant colour can be computed, and the file's details indexed."""
    from photocloud.library import colors

    from .services import index_photos

    colors.compute_for(photo)
    index_photos([photo.pk])


def taught_suggestions_handler(sender, photo_ids, **kwargs):
    """Indexed at once: the training or analysis that changed the suggestions already runs in the worker."""
    from .services import index_photos

    index_photos(photo_ids)


def photos_moved_handler(sender, album, **kwargs):
    """Only the pictures now in `album` carry a new album title and tags, not the owner's whole library."""
    _queue_album_photos(album.pk)


def labels_changed_handler(sender, owner, **kwargs):
    _queue_owner_photos(owner.pk)


def _queue_owner_photos(owner_id):
    from .tasks import index_owner_photos

    transaction.on_commit(lambda: index_owner_photos.enqueue(owner_id))
