"""Production settings harden cookies; the schema in the code matches the migrations."""

import os
import subprocess
import sys

from django.core.management import call_command


def settings_under(env: dict[str, str], expression: str) -> str:
    code = f"import django; django.setup(); from django.conf import settings; print({expression})"
    full = dict(os.environ, DJANGO_SETTINGS_MODULE="vuoro.settings", **env)
    return subprocess.run([sys.executable, "-c", code], env=full, capture_output=True, text=True,
                          check=True).stdout.strip()


def test_production_uses_secure_cookies_and_hsts():
    out = settings_under(
        {"VUORO_PRODUCTION": "1", "VUORO_SECRET_KEY": "x" * 50},
        "settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE, settings.SECURE_HSTS_SECONDS > 0",
    )
    assert out == "True True True"


def test_production_refuses_to_start_without_a_secret_key():
    code = "import django; django.setup()"
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="vuoro.settings", VUORO_PRODUCTION="1")
    env.pop("VUORO_SECRET_KEY", None)
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert result.returncode != 0 and "VUORO_SECRET_KEY" in result.stderr


def test_default_password_hasher_is_djangos_pbkdf2():
    out = settings_under({}, "settings.PASSWORD_HASHERS[0]")
    assert out == "django.contrib.auth.hashers.PBKDF2PasswordHasher"


def test_csrf_protection_is_on():
    out = settings_under({}, "'django.middleware.csrf.CsrfViewMiddleware' in settings.MIDDLEWARE")
    assert out == "True"


def test_models_and_migrations_agree(db):
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)
