from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "vuoro.accounts"
    label = "accounts"
