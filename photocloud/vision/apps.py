from django.apps import AppConfig


class VisionConfig(AppConfig):
    """What the system sees in pictures: features, labels, faces, text, categories, similarity."""

    name = "photocloud.vision"
    label = "vision"
