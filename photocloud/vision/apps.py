from django.apps import AppConfig


class VisionConfig(AppConfig):
    """What the system sees in pictures: features, labels, faces, text, categories, similarity."""

    name = "photocloud.vision"
    label = "vision"

    def warm_up(self):
        """Called by the web server before it forks (core/web.py): the CNN that search by image runs is loaded and
        run once, and the search-by-image index read, so that the workers share them and no first search waits."""
        from PIL import Image

        from .features import INPUT_SIZE, analyze
        from .search import load_index

        analyze([Image.new("RGB", (INPUT_SIZE, INPUT_SIZE))])
        load_index()

    def ready(self):
        from photocloud.library.signals import labels_changed, photo_processed

        photo_processed.connect(queue_analysis, dispatch_uid="vision.queue_analysis")
        labels_changed.connect(queue_training, dispatch_uid="vision.queue_training")


def queue_analysis(sender, photo, **kwargs):
    """Analyse each picture once its renditions exist (the models load in the worker, never in the web server)."""
    from django.conf import settings
    from django.db import transaction

    if settings.PHOTOCLOUD["VISION"]:
        from .tasks import analyze_photos

        transaction.on_commit(lambda: analyze_photos.enqueue([str(photo.pk)]))


def queue_training(sender, owner, **kwargs):
    """Relearn the user's own classes when the categories they gave their pictures change."""
    from django.conf import settings
    from django.db import transaction

    if settings.PHOTOCLOUD["VISION"]:
        from .tasks import train_taught_classes

        transaction.on_commit(lambda: train_taught_classes.enqueue(owner.pk))
