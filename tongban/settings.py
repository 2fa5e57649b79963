"""The one settings module. Every value comes from the environment (see docs/DEPLOY.md).

In production (``TONGBAN_ENV=production``) the process refuses to start with DEBUG on,
a default secret key, default personal-data keys, or no allowed hosts.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
PACKAGE_DIR = Path(__file__).resolve().parent

DEFAULT_SECRET_KEY = "tongban-development-only-secret-key-do-not-use-in-production"  # noqa: S105
# 128-bit SM4 key and HMAC key used only when no key is configured (development and tests).
DEFAULT_PII_KEY = "00112233445566778899aabbccddeeff"
DEFAULT_PII_HMAC_KEY = "tongban-development-only-hmac-key"


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), got {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as error:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from error


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


TONGBAN_ENV = env_str("TONGBAN_ENV", "development")
if TONGBAN_ENV not in {"development", "test", "production"}:
    raise ImproperlyConfigured("TONGBAN_ENV must be development, test or production")
PRODUCTION = TONGBAN_ENV == "production"

DEBUG = env_bool("TONGBAN_DEBUG", not PRODUCTION)
SECRET_KEY = env_str("TONGBAN_SECRET_KEY", DEFAULT_SECRET_KEY)
ALLOWED_HOSTS = env_list(
    "TONGBAN_ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"]
)
CSRF_TRUSTED_ORIGINS = env_list("TONGBAN_CSRF_TRUSTED_ORIGINS", [])

VAR_DIR = Path(env_str("TONGBAN_VAR_DIR", str(BASE_DIR / "var")))

# Personal data: SM4-GCM key (32 hex digits = 128 bits), or a key ring "2:<hex>,1:<hex>" whose
# first key encrypts and the others still decrypt (see `tongban rotate-keys`), and the
# SM3-HMAC lookup key.
TONGBAN_PII_KEY = env_str("TONGBAN_PII_KEY", DEFAULT_PII_KEY)
TONGBAN_PII_HMAC_KEY = env_str("TONGBAN_PII_HMAC_KEY", DEFAULT_PII_HMAC_KEY)

if PRODUCTION:
    problems = []
    if DEBUG:
        problems.append("TONGBAN_DEBUG must be off")
    if SECRET_KEY == DEFAULT_SECRET_KEY or len(SECRET_KEY) < 40:
        problems.append("TONGBAN_SECRET_KEY must be set to a random value of 40+ characters")
    if DEFAULT_PII_KEY in TONGBAN_PII_KEY.lower():
        problems.append(
            "TONGBAN_PII_KEY must be set (32 hex digits, or a key ring) and may not contain "
            "the development key"
        )
    if DEFAULT_PII_HMAC_KEY == TONGBAN_PII_HMAC_KEY:
        problems.append("TONGBAN_PII_HMAC_KEY must be set")
    if not ALLOWED_HOSTS:
        problems.append("TONGBAN_ALLOWED_HOSTS must list the host names served")
    if problems:
        raise ImproperlyConfigured("Refusing to start in production: " + "; ".join(problems))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_prometheus",
    "axes",
    "csp",
    # Swagger UI at /api/docs from Ninja's own static files, not a CDN (the CSP allows none)
    "ninja",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_tasks",
    "django_tasks_db",
    # the platform
    "tongban.platform.crypto",
    "tongban.platform.orgs",
    "tongban.platform.accounts",
    "tongban.platform.access",
    "tongban.platform.audit",
    "tongban.platform.calendar",
    "tongban.platform.events",
    "tongban.platform.notify",
    "tongban.platform.files",
    "tongban.platform.ui",
    "tongban.platform.api",
    "tongban.platform.search",
    "tongban.platform.workflow",
    "tongban.platform.backup",
    # the applications
    "tongban.apps.catalog",
    "tongban.apps.licences",
    "tongban.apps.approvals",
    "tongban.apps.supervision",
    "tongban.apps.basedata",
    "tongban.apps.sharing",
    "tongban.apps.exchange",
    "tongban.apps.documents",
    # outside the platform: loads the demo city
    "tongban.demo",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "tongban.platform.ui.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    # no NUL characters in text input: PostgreSQL refuses them (400, not 500)
    "tongban.platform.ui.middleware.RejectNulMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "tongban.platform.accounts.middleware.IdleTimeoutMiddleware",
    "tongban.platform.accounts.middleware.MfaEnforcementMiddleware",
    "tongban.platform.accounts.middleware.PasswordChangeRequiredMiddleware",
    "tongban.platform.accounts.middleware.ActingForMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
    "tongban.platform.access.decorators.DenyByDefaultMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "tongban.urls"
WSGI_APPLICATION = "tongban.wsgi.application"
ASGI_APPLICATION = "tongban.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tongban.platform.ui.context_processors.shell",
                "tongban.platform.notify.context_processors.unread",
            ],
        },
    },
]

DEFAULT_DATABASE_URL = f"sqlite:///{VAR_DIR / 'tongban.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL,  # empty means the default
        conn_max_age=env_int("TONGBAN_DB_CONN_MAX_AGE", 60 if PRODUCTION else 0),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend plus audit entries chained at commit (tongban/platform/audit/pending.py)
    DATABASES["default"]["ENGINE"] = "tongban.platform.db.postgresql"
# chain a transaction's audit entries just before it commits (PostgreSQL), not at once
TONGBAN_AUDIT_CHAIN_AT_COMMIT = env_bool("TONGBAN_AUDIT_CHAIN_AT_COMMIT", True)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            # WAL lets the worker and the web process share the file; IMMEDIATE takes the
            # write lock at BEGIN so concurrent writers queue instead of failing.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )
    # A file, not :memory:, so a worker subprocess and the live server see the test data.
    DATABASES["default"]["TEST"] = {
        # one file per test process, so concurrent runs on one machine never share it
        "NAME": env_str(
            "TONGBAN_TEST_SQLITE_NAME",
            str(Path(tempfile.gettempdir()) / f"tongban-test-{os.getpid()}.sqlite3"),
        )
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {
        "NAME": "tongban.platform.accounts.passwords.CharacterClassValidator",
        "OPTIONS": {"min_classes": 3},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
]

# Lockout: account + IP after 5 failures within 15 minutes (django-axes).
AXES_FAILURE_LIMIT = env_int("TONGBAN_LOCKOUT_ATTEMPTS", 5)
AXES_COOLOFF_TIME = env_int("TONGBAN_LOCKOUT_MINUTES", 15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "tongban.platform.accounts.views.lockout_response"
AXES_VERBOSE = False
AXES_ENABLE_ACCESS_FAILURE_LOG = True

# Sessions: staff sessions end after 30 idle minutes (IdleTimeoutMiddleware).
TONGBAN_STAFF_IDLE_SECONDS = env_int("TONGBAN_STAFF_IDLE_SECONDS", 30 * 60)
TONGBAN_PUBLIC_IDLE_SECONDS = env_int("TONGBAN_PUBLIC_IDLE_SECONDS", 2 * 60 * 60)
# Staff passwords older than this many days must be changed before anything else (0: never);
# a login an administrator created must change its initial password first
# (PasswordChangeRequiredMiddleware)
TONGBAN_PASSWORD_MAX_AGE_DAYS = env_int("TONGBAN_PASSWORD_MAX_AGE_DAYS", 90)
# The roles that need a second factor must use an SM2 UKey, not a TOTP authenticator
# (GB/T 39786 level 3 asks for cryptographic identity checks)
TONGBAN_MFA_SM2_ONLY = env_bool("TONGBAN_MFA_SM2_ONLY", False)
# The audit chain head is appended here every hour (and logged to tongban.audit.anchor):
# point it at append-only or remote storage; "" logs only (tongban/platform/audit/anchor.py)
TONGBAN_AUDIT_ANCHOR_FILE = env_str(
    "TONGBAN_AUDIT_ANCHOR_FILE", str(VAR_DIR / "audit-anchors.jsonl")
)
SESSION_COOKIE_AGE = env_int("TONGBAN_SESSION_MAX_SECONDS", 12 * 60 * 60)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("TONGBAN_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("TONGBAN_HSTS_SUBDOMAINS", True)
    SECURE_SSL_REDIRECT = env_bool("TONGBAN_SSL_REDIRECT", True)
    CSRF_COOKIE_HTTPONLY = True  # pages read the token from the markup, never the cookie

# Content-Security-Policy (django-csp): only our own scripts, styles, fonts and images; no
# inline script, style or event handler (htmx's indicator style is in tongban.css: base.html
# turns off its inline copy). Data URIs for images: Swagger UI's icons.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "ui:home"
LOGOUT_REDIRECT_URL = "accounts:login"

OTP_TOTP_ISSUER = "Tongban 通办"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = env_str("TONGBAN_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("TONGBAN_STATIC_ROOT", str(VAR_DIR / "static")))
MEDIA_ROOT = Path(env_str("TONGBAN_MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media/"
STORAGES = {
    "default": {
        "BACKEND": env_str("TONGBAN_FILE_STORAGE", "django.core.files.storage.FileSystemStorage")
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
TONGBAN_MAX_UPLOAD_BYTES = env_int("TONGBAN_MAX_UPLOAD_BYTES", 20 * 1024 * 1024)

# data sharing (tongban/apps/sharing): a provider decides a conditional request within this
# many working days, or supervision hears of it; the gateway's call log is sealed with this
# SM2 key (PKCS#8 PEM; derived from TONGBAN_PII_HMAC_KEY when unset)
SHARING_REVIEW_WORKING_DAYS = env_int("TONGBAN_SHARING_REVIEW_WORKING_DAYS", 5)
TONGBAN_LOG_SEAL_KEY = env_str("TONGBAN_LOG_SEAL_KEY", "")
# scheduled exchange: webhooks must be HTTPS; tests allow plain HTTP to the loopback address
TONGBAN_EXCHANGE_ALLOW_HTTP_LOOPBACK = env_bool("TONGBAN_EXCHANGE_ALLOW_HTTP_LOOPBACK", False)
# official documents: supervised tasks remind their owners this many days before the
# deadline; fonts are loaded in the background at start-up (production default)
TONGBAN_DOCUMENTS_TASK_REMIND_DAYS = env_int("TONGBAN_DOCUMENTS_TASK_REMIND_DAYS", 3)
# a receiving unit signs for a sent document within this many hours (default per sending),
# or it is reminded and supervision hears of it
DOCUMENTS_SIGN_WITHIN_HOURS = env_int("TONGBAN_DOCUMENTS_SIGN_WITHIN_HOURS", 72)
# the public verify page: checks per client address and minute
TONGBAN_DOCUMENTS_VERIFY_PER_MINUTE = env_int("TONGBAN_DOCUMENTS_VERIFY_PER_MINUTE", 10)
TONGBAN_DOCUMENTS_WARM_FONTS = env_bool("TONGBAN_DOCUMENTS_WARM_FONTS", TONGBAN_ENV == "production")
DATA_UPLOAD_MAX_MEMORY_SIZE = TONGBAN_MAX_UPLOAD_BYTES + 1024 * 1024
# A TrueType font embedded in PDF notices and licences (default: the first of the Debian
# fonts found, e.g. fonts-wqy-zenhei); the public address put into QR codes of PDFs.
TONGBAN_PDF_FONT = env_str("TONGBAN_PDF_FONT", "")
TONGBAN_PUBLIC_URL = env_str("TONGBAN_PUBLIC_URL", "")
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# Cache: shared by every process of one installation (job progress, search vocabularies).
# Redis in production (TONGBAN_CACHE_URL=redis://...); files under var/ by default.
CACHE_URL = env_str("TONGBAN_CACHE_URL", "")
if CACHE_URL.startswith(("redis://", "rediss://")):
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# Background work: django-tasks with its database backend (no broker needed).
TASKS = {
    "default": {
        "BACKEND": env_str("TONGBAN_TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default", "events", "notify"],
    }
}
TONGBAN_EVENT_LEASE_SECONDS = env_int("TONGBAN_EVENT_LEASE_SECONDS", 300)
TONGBAN_EVENT_MAX_ATTEMPTS = env_int("TONGBAN_EVENT_MAX_ATTEMPTS", 8)

# Notifications
EMAIL_BACKEND = env_str(
    "TONGBAN_EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if not PRODUCTION
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env_str("TONGBAN_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("TONGBAN_EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("TONGBAN_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = env_str("TONGBAN_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = env_bool("TONGBAN_EMAIL_TLS", False)
DEFAULT_FROM_EMAIL = env_str("TONGBAN_EMAIL_FROM", "tongban@localhost")
TONGBAN_SMS_GATEWAY = env_str(
    "TONGBAN_SMS_GATEWAY", "tongban.platform.notify.sms.LoggingSmsGateway"
)

TONGBAN_CITY_NAME = env_str("TONGBAN_CITY_NAME", "示范市")

# Logging: JSON lines with the request id.
LOG_LEVEL = env_str("TONGBAN_LOG_LEVEL", "INFO")
LOG_JSON = env_bool("TONGBAN_LOG_JSON", PRODUCTION)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "tongban.platform.ui.logging.RequestIdFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "plain": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_JSON else "plain",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        # SpiffWorkflow logs every task state change at INFO
        "spiff": {"level": "WARNING"},
    },
}

NINJA_PAGINATION_PER_PAGE = 20
