"""Add many realistic tickets at once, for load tests and large demos (after `vuoro demo`)."""

import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from vuoro.ops.seeding import DEFAULT_BATCH, SeedError, require_services, seed_tickets


class Command(BaseCommand):
    help = "Seed N realistic tickets in bulk: vuoro seed --tickets 100000 [--organisations K] [--seed S]"

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--tickets", type=int, required=True, help="How many tickets to add.")
        parser.add_argument("--organisations", type=int, default=10,
                            help="Create organisations until there are at least this many.")
        parser.add_argument("--seed", type=int, default=1, help="Same seed, same tickets.")
        parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH)
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        if options["tickets"] < 1 or options["batch_size"] < 1:
            raise CommandError("--tickets and --batch-size must be positive.")
        try:
            require_services()
        except SeedError as exc:
            raise CommandError(str(exc)) from None
        bar = tqdm(total=options["tickets"], unit="ticket", file=sys.stderr,
                   disable=options["no_progress"])
        try:
            report = seed_tickets(count=options["tickets"], organisations=max(1, options["organisations"]),
                                  seed=options["seed"], batch_size=options["batch_size"],
                                  on_batch=bar.update)
        except SeedError as exc:
            raise CommandError(str(exc)) from None
        finally:
            bar.close()
        rate = report.tickets / report.seconds if report.seconds else 0
        self.stdout.write(self.style.SUCCESS(
            f"Seeded {report.tickets} tickets and {report.events} history rows in "
            f"{report.seconds:.1f} s ({rate:.0f} tickets/s); new: {report.organisations_created} "
            f"organisations, {report.requesters_created} requesters, {report.agents_created} agents."))
