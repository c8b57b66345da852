"""Create (or reset) an administrator account."""

import getpass

from django.core.management.base import BaseCommand, CommandError

from vuoro.accounts.models import Role, User


class Command(BaseCommand):
    help = "Create an administrator: vuoro createadmin --username NAME --email ADDRESS"

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--username", required=True)
        parser.add_argument("--email", default="")
        parser.add_argument("--password", help="Prompted for when omitted.")

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        password = options["password"] or getpass.getpass("Password: ")
        if len(password) < 8:
            raise CommandError("The password must be at least 8 characters.")
        user, created = User.objects.get_or_create(username=options["username"])
        user.email = options["email"] or user.email
        user.role = Role.ADMIN
        user.is_staff = True
        user.is_superuser = True
        user.set_password(password)
        user.save()
        verb = "Created" if created else "Updated"
        self.stdout.write(self.style.SUCCESS(f"{verb} administrator {user.username}."))
