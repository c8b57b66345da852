"""Operator commands: demo data, createadmin, translations, and `vuoro serve` end to end."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from vuoro.accounts.models import Role, User
from vuoro.catalog.models import Service


def test_demo_loads_once_with_a_user_per_role(db, capsys):
    call_command("demo")
    call_command("demo")
    out = capsys.readouterr().out
    assert "Demo data already present." in out
    assert set(User.objects.values_list("role", flat=True)) == set(Role.values)
    assert Service.objects.filter(critical=True).exists()


def test_createadmin_creates_and_resets(db):
    call_command("createadmin", username="root", email="root@example.test", password="long-enough-pw")
    admin = User.objects.get(username="root")
    assert admin.role == Role.ADMIN and admin.is_superuser and admin.check_password("long-enough-pw")
    call_command("createadmin", username="root", password="another-long-pw")
    admin.refresh_from_db()
    assert admin.check_password("another-long-pw")


def test_createadmin_refuses_short_password(db):
    with pytest.raises(CommandError):
        call_command("createadmin", username="root", password="short")
    assert not User.objects.filter(username="root").exists()


def test_translations_compile_for_finnish_and_swedish(capsys):
    call_command("compiletranslations")
    out = capsys.readouterr().out
    assert "fi:" in out and "sv:" in out
    locale = Path(__file__).resolve().parents[1] / "src" / "vuoro" / "locale"
    assert (locale / "fi" / "LC_MESSAGES" / "django.mo").exists()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_runs_gunicorn_and_a_worker_on_a_fresh_data_dir(tmp_path):
    env = dict(os.environ, VUORO_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="vuoro.settings")
    env.pop("DATABASE_URL", None)
    cli = [sys.executable, "-m", "vuoro.cli"]
    subprocess.run([*cli, "migrate", "--no-input", "-v0"], env=env, check=True, timeout=120)
    demo = subprocess.run([*cli, "demo"], env=env, check=True, capture_output=True, text=True, timeout=60)
    assert "antti" in demo.stdout and "vuoro-demo" in demo.stdout
    port = free_port()
    server = subprocess.Popen([*cli, "serve", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        health = None
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    health = json.load(r)
                    break
            except Exception:  # noqa: BLE001 - not up yet, or the worker has not beaten yet
                time.sleep(0.5)
        assert health == {"database": "ok", "worker": "ok", "worker_last_seen": health["worker_last_seen"],
                          "pages_overdue": 0, "pages_unknown_unresolved": 0,
                          "events_failed": 0, "events_waiting": 0, "status": "ok"}
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/portal/", timeout=5) as r:
            page = r.read().decode()
        assert r.status == 200 and 'lang="fi"' in page
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/openapi.json", timeout=5) as r:
            schema = json.load(r)
        assert "/api/v1/tickets" in schema["paths"]
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_every_demo_log_in_works_and_lands_where_its_role_belongs(db, client):
    from vuoro.ops.demo import DEMO_PASSWORD, DEMO_USERS, load_demo

    load_demo()
    for username, role, *_rest in DEMO_USERS:
        client.logout()
        response = client.post("/login/", {"username": username, "password": DEMO_PASSWORD}, follow=True)
        assert response.status_code == 200, username
        assert response.wsgi_request.user.username == username
        landing = response.redirect_chain[-1][0]
        # Partner agents work at night in their own console.
        expected = {Role.REQUESTER: "/portal/", Role.PARTNER: "/partner/"}.get(role, "/desk/")
        assert landing.startswith(expected), (username, landing)
