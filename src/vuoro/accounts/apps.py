from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "vuoro.accounts"
    label = "accounts"

    def ready(self) -> None:
        from vuoro.accounts.models import Team, User
        from vuoro.core.config_cache import watch

        # Who may take tickets, and what a person may see (cached with their API tokens), is
        # configuration; a person's sign-in time or language is not.
        kept = {"role", "is_active", "id", "organisation", "can_see_organisation_tickets"}
        watch(User, ignore_fields={f.name for f in User._meta.concrete_fields} - kept)
        watch(Team, Team.members.through, ignore_fields={"last_assigned"})
