"""Load the demo data once and print the demo log-ins."""

from django.core.management.base import BaseCommand

from vuoro.ops.demo import DEMO_PASSWORD, DEMO_USERS, load_demo


class Command(BaseCommand):
    help = "Load demo organisations, users, services and forms (once) and print the log-ins."

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        loaded = load_demo()
        self.stdout.write("Demo data loaded." if loaded else "Demo data already present.")
        self.stdout.write(f"\nDemo log-ins (password for all: {DEMO_PASSWORD})")
        for username, role, *_rest in DEMO_USERS:
            self.stdout.write(f"  {role.label:<24} {username}")
        self.stdout.write("")
