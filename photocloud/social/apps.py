from django.apps import AppConfig


class SocialConfig(AppConfig):
    name = "photocloud.social"
    label = "social"

    def ready(self):
        from . import signals  # noqa: F401 (connects the log-in receiver)
