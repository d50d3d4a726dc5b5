from django.apps import AppConfig


class SocialConfig(AppConfig):
    name = "photocloud.social"
    label = "social"
