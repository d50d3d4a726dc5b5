from django.apps import AppConfig


class PeopleConfig(AppConfig):
    """Faces grouped into people the owner can name, merge, split and hide; private to the owner of the pictures."""

    name = "photocloud.people"
    label = "people"

    def ready(self):
        from django.conf import settings

        from photocloud.library import pipeline

        from . import tasks

        # After analysis: the faces it found join the owner's people (services.faces_for_pictures).
        pipeline.register("people", tasks.cluster_faces.enqueue, lambda: settings.PHOTOCLOUD["VISION"])
