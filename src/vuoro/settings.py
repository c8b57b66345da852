"""Django settings for Vuoro, read from the environment.

The embedded default is SQLite in WAL mode under ``var/``; ``DATABASE_URL=postgres://…``
switches to PostgreSQL with no other change. ``VUORO_PRODUCTION=1`` turns on secure cookies
and HSTS for a deployment behind TLS.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DATA_DIR = Path(os.environ.get("VUORO_DATA_DIR", PROJECT_DIR / "var")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("VUORO_DEBUG", False)
PRODUCTION = env_bool("VUORO_PRODUCTION", False)
SECRET_KEY = os.environ.get("VUORO_SECRET_KEY", "")
if not SECRET_KEY:
    if PRODUCTION:
        raise RuntimeError("VUORO_SECRET_KEY must be set when VUORO_PRODUCTION=1")
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        from django.core.management.utils import get_random_secret_key

        key_file.write_text(get_random_secret_key())
        key_file.chmod(0o600)
    SECRET_KEY = key_file.read_text().strip()

ALLOWED_HOSTS = os.environ.get("VUORO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")
CSRF_TRUSTED_ORIGINS = [
    o for o in os.environ.get("VUORO_CSRF_TRUSTED_ORIGINS", "").split(",") if o
]
BASE_URL = os.environ.get("VUORO_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    # Admin modules load with the URLs (urls.py), not at start-up: a worker that never serves
    # the admin starts paging without importing every admin module first.
    "django.contrib.admin.apps.SimpleAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "vuoro.core",
    "vuoro.accounts",
    "vuoro.calendars",
    "vuoro.catalog",
    "vuoro.tickets",
    "vuoro.sla",
    "vuoro.coverage",
    "vuoro.notify",
    "vuoro.oncall",
    "vuoro.paging",
    "vuoro.runbooks",
    "vuoro.partner",
    "vuoro.channels",
    "vuoro.telephony",
    "vuoro.webhooks",
    "vuoro.portal",
    "vuoro.desk",
    "vuoro.api",
    "vuoro.ops",
    "axes",  # sign-in throttling and lockout (ARCHITECTURE.md, "Libraries")
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "vuoro.accounts.middleware.RememberLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",  # last: it answers a locked-out sign-in
]

# Sign-in throttling (django-axes): after VUORO_SIGNIN_FAILURE_LIMIT failed sign-ins, for one
# account or from one address, further attempts are refused (429, the page says until when)
# for VUORO_SIGNIN_LOCKOUT_MINUTES, or until an admin removes the lockout (admin: Access
# attempts; or `vuoro axes_reset_username NAME`). Successful and failed sign-ins are logged.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("VUORO_SIGNIN_FAILURE_LIMIT", "10"))
AXES_COOLOFF_TIME = timedelta(minutes=float(os.environ.get("VUORO_SIGNIN_LOCKOUT_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_USERNAME_CALLABLE = "vuoro.accounts.signin.attempted_username"
AXES_CLIENT_IP_CALLABLE = "vuoro.core.http.client_ip"
AXES_LOCKOUT_CALLABLE = "vuoro.accounts.signin.locked_out"
AXES_HTTP_RESPONSE_CODE = 429
AXES_VERBOSE = False

ROOT_URLCONF = "vuoro.urls"
WSGI_APPLICATION = "vuoro.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "vuoro.core.context_processors.vuoro",
            ],
        },
    },
]

_default_sqlite = f"sqlite:///{DATA_DIR / 'vuoro.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", _default_sqlite), conn_max_age=60, conn_health_checks=True
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Django's SQLite backend, with writers taking turns promptly (see its docstring).
    DATABASES["default"]["ENGINE"] = "vuoro.core.sqlite_backend"
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers go on while one writer commits; IMMEDIATE takes the write lock
        # at BEGIN so two writers queue instead of failing with "database is locked".
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;"
        ),
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}
else:
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("VUORO_TEST_DB_NAME", "test_vuoro")}
    # Queue and scope queries are short OLTP reads; PostgreSQL's JIT compiles them for ~150 ms
    # whenever the planner's estimate crosses its threshold, which costs far more than it saves.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault("options", "-c jit=off")
    DATABASES["default"]["OPTIONS"].setdefault("server_side_binding", True)
    DATABASES["default"]["OPTIONS"].setdefault("prepare_threshold", 2)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "fi"
LANGUAGES = [("fi", _("Finnish")), ("en", _("English")), ("sv", _("Swedish"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Helsinki"
USE_I18N = True
USE_TZ = True
LANGUAGE_COOKIE_NAME = "vuoro_language"

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
# Serve straight from the app folders too, so tests and a fresh checkout need no collectstatic.
WHITENOISE_USE_FINDERS = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Attachments live outside the web root and are served only through a permission-checked view.
MEDIA_ROOT = DATA_DIR / "attachments"
MEDIA_URL = "/attachments-not-public/"

TASKS = {
    "default": {
        "BACKEND": os.environ.get("VUORO_TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 31536000
# Behind a TLS-terminating proxy that sets X-Forwarded-Proto (and strips a client's own):
# requests it marks "https" are secure. On by default with VUORO_PRODUCTION.
# Reverse proxies whose X-Forwarded-For names the client (the access logs); none by default.
VUORO_TRUSTED_PROXIES = os.environ.get("VUORO_TRUSTED_PROXIES", "")
if env_bool("VUORO_TRUST_X_FORWARDED_PROTO", PRODUCTION):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# The proxy's X-Forwarded-Host names the site (only if the proxy sets it itself).
USE_X_FORWARDED_HOST = env_bool("VUORO_USE_X_FORWARDED_HOST", False)

EMAIL_BACKEND = os.environ.get(
    "VUORO_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = os.environ.get("VUORO_FROM_EMAIL", "tuki@vuoro.example")
# Requesters are told by email when a request is received, answered, waiting or resolved.
VUORO_REQUESTER_MAIL = env_bool("VUORO_REQUESTER_MAIL", True)
# Desk staff are told by email of new tickets, assignments and requesters' messages.
VUORO_AGENT_MAIL = env_bool("VUORO_AGENT_MAIL", True)
# Our own loop marker on outgoing mail; incoming mail carrying it is never turned into tickets.
VUORO_X_LOOP = os.environ.get("VUORO_X_LOOP", "vuoro")
EMAIL_HOST = os.environ.get("VUORO_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("VUORO_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("VUORO_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("VUORO_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = env_bool("VUORO_EMAIL_STARTTLS", False)
EMAIL_USE_SSL = env_bool("VUORO_EMAIL_SSL", False)
EMAIL_TIMEOUT = int(os.environ.get("VUORO_EMAIL_TIMEOUT", "10"))
# Mail from one address beyond this many in ten minutes is not filed (a loop or a flood).
VUORO_EMAIL_RATE_LIMIT = int(os.environ.get("VUORO_EMAIL_RATE_LIMIT", "20"))
# Limits on one received message, checked on its raw bytes before it is parsed (README).
VUORO_EMAIL_MAX_HEADER_BYTES = int(os.environ.get("VUORO_EMAIL_MAX_HEADER_BYTES", str(256 * 1024)))
VUORO_EMAIL_MAX_HEADERS = int(os.environ.get("VUORO_EMAIL_MAX_HEADERS", "500"))
VUORO_EMAIL_MAX_HEADER_FIELD_BYTES = int(os.environ.get("VUORO_EMAIL_MAX_HEADER_FIELD_BYTES", str(32 * 1024)))
VUORO_EMAIL_MAX_ENCODED_WORDS = int(os.environ.get("VUORO_EMAIL_MAX_ENCODED_WORDS", "200"))
VUORO_EMAIL_MAX_THREAD_IDS = int(os.environ.get("VUORO_EMAIL_MAX_THREAD_IDS", "50"))
VUORO_EMAIL_MAX_DEPTH = int(os.environ.get("VUORO_EMAIL_MAX_DEPTH", "20"))
VUORO_EMAIL_MAX_PARTS = int(os.environ.get("VUORO_EMAIL_MAX_PARTS", "500"))
VUORO_EMAIL_MAX_ATTACHMENTS = int(os.environ.get("VUORO_EMAIL_MAX_ATTACHMENTS", "100"))
VUORO_EMAIL_MAX_ATTACHMENT_BYTES = int(os.environ.get("VUORO_EMAIL_MAX_ATTACHMENT_BYTES", str(25 * 1024 * 1024)))
# IMAP over TLS or STARTTLS verifies the server's certificate; a private CA's file goes here.
VUORO_IMAP_CA_FILE = os.environ.get("VUORO_IMAP_CA_FILE", "")

DATA_UPLOAD_MAX_MEMORY_SIZE = 30 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Request bodies under `vuoro serve` (core.http_limits): largest accepted body (413 beyond),
# seconds a client may send nothing while sending one, and seconds to send it whole (408).
VUORO_MAX_BODY_BYTES = int(os.environ.get("VUORO_MAX_BODY_BYTES", str(DATA_UPLOAD_MAX_MEMORY_SIZE)))
VUORO_BODY_READ_TIMEOUT = float(os.environ.get("VUORO_BODY_READ_TIMEOUT", "10"))
VUORO_BODY_DEADLINE = float(os.environ.get("VUORO_BODY_DEADLINE", "60"))

# Vuoro's own knobs.
VUORO_TICKET_PREFIX = os.environ.get("VUORO_TICKET_PREFIX", "VUO")
VUORO_REOPEN_WINDOW_DAYS = int(os.environ.get("VUORO_REOPEN_WINDOW_DAYS", "14"))
VUORO_ATTACHMENT_MAX_BYTES = int(os.environ.get("VUORO_ATTACHMENT_MAX_BYTES", str(10 * 1024 * 1024)))
VUORO_ATTACHMENTS_PER_MESSAGE = int(os.environ.get("VUORO_ATTACHMENTS_PER_MESSAGE", "10"))
VUORO_ATTACHMENTS_MESSAGE_BYTES = int(os.environ.get("VUORO_ATTACHMENTS_MESSAGE_BYTES", str(25 * 1024 * 1024)))
VUORO_ATTACHMENTS_TICKET_BYTES = int(os.environ.get("VUORO_ATTACHMENTS_TICKET_BYTES", str(100 * 1024 * 1024)))
VUORO_ATTACHMENT_ALLOWED_TYPES = [
    "application/pdf",
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "text/plain",
    "text/csv",
    "application/zip",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "message/rfc822",
    "text/calendar",
]
VUORO_PAGE_SIZE = 50
# Deferred reactions to domain events (mail, webhooks) run in the worker after the change
# committed; inline, they run inside the change's transaction (the test suite's default).
VUORO_REACT_INLINE = env_bool("VUORO_REACT_INLINE", False)
VUORO_WORKER_STALE_SECONDS = 30

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("VUORO_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
