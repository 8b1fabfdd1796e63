"""Settings, driven by environment variables.

DATABASE_URL  default: SQLite file under ./var/ (PostgreSQL in production: postgres://user@host/db)
DATABASE_REPLICA_URL  optional; a read replica of it, read by the insight dashboards and rankings
SECRET_KEY    required when DEBUG is off
DEBUG         default False
ALLOWED_HOSTS comma-separated; default localhost names
REDIS_URL     optional; shared cache (rate limits, login lockouts' counters, calendar) across app
              processes, and the job queue. Production with more than one process needs it: without it
              every worker process counts rate limits on its own
SECURE_COOKIES  1 behind HTTPS: secure cookies, HSTS, SSL redirect (see "HTTPS" below for each switch)
CHANGXIN_JOBS_URL  optional; the job queue's store when it should not be REDIS_URL (redis://…,
              postgres://…, sqlite:///path); default REDIS_URL, else the SQLite file var/jobs.sqlite3
CHANGXIN_ENV_FILE  a KEY=VALUE file read before everything else, for a checkout's local settings;
              default .env.local at the repository root (written by `make setup`, git-ignored);
              variables already in the environment always win; empty disables it
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
PACKAGE_DIR = Path(__file__).resolve().parent


def read_env_file(path: Path) -> None:
    """Fill the environment from a KEY=VALUE file; variables already set always win.

    `make setup` writes one per checkout (a generated SECRET_KEY and DEBUG=1) so that every
    `changxin …` command works there without exporting anything. Production has no such file.
    """
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = (part.strip() for part in line.removeprefix("export ").split("=", 1))
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        os.environ.setdefault(key, value)


ENV_FILE = os.environ.get("CHANGXIN_ENV_FILE", str(BASE_DIR / ".env.local"))
if ENV_FILE:
    read_env_file(Path(ENV_FILE))
VAR_DIR = Path(os.environ.get("CHANGXIN_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG and not env_bool("CHANGXIN_ALLOW_INSECURE_KEY"):
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off. (In a checkout, `make setup` writes .env.local "
            "with a generated key and DEBUG=1.)"
        )
    SECRET_KEY = "insecure-development-key-do-not-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
CSRF_FAILURE_VIEW = "changxin.core.views.csrf_failure"  # the site's layout, in Chinese

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "axes",  # login lockout per account and per IP
    "csp",  # Content-Security-Policy header
    "ninja",  # serves the interactive API docs' assets locally (no CDN)
    "changxin.core",
    "changxin.demands",
    "changxin.station",
    "changxin.port",
    "changxin.triage",
    "changxin.insight",
    "changxin.open311",
    "changxin.notifications",
    "changxin.pioneers",
    "changxin.brands",
    "changxin.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "changxin.core.middleware.SessionIdleTimeoutMiddleware",
    "changxin.core.middleware.NoStoreMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "changxin.core.dbrouter.ReplicaReadsMiddleware",  # dashboards' GETs read the replica, if any
    # Last, as django-axes asks: it turns a lockout raised by the backend into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "changxin.urls"
WSGI_APPLICATION = "changxin.wsgi.application"
ASGI_APPLICATION = "changxin.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "changxin.core.context_processors.navigation",
                "changxin.core.context_processors.care_mode",
            ],
            # {% colon %}, |clauses, |actor: Chinese typography everywhere (core/templatetags/ui.py)
            "builtins": ["changxin.core.templatetags.ui"],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{VAR_DIR / 'changxin.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # IMMEDIATE transactions serialise writers on SQLite, the embedded stand-in for row locks.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20, "init_command": "PRAGMA journal_mode=WAL;"}
    )
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("TEST", {})["NAME"] = os.environ.get("SQLITE_TEST_NAME") or None
    # The 三率's covering indexes INCLUDE columns on PostgreSQL (docs/PERFORMANCE.md); SQLite builds
    # them without the INCLUDE, as intended, and every command would otherwise warn about it.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]

# A PostgreSQL read replica (streaming replication) for the insight dashboards and rankings:
# GET requests under CHANGXIN_REPLICA_PATHS read from it (core/dbrouter.py; docs/DEPLOY.md).
DATABASE_REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL", "")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = dj_database_url.parse(
        DATABASE_REPLICA_URL, conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60"))
    )
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}  # tests read the primary's test database
DATABASE_ROUTERS = ["changxin.core.dbrouter.ReplicaRouter"]
CHANGXIN_REPLICA_PATHS = env_list("CHANGXIN_REPLICA_PATHS", "/insight/,/api/v1/rankings")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "core.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- Login protection ---------------------------------------------------------------------------
# django-axes counts failed logins on /login/ and /admin/login/ (both go through the auth backend):
# after AXES_FAILURE_LIMIT failures within CHANGXIN_LOGIN_LOCKOUT_MINUTES an account is locked, and
# so is an IP address (each on its own: guessing one account from many addresses, or many accounts
# from one address). The lock lifts after that many minutes, or when an administrator removes the
# attempts (admin: "Access attempts", or `changxin axes_reset_username NAME` / `axes_reset_ip IP`).
# Every success and failure is also an AuditEntry (core/security.py).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("CHANGXIN_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("CHANGXIN_LOGIN_LOCKOUT_MINUTES", "30")))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_USERNAME_FORM_FIELD = "username"
AXES_VERBOSE = False
# The client's address: REMOTE_ADDR, unless CHANGXIN_PROXY_COUNT trusted reverse proxies sit in
# front (then the address they append to X-Forwarded-For); a client-sent header is never trusted.
CHANGXIN_PROXY_COUNT = int(os.environ.get("CHANGXIN_PROXY_COUNT", "0"))
if CHANGXIN_PROXY_COUNT:
    AXES_IPWARE_PROXY_COUNT = CHANGXIN_PROXY_COUNT
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
else:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("REMOTE_ADDR",)

# Argon2 first: new passwords are hashed with it, older hashes are upgraded at the next login.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]

# Sessions: at most SESSION_COOKIE_AGE seconds (default a working day, 8 hours), ended after
# CHANGXIN_SESSION_IDLE_MINUTES without a request (default 60; 0 turns it off), and at browser
# close when SESSION_EXPIRE_AT_BROWSER_CLOSE=1.
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", str(8 * 3600)))
SESSION_EXPIRE_AT_BROWSER_CLOSE = env_bool("SESSION_EXPIRE_AT_BROWSER_CLOSE", False)
CHANGXIN_SESSION_IDLE_MINUTES = int(os.environ.get("CHANGXIN_SESSION_IDLE_MINUTES", "60"))

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# The rate limits' counters: shared by every app process only with REDIS_URL (production needs it;
# without it each process counts on its own, so N processes allow N times the limit).
CACHES["ratelimit"] = {**CACHES["default"], "KEY_PREFIX": "ratelimit"}
RATELIMIT_USE_CACHE = "ratelimit"

# --- Background jobs (huey, used only through changxin/core/jobs.py) ------------------------------
# One queue for the whole platform. Without configuration it is a SQLite file under var/ (no extra
# service; `changxin worker` runs the jobs, `changxin tick` runs them from cron); in production
# REDIS_URL (or CHANGXIN_JOBS_URL) points it at Redis or PostgreSQL. Crontab schedules are read in
# local time (TIME_ZONE). CHANGXIN_JOBS_IMMEDIATE=1 runs every job inside the process that queues it
# (a debugging aid; tests run that way unless they ask for the queue).


def jobs_backend(url: str) -> dict:
    if url.startswith(("redis://", "rediss://", "unix://")):
        return {"huey_class": "huey.RedisHuey", "url": url}
    if url.startswith(("postgres://", "postgresql://")):
        return {"huey_class": "huey.PostgresHuey", "dsn": url}
    filename = url.removeprefix("sqlite:///") if url else str(VAR_DIR / "jobs.sqlite3")
    Path(filename).parent.mkdir(parents=True, exist_ok=True)
    return {"huey_class": "huey.SqliteHuey", "filename": filename}


HUEY = {
    "name": os.environ.get("CHANGXIN_JOBS_QUEUE", "changxin"),  # distinct per deployment sharing a store
    "immediate": env_bool("CHANGXIN_JOBS_IMMEDIATE"),
    "results": False,  # nobody waits on a job's return value; failures are kept in core.JobFailure
    "utc": False,
    **jobs_backend(os.environ.get("CHANGXIN_JOBS_URL") or REDIS_URL),
    "consumer": {"workers": int(os.environ.get("CHANGXIN_JOBS_WORKERS", "2")), "worker_type": "thread"},
}

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [
    PACKAGE_DIR / "static",
    # Third-party assets come from npm at setup (package.json); nothing third-party is committed.
    ("vendor/htmx", BASE_DIR / "node_modules" / "htmx.org" / "dist"),
    ("vendor/echarts", BASE_DIR / "node_modules" / "echarts" / "dist"),
    ("vendor/pico", BASE_DIR / "node_modules" / "@picocss" / "pico" / "css"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "media/"

# --- HTTPS ---------------------------------------------------------------------------------------
# SECURE_COOKIES=1 is the one switch for a site served over HTTPS: secure cookies, HSTS (a year,
# subdomains, preload flag) and the redirect of plain HTTP. Each can be set on its own from the
# environment. Behind a TLS-terminating proxy set SECURE_PROXY_SSL_HEADER to the header the proxy
# sets (e.g. X-Forwarded-Proto; its value must be "https"), and only if the proxy always sets or
# strips it — otherwise a client could claim HTTPS.
SECURE_COOKIES = env_bool("SECURE_COOKIES", False)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", SECURE_COOKIES)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # the load balancer probes app servers over plain HTTP
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000" if SECURE_COOKIES else "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", SECURE_COOKIES)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", SECURE_COOKIES)
if os.environ.get("SECURE_PROXY_SSL_HEADER"):
    SECURE_PROXY_SSL_HEADER = (
        "HTTP_" + os.environ["SECURE_PROXY_SSL_HEADER"].strip().upper().replace("-", "_"),
        "https",
    )
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp 4): everything from this origin; inline <script>/<style> only
# with the per-request nonce (`nonce="{{ request.csp_nonce }}"`); no inline event handlers, no
# style attributes, no eval. Pico CSS draws its checkboxes and arrows from data: SVG images.
from csp.constants import NONCE, NONE, SELF  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
# Paths whose responses may carry personal data are never stored by browsers or proxies
# (core.middleware.NoStoreMiddleware; every page of a signed-in user is too).
CHANGXIN_NO_STORE_PREFIXES = ["/api/", "/open311/", "/station/track/"]

# --- Work calendar -------------------------------------------------------------------------
# Office hours as (start, end) pairs in local time; working-hour arithmetic counts only these.
CHANGXIN_OFFICE_HOURS = [
    tuple(part.split("-")) for part in env_list("CHANGXIN_OFFICE_HOURS", "09:00-12:00,13:00-17:00")
]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

# --- 接诉即办 defaults (RULES.md; *default* figures are settings, never constants) --------------
CHANGXIN_DISPUTE_WINDOW_WORKING_HOURS = float(os.environ.get("CHANGXIN_DISPUTE_WINDOW_WORKING_HOURS", "2"))
CHANGXIN_VISIT_MAX_ATTEMPTS = int(os.environ.get("CHANGXIN_VISIT_MAX_ATTEMPTS", "3"))
CHANGXIN_NEARLY_OVERDUE_WORKING_HOURS = float(os.environ.get("CHANGXIN_NEARLY_OVERDUE_WORKING_HOURS", "4"))
CHANGXIN_RANKING_DEFAULTS = {
    "response_weight": "0.10",
    "resolution_weight": "0.45",
    "satisfaction_weight": "0.45",
    "partly_resolved_credit": "0.5",
    "basic_satisfied_credit": "0.8",
}
# 三率 decisions (RULES.md): fewer demands than this in a month, or no resolution or no satisfaction
# answer, and a unit is shown apart, not ranked; a month closes this many working days after it ends.
CHANGXIN_RANKING_MIN_DEMANDS = int(os.environ.get("CHANGXIN_RANKING_MIN_DEMANDS", "5"))
CHANGXIN_RANKING_CLOSE_WORKING_DAYS = int(os.environ.get("CHANGXIN_RANKING_CLOSE_WORKING_DAYS", "5"))
CHANGXIN_ATTACHMENT_MAX_BYTES = int(os.environ.get("CHANGXIN_ATTACHMENT_MAX_BYTES", str(10 * 1024 * 1024)))
CHANGXIN_AUTO_DISPATCH_CONFIDENCE = float(os.environ.get("CHANGXIN_AUTO_DISPATCH_CONFIDENCE", "0.9"))
# Automatic dispatch of confident triage suggestions (off by default: a dispatcher confirms).
CHANGXIN_AUTO_DISPATCH = env_bool("CHANGXIN_AUTO_DISPATCH", False)
CHANGXIN_DUPLICATE_WINDOW_DAYS = int(os.environ.get("CHANGXIN_DUPLICATE_WINDOW_DAYS", "7"))
CHANGXIN_DUPLICATE_THRESHOLD = float(os.environ.get("CHANGXIN_DUPLICATE_THRESHOLD", "0.5"))

# --- Public portal abuse limits (django-ratelimit; needs REDIS_URL to hold across processes) ----
CHANGXIN_STATION_SUBMIT_RATE = os.environ.get("CHANGXIN_STATION_SUBMIT_RATE", "10/h")
CHANGXIN_STATION_TRACK_RATE = os.environ.get("CHANGXIN_STATION_TRACK_RATE", "60/h")
# Behind a load balancer set RATELIMIT_IP_META_KEY (e.g. HTTP_X_FORWARDED_FOR handling) so that
# visitors are not all counted as the balancer's address.
RATELIMIT_VIEW = "changxin.core.views.ratelimited"
if os.environ.get("RATELIMIT_IP_META_KEY"):
    RATELIMIT_IP_META_KEY = os.environ["RATELIMIT_IP_META_KEY"]

# --- Backups and retention (docs/SECURITY.md) ------------------------------------------------------
CHANGXIN_BACKUP_DIR = os.environ.get("CHANGXIN_BACKUP_DIR", str(VAR_DIR / "backups"))
CHANGXIN_BACKUP_KEEP_DAYS = int(os.environ.get("CHANGXIN_BACKUP_KEEP_DAYS", "30"))
# Closed demands' personal data is anonymised after this many years (`changxin anonymise --apply`).
# RULES.md asks to keep personal data no longer than needed without naming a period; 3 years here.
CHANGXIN_RETENTION_YEARS = int(os.environ.get("CHANGXIN_RETENTION_YEARS", "3"))

# --- Notifications: messages to requesters (SMS / e-mail) -----------------------------------------
# Dotted path of the class that sends them; the default keeps them in the outbox table and logs.
CHANGXIN_MESSAGE_BACKEND = os.environ.get(
    "CHANGXIN_MESSAGE_BACKEND", "changxin.notifications.backends.OutboxBackend"
)
CHANGXIN_MESSAGE_MAX_ATTEMPTS = int(os.environ.get("CHANGXIN_MESSAGE_MAX_ATTEMPTS", "5"))
# Where the public portal is reached from outside (links in SMS and e-mail).
CHANGXIN_PUBLIC_URL = os.environ.get("CHANGXIN_PUBLIC_URL", "http://localhost:8000")
