"""The floor under the API intake figure: the same server and client, an endpoint doing nothing.

A minimal Django project in a temporary directory: one django-ninja POST endpoint that checks a
bearer token against a constant, validates a two-field JSON body and inserts one row with one
SQL statement (PostgreSQL, the same server the intake benchmark uses, or a SQLite file). It is
served by the gunicorn worker class ``vuoro serve`` uses, with the same processes and threads,
and driven by ``bench/api_intake.py``'s client at the same concurrency. No Vuoro code runs in
the request: what the figure shows is what Django, django-ninja, gunicorn, the database driver
and the client cost on this machine, i.e. the most any intake built on them could do here.

    .venv/bin/python bench/framework_floor.py --db postgres
    .venv/bin/python bench/framework_floor.py --db sqlite --workers 1
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from api_intake import Run, cpu_split, drive, free_port, percentile  # noqa: E402
from common import BIN, machine  # noqa: E402

SETTINGS = '''
import os
SECRET_KEY = "floor"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1"]
ROOT_URLCONF = "floor_urls"
INSTALLED_APPS = ["django.contrib.contenttypes"]
MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
USE_TZ = True
if os.environ["FLOOR_DB"] == "postgres":
    DATABASES = {{"default": {{"ENGINE": "django.db.backends.postgresql", "NAME": "vuoro_bench_floor",
                             "USER": "postgres", "HOST": "127.0.0.1", "PORT": "5432",
                             "CONN_MAX_AGE": 600,
                             "OPTIONS": {{"server_side_binding": True, "prepare_threshold": 2}}}}}}
else:
    DATABASES = {{"default": {{"ENGINE": "django.db.backends.sqlite3", "NAME": {sqlite!r},
                             "OPTIONS": {{"init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
                                         "transaction_mode": "IMMEDIATE", "timeout": 20}}}}}}
'''

URLS = '''
from django.db import connection, transaction
from django.urls import path
from ninja import NinjaAPI, Schema
from ninja.security import HttpBearer


class Token(HttpBearer):
    def authenticate(self, request, token):
        return token == "floor" or None


class In(Schema):
    subject: str
    description: str


api = NinjaAPI(auth=Token())


@api.post("/tickets", response={201: dict})
def create(request, body: In):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("INSERT INTO floor_ticket (subject, description) VALUES (%s, %s) RETURNING id",
                       [body.subject, body.description])
        number = cursor.fetchone()[0]
    return 201, {"reference": f"FLOOR-{number:06d}", "subject": body.subject}


urlpatterns = [path("api/v1/", api.urls)]
'''

WSGI = '''
from django.core.wsgi import get_wsgi_application
application = get_wsgi_application()
'''

TABLE = {
    "postgres": "CREATE TABLE floor_ticket (id bigserial PRIMARY KEY, subject text, description text)",
    "sqlite": "CREATE TABLE floor_ticket (id INTEGER PRIMARY KEY AUTOINCREMENT, subject text, description text)",
}


def project(db: str) -> tuple[Path, dict[str, str]]:
    """The throwaway project and the environment that serves it, its table created afresh."""
    root = Path(tempfile.mkdtemp(prefix="vuoro-bench-floor-"))
    (root / "floor_settings.py").write_text(SETTINGS.format(sqlite=str(root / "floor.sqlite3")))
    (root / "floor_urls.py").write_text(URLS)
    (root / "floor_wsgi.py").write_text(WSGI)
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="floor_settings", FLOOR_DB=db,
               PYTHONPATH=str(root))
    if db == "postgres":
        subprocess.run(["dropdb", "--if-exists", "--force", "-h", "127.0.0.1", "-U", "postgres",
                        "vuoro_bench_floor"], check=True)
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", "vuoro_bench_floor"], check=True)
    subprocess.run([str(BIN / "python"), "-c", "import django; django.setup(); "
                    "from django.db import connection; "
                    f"connection.cursor().execute({TABLE[db]!r})"], env=env, cwd=root, check=True)
    return root, env


def serve(root: Path, env: dict[str, str], port: int, workers: int, threads: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [str(BIN / "python"), "-m", "gunicorn", "floor_wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--threads", str(threads),
         "--worker-class", "vuoro.core.web_worker.ThreadWorker",
         "--control-socket", str(root / "gunicorn.ctl")],
        env=env, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.5)
    if server.poll() is not None:
        raise SystemExit("gunicorn did not start")
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()

    root, env = project(args.db)
    port = free_port()
    server = serve(root, env, port, args.workers, args.threads)
    print(f"<!-- {machine()}; load average before: {Path('/proc/loadavg').read_text().split()[:3]} -->")
    try:
        drive(port, "floor", args.concurrency, 100, 0)
        before = cpu_split(server, None)
        run, seconds = drive(port, "floor", args.concurrency, args.requests, 100)
        after = cpu_split(server, None)
    finally:
        server.terminate()
        server.wait(timeout=20)
    report(args, run, seconds, before, after)


def report(args: argparse.Namespace, run: Run, seconds: float, before: dict[str, float],
           after: dict[str, float]) -> None:
    ms = [x * 1000 for x in run.latencies] or [float("nan")]
    print(f"| {args.db} | {args.workers}w×{args.threads}t | {args.concurrency} | {len(run.latencies)} | "
          f"{len(run.latencies) / seconds:.0f} | {percentile(ms, 50):.1f} | {percentile(ms, 99):.1f} | "
          f"{len(run.errors)} |")
    spent = ", ".join(f"{name} {(after[name] - before[name]) * 1000 / args.requests:.2f}" for name in before)
    print(f"<!-- CPU ms per request: {spent} -->")
    print(f"<!-- load average after: {Path('/proc/loadavg').read_text().split()[:3]} -->")
    for error in run.errors[:3]:
        print(f"<!-- error: {error} -->")


if __name__ == "__main__":
    main()
