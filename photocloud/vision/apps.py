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
        from .similar import load_index

        analyze([Image.new("RGB", (INPUT_SIZE, INPUT_SIZE))])
        load_index()

    def setup_report(self):
        """Said by `photocloud serve` at start."""
        from .similar import backend

        return f"Search by image: {backend()}."

    def ready(self):
        from django.conf import settings

        from photocloud.library import pipeline

        from . import tasks

        def vision_on():
            return settings.PHOTOCLOUD["VISION"]

        # The stages of the picture pipeline this app runs (the models load in the worker, never in the web server).
        pipeline.register("analysis", tasks.analyze_photos.enqueue, vision_on)
        pipeline.register("reanalysis", tasks.reanalyze_photos.enqueue, vision_on)
        pipeline.register("groupings", tasks.update_groupings.enqueue, vision_on)
        pipeline.register("training", tasks.train_taught_classes.enqueue, vision_on)
