from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "vuoro.accounts"
    label = "accounts"

    def ready(self) -> None:
        from vuoro.accounts.models import Team, User
        from vuoro.core.config_cache import watch

        # Who may take tickets, and what a person may see (cached with their API tokens), is
        # configuration; a person's sign-in time or language is not. A new person is neither in
        # a team (that is a many-to-many change, watched) nor holds a token yet, so creating one
        # (every unknown sender of mail and every anonymous portal request) changes nothing cached.
        kept = {"role", "is_active", "id", "organisation", "can_see_organisation_tickets"}
        watch(User, ignore_fields={f.name for f in User._meta.concrete_fields} - kept, ignore_created=True)
        watch(Team, Team.members.through, ignore_fields={"last_assigned"})
