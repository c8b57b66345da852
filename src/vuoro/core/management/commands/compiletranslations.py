"""Compile the gettext catalogues with polib, so no system gettext is needed."""

from pathlib import Path

import polib
from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Compile locale/*/LC_MESSAGES/*.po to .mo (pure Python)."

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        count = 0
        for base in settings.LOCALE_PATHS:
            for po_path in Path(base).glob("*/LC_MESSAGES/*.po"):
                po = polib.pofile(str(po_path))
                po.save_as_mofile(str(po_path.with_suffix(".mo")))
                count += 1
                self.stdout.write(f"{po_path.parent.parent.name}: {po.percent_translated()}% translated")
        self.stdout.write(self.style.SUCCESS(f"Compiled {count} catalogue(s)."))
