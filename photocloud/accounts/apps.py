from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "photocloud.accounts"
    label = "accounts"
