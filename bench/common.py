"""Shared by the benchmark scripts: a fresh database per run, and percentile arithmetic.

Everything talks to 127.0.0.1 only.
"""

import math
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
PG_SERVER = "postgres://postgres@127.0.0.1:5432"


def database_env(db: str, name: str) -> dict[str, str]:
    """Environment for a Vuoro process on its own SQLite data dir or PostgreSQL database."""
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="vuoro.settings", VUORO_LOG_LEVEL="WARNING")
    env.pop("DATABASE_URL", None)
    env["VUORO_DATA_DIR"] = f"/tmp/{name}-{db}"
    if db == "postgres":
        env["DATABASE_URL"] = f"{PG_SERVER}/{name.replace('-', '_')}"
    return env


def fresh_database(db: str, env: dict[str, str]) -> None:
    """Drop and recreate the benchmark database, then migrate and load the demo."""
    shutil.rmtree(env["VUORO_DATA_DIR"], ignore_errors=True)
    if db == "postgres":
        name = env["DATABASE_URL"].rsplit("/", 1)[1]
        subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", name], check=True)
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name], check=True)
    vuoro(env, "migrate", "--no-input", "-v0")
    vuoro(env, "demo")


def vuoro(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([str(BIN / "vuoro"), *args], env=env, check=True, text=True,
                          stdout=subprocess.PIPE)
    return done.stdout


def django_snippet(env: dict[str, str], code: str) -> str:
    """Run Python inside a configured Vuoro (``vuoro shell -c``); returns what it printed."""
    return vuoro(env, "shell", "-v0", "-c", code).strip()


def percentile(samples: list[float], p: float) -> float:
    """Nearest-rank percentile: the value below which ``p`` % of the samples fall."""
    ordered = sorted(samples)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem_kb = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal")))
    return (f"{os.cpu_count()} cores ({cpu}), {mem_kb / 1024 / 1024:.0f} GiB RAM, "
            f"Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}")
