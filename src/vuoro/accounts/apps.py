from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "vuoro.accounts"
    label = "accounts"

    def ready(self) -> None:
        from vuoro.accounts.models import Team, User
        from vuoro.core.config_cache import watch

        # Who may take tickets is configuration; a person's sign-in time or language is not.
        kept = {"role", "is_active", "id"}
        watch(User, ignore_fields={f.name for f in User._meta.concrete_fields} - kept)
        watch(Team, Team.members.through, ignore_fields={"last_assigned"})
