"""The one settings module of Yiwang, driven by the environment.

The embedded default (no environment at all) is the demo: SQLite under ``var/``, a fixed development
key, in-process background tasks. ``YIWANG_ENV=production`` turns the defaults off and fails fast,
naming each missing variable, instead of running with a demo secret.
"""
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

PACKAGE_DIR = Path(__file__).resolve().parent
# The checkout root when running from source (src/yiwang/../..); var/ and node_modules/ live there.
PROJECT_DIR = Path(os.environ.get("YIWANG_HOME", PACKAGE_DIR.parent.parent)).resolve()
VAR_DIR = Path(os.environ.get("YIWANG_VAR_DIR", PROJECT_DIR / "var"))
NODE_MODULES = Path(os.environ.get("YIWANG_NODE_MODULES", PROJECT_DIR / "node_modules"))

ENV = os.environ.get("YIWANG_ENV", "development")
PRODUCTION = ENV == "production"


def _required(name, *, dev_default):
    value = os.environ.get(name)
    if value:
        return value
    if PRODUCTION:
        raise ImproperlyConfigured(f"环境变量 {name} 未设置 / {name} must be set when YIWANG_ENV=production")
    return dev_default


SECRET_KEY = _required("YIWANG_SECRET_KEY", dev_default="dev-only-not-secret-yiwang-demo-key-0123456789abcdef")
if PRODUCTION and len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("YIWANG_SECRET_KEY 长度至少 50 个字符 / must be at least 50 characters")
# Separate keys for field encryption (ID numbers, phones) and the keyed lookup hash.
FIELD_ENCRYPTION_KEY = _required("YIWANG_FIELD_KEY", dev_default="dev-only-field-key-yiwang")
LOOKUP_HASH_KEY = _required("YIWANG_HASH_KEY", dev_default="dev-only-hash-key-yiwang")

DEBUG = os.environ.get("YIWANG_DEBUG", "0" if PRODUCTION else "1") == "1"
ALLOWED_HOSTS = os.environ.get("YIWANG_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")
DEMO_MODE = os.environ.get("YIWANG_DEMO", "0" if PRODUCTION else "1") == "1"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_tables2",
    "django_htmx",
    "axes",
    "yiwang.core",
    "yiwang.areas",
    "yiwang.accounts",
    "yiwang.people",
    "yiwang.grid",
    "yiwang.cases",
    "yiwang.economy",
    "yiwang.insights",
    "yiwang.exchange",
    "yiwang.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "yiwang.core.middleware.NulByteMiddleware",
    "yiwang.core.middleware.RequestContextMiddleware",
    "yiwang.core.middleware.LoginRequiredMiddleware",
    "axes.middleware.AxesMiddleware",
    "yiwang.core.sqlite.DatabaseBusyMiddleware",
]

ROOT_URLCONF = "yiwang.urls"
WSGI_APPLICATION = "yiwang.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "yiwang.core.context_processors.shell",
            ],
        },
    },
]

VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'yiwang.sqlite3'}"), conn_max_age=60
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite has one writer at a time, and an Excel import holds the write for its whole write pass
    # (one transaction: all or nothing). WAL lets every read go on meanwhile; a write waits its turn up
    # to ``timeout`` seconds instead of Python's 5; IMMEDIATE takes the write lock when a transaction
    # begins, where SQLite does wait — a deferred transaction that reads and then writes is refused at
    # once ("database is locked", no waiting) when another writer went first. Past the timeout the user
    # gets a Chinese "busy" page (core.sqlite.DatabaseBusyMiddleware), and a page view's routine session
    # refresh is skipped rather than waited for (core.sqlite.SessionStore). See docs/operations.md.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": float(os.environ.get("YIWANG_SQLITE_TIMEOUT", "30")),
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
elif DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql"):
    # JIT compiling costs ~370 ms on the console's aggregate over a million cases and saves nothing on the
    # short queries pages send (bench/cases/console_fixes.sql, docs/BENCHMARKS.md)
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "yiwang.accounts.validators.CharacterClassValidator", "OPTIONS": {"min_classes": 3}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Lockout: 5 failures lock the account for 30 minutes (django-axes, see docs/decisions/).
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = 0.5  # hours
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "yiwang.accounts.views.locked_out"
AXES_VERBOSE = False

# Idle logout after 30 minutes: the session expires 30 min after the last request.
SESSION_COOKIE_AGE = 30 * 60
SESSION_SAVE_EVERY_REQUEST = True
# the database sessions, with a refresh that never fails a page while SQLite is busy (core.sqlite)
SESSION_ENGINE = "yiwang.core.sqlite"
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = PRODUCTION
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("YIWANG_STATIC_ROOT", VAR_DIR / "static"))
# Front-end assets come from npm (package.json); only the dist folders are exposed.
STATICFILES_DIRS = [
    ("vendor/bootstrap", NODE_MODULES / "bootstrap" / "dist"),
    ("vendor/htmx", NODE_MODULES / "htmx.org" / "dist"),
    ("vendor/echarts", NODE_MODULES / "echarts" / "dist"),
    ("vendor/leaflet", NODE_MODULES / "leaflet" / "dist"),
]
STATICFILES_DIRS = [(prefix, path) for prefix, path in STATICFILES_DIRS if path.exists() or not DEBUG]
# The project's own assets (yiwang/yiwang.css): the package itself is not an installed app.
STATICFILES_DIRS.append(PACKAGE_DIR / "static")
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "media/"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "EXCEPTION_HANDLER": "yiwang.core.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "一网 Yiwang API",
    "DESCRIPTION": "乡村振兴一网统管平台接口 / Yiwang rural-revitalization platform API",
    "VERSION": "0.1.0",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # validatorUrl None: Swagger UI would otherwise load a badge from validator.swagger.io (and send it
    # the schema URL) whenever the site is not on localhost.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "REDOC_DIST": "SIDECAR",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
}

# Background work: Celery with Redis in production; in-process (eager) on the embedded default.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
# The SLA sweep of cases (deadline near / overdue messages): beat every 5 minutes in production; on the
# embedded default pages run it inline at most every CASES_SWEEP_INLINE_SECONDS (docs/cases-rates.md).
CELERY_BEAT_SCHEDULE = {"cases-sla-sweep": {"task": "yiwang.cases.sweep", "schedule": 300.0},
                        "exchange-stale-sweep": {"task": "yiwang.exchange.sweep_stale", "schedule": 300.0}}
CASES_SWEEP_INLINE_SECONDS = int(os.environ.get("YIWANG_SWEEP_INLINE_SECONDS", "300"))
# The three rates of cases (docs/cases-rates.md); keys left out keep yiwang.cases.rates.DEFAULTS.
CASES_RATES = {
    "response": os.environ.get("YIWANG_RATES_RESPONSE", "on_time"),  # or "any"
    "resolution": os.environ.get("YIWANG_RATES_RESOLUTION", "any"),  # or "on_time"
    "satisfied_ratings": ["satisfied", "basic"],  # 满意 + 基本满意
    "rating": "final",  # or "first"
    "places": 1,
}

DJANGO_TABLES2_TEMPLATE = "django_tables2/bootstrap5-responsive.html"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"yiwang": {"handlers": ["console"], "level": os.environ.get("YIWANG_LOG_LEVEL", "INFO")}},
}

# Lockout is per account as the policy asks; adding the IP would let one office NAT lock out a whole
# town staff (see docs/decisions/0003-login-lockout-django-axes.md).
SILENCED_SYSTEM_CHECKS = ["axes.W006"]

# Excel exchange limits: the upload size, and the uncompressed size above which a zip is a bomb.
EXCHANGE_MAX_BYTES = int(os.environ.get("YIWANG_IMPORT_MAX_MB", "50")) * 1024 * 1024
EXCHANGE_MAX_UNCOMPRESSED = 1024 * 1024 * 1024
EXCHANGE_INLINE = os.environ.get("YIWANG_IMPORT_INLINE", "0") == "1"
# a running import whose task has reported nothing for this long lost its worker: it is marked failed
# (exchange.tasks.sweep_stale_jobs). A running task reports every second or so — on SQLite not during its
# write pass, when the import holds the database: keep this above the longest write pass.
EXCHANGE_STALE_MINUTES = float(os.environ.get("YIWANG_IMPORT_STALE_MINUTES", "10"))
DATA_UPLOAD_MAX_MEMORY_SIZE = EXCHANGE_MAX_BYTES + 1024 * 1024

# Collective economy (docs/economy.md): which ledger categories make "operating income" (经营性收入总额),
# and the tier thresholds in yuan (薄弱村 below weak_below, 示范村 from demonstration_from, 百万村 from
# million_from)
ECONOMY_OPERATING_CATEGORIES = ["operating", "investment", "contract"]
ECONOMY_TIERS = {"weak_below": "100000", "demonstration_from": "500000", "million_from": "1000000"}
