"""The ``vuoro`` console script: Django's management commands with Vuoro's settings.

``vuoro serve`` is the exception: it only supervises gunicorn and a worker, so it runs
without setting Django up (``vuoro.ops.serving``) and keeps its own process small.
"""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vuoro.settings")
    if sys.argv[1:2] == ["serve"]:
        from vuoro.ops.serving import main as serve

        sys.exit(serve(sys.argv[2:]))
    from django.core.management import execute_from_command_line

    execute_from_command_line(["vuoro", *sys.argv[1:]])


if __name__ == "__main__":
    main()
