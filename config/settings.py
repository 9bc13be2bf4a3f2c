"""Settings, read from the environment (or a `.env` file) with defaults that run on a fresh clone.

Every setting is documented in `.env.example` and in the README's settings table.
Missing or unsafe production values are reported by the system checks in `config/checks.py`.
"""

from __future__ import annotations

import os
from pathlib import Path

import environ
from csp.constants import NONCE
from django.utils.translation import gettext_lazy as _

from config import object_storage

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)  # the embedded database, outbox and media live here

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env")

# The development key is public: the system check refuses it when DEBUG is off.
DEV_SECRET_KEY = "dev-only-insecure-key-change-me"
SECRET_KEY = env("SECRET_KEY", default=DEV_SECRET_KEY)
DEBUG = env.bool("DEBUG", default=True)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
PUBLIC_BASE_URL = env("PUBLIC_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "notices.apps.AuditedAdminConfig",  # django.contrib.admin with the audited site (notices/admin_site.py)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "anymail",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_otp_webauthn",
    "health_check",
    "config.apps.ProjectConfig",
    "recipients",
    "notices",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files, served as our own static files (no CDN)
    "api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "config.locale.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "config.second_factor.SecondFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "notices.audit.CurrentRequestMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Writers wait for each other instead of failing with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update({"timeout": 20, "transaction_mode": "IMMEDIATE"})
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", _("Vietnamese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # filled by collectstatic in production
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
if env("AWS_STORAGE_BUCKET_NAME", default=""):
    # S3-compatible storage shared by every machine, private (config/object_storage.py).
    STORAGES["default"] = object_storage.s3_backend(
        env("AWS_STORAGE_BUCKET_NAME"),
        endpoint_url=env("AWS_S3_ENDPOINT_URL", default=""),
        region=env("AWS_S3_REGION_NAME", default=""),
        access_key=env("AWS_ACCESS_KEY_ID", default=""),
        secret_key=env("AWS_SECRET_ACCESS_KEY", default=""),
    )

# --- Mail ------------------------------------------------------------------------------------
# EMAIL_DELIVERY: "outbox" (.eml files in OUTBOX_DIR), "smtp", or a django-anymail provider
# name ("amazon_ses", "mailgun", "postmark", "sendgrid", "brevo", ...). Provider keys come from
# environment variables named ANYMAIL_<KEY>, e.g. ANYMAIL_MAILGUN_API_KEY, ANYMAIL_WEBHOOK_SECRET.
EMAIL_DELIVERY = env("EMAIL_DELIVERY", default="outbox")
OUTBOX_DIR = Path(env("OUTBOX_DIR", default=str(VAR_DIR / "outbox")))
EMAIL_HOST = env("EMAIL_HOST", default="127.0.0.1")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
if EMAIL_DELIVERY == "outbox":
    EMAIL_BACKEND = "notices.outbox.EmailBackend"
elif EMAIL_DELIVERY == "smtp":
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
else:
    EMAIL_BACKEND = f"anymail.backends.{EMAIL_DELIVERY}.EmailBackend"
ANYMAIL = {key.removeprefix("ANYMAIL_"): value for key, value in os.environ.items() if key.startswith("ANYMAIL_")}
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Bảo hiểm xã hội thành phố Hà Nội <congvan@bhxh.example.vn>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# DKIM (notices/dkim_signing.py): the smtp transport signs every message with this RSA key (a PEM file, never in
# the repository) for DKIM_DOMAIN under DKIM_SELECTOR; the public key is published at
# <selector>._domainkey.<domain> (README). Empty: unsigned. Anymail providers sign on their side.
DKIM_DOMAIN = env("DKIM_DOMAIN", default="")
DKIM_SELECTOR = env("DKIM_SELECTOR", default="")
DKIM_PRIVATE_KEY_PATH = env("DKIM_PRIVATE_KEY_PATH", default="")
# Bounces on the smtp path (notices/returnpath.py, notices/bounces.py): each message's envelope sender is
# <local>+<delivery id>-<HMAC>@<domain> of BOUNCE_ADDRESS (empty: the From address, no bounce processing), and
# beat reads the delivery status notifications from that mailbox over IMAP every BOUNCE_POLL_SECONDS.
BOUNCE_ADDRESS = env("BOUNCE_ADDRESS", default="")
BOUNCE_IMAP_HOST = env("BOUNCE_IMAP_HOST", default="")
BOUNCE_IMAP_PORT = env.int("BOUNCE_IMAP_PORT", default=993)
BOUNCE_IMAP_SSL = env.bool("BOUNCE_IMAP_SSL", default=True)
BOUNCE_IMAP_USER = env("BOUNCE_IMAP_USER", default="")
BOUNCE_IMAP_PASSWORD = env("BOUNCE_IMAP_PASSWORD", default="")
BOUNCE_IMAP_FOLDER = env("BOUNCE_IMAP_FOLDER", default="INBOX")
# Where a notice goes once read: applied ones to the first folder, the unmatched, forged or malformed (kept,
# flagged, for a person to look at) to the second.
BOUNCE_IMAP_DONE_FOLDER = env("BOUNCE_IMAP_DONE_FOLDER", default="Processed")
BOUNCE_IMAP_KEPT_FOLDER = env("BOUNCE_IMAP_KEPT_FOLDER", default="Unmatched")
BOUNCE_POLL_SECONDS = env.float("BOUNCE_POLL_SECONDS", default=300.0)
BOUNCE_MAX_MESSAGES = env.int("BOUNCE_MAX_MESSAGES", default=200)  # per poll
BOUNCE_MAX_MESSAGE_BYTES = env.int("BOUNCE_MAX_MESSAGE_BYTES", default=1_000_000)  # bigger ones are kept unread
# The Reply-To of emails whose drafting unit names no mailbox of its own (empty: no Reply-To header).
DEFAULT_REPLY_TO = env("DEFAULT_REPLY_TO", default="")
# Acknowledgement reminders: sent this many working days after the deadline (then after the last reminder),
# at most REMINDER_MAX times per dispatch, counting the ones a clerk sends by hand.
REMINDER_AFTER_WORKING_DAYS = env.int("REMINDER_AFTER_WORKING_DAYS", default=1)
REMINDER_MAX = env.int("REMINDER_MAX", default=2)

# --- Celery ------------------------------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")
CELERY_BROKER_URL = REDIS_URL
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
# A task is acknowledged only when it is done, and put back if its worker dies; each worker process
# reserves one task at a time, so a killed process loses at most the batch it was sending.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Longer than any task or retry delay, so Redis never redelivers a task that is still running; retries
# longer than SEND_MAX_COUNTDOWN_SECONDS wait in the database (Delivery.next_attempt_at), not in Redis.
# "priority" makes a worker always take from the first non-empty queue of CELERY_TASK_QUEUES' order.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "queue_order_strategy": "priority"}
CELERY_TASK_DEFAULT_QUEUE = "celery"
# In the order workers take from them: urgent dispatches first, bulk sending last.
CELERY_TASK_QUEUES: dict[str, dict] = {
    "send-urgent": {},
    "render": {},
    "events": {},
    "send": {},
    "callbacks": {},  # status callbacks to client systems (api/callbacks.py): never in the way of sending
    "celery": {},
}
CELERY_TASK_ROUTES = {
    "notices.make_copies": {"queue": "render"},
    "notices.make_copy_range": {"queue": "render"},
    "notices.fan_out": {"queue": "render"},
    "notices.fan_out_page": {"queue": "render"},
    "notices.send_batch": {"queue": "send"},  # send-urgent for HỎA TỐC and THƯỢNG KHẨN (Dispatch.send_queue)
    "notices.send_test_copy": {"queue": "send-urgent"},
    "notices.sweep": {"queue": "events"},
    "notices.remove_merge_files": {"queue": "events"},
    "notices.issue_scheduled": {"queue": "render"},
    "notices.send_reminders": {"queue": "events"},
    "notices.poll_bounces": {"queue": "events"},
    "api.collect_callbacks": {"queue": "callbacks"},
    "api.send_callback": {"queue": "callbacks"},
}
# Beat's run-time state lives with the other run-time files, never in the repository root.
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
DASHBOARD_REFRESH_SECONDS = env.float("DASHBOARD_REFRESH_SECONDS", default=600.0)
CELERY_BEAT_SCHEDULE = {
    "sweep-deliveries": {"task": "notices.sweep", "schedule": env.float("SEND_SWEEP_INTERVAL_SECONDS", default=60.0)},
    "remove-merge-files": {"task": "notices.remove_merge_files", "schedule": 3600.0},
    "issue-scheduled": {
        "task": "notices.issue_scheduled",
        "schedule": env.float("SCHEDULE_CHECK_SECONDS", default=30.0),
    },
    "send-reminders": {
        "task": "notices.send_reminders",
        "schedule": env.float("REMINDER_CHECK_SECONDS", default=900.0),
    },
    "collect-callbacks": {
        "task": "api.collect_callbacks",
        "schedule": env.float("CALLBACK_COLLECT_SECONDS", default=5.0),
    },
    "refresh-dashboard-counts": {
        "task": "notices.refresh_dashboard_counts",
        "schedule": DASHBOARD_REFRESH_SECONDS,
    },
}
if BOUNCE_IMAP_HOST:
    CELERY_BEAT_SCHEDULE["poll-bounces"] = {"task": "notices.poll_bounces", "schedule": BOUNCE_POLL_SECONDS}

# --- Operations: /healthz and /metrics ------------------------------------------------------------
# Each worker writes a heartbeat to Redis every HEALTH_HEARTBEAT_SECONDS (config/heartbeat.py); /healthz fails when
# one of HEALTH_WORKER_QUEUES has had no live worker for HEALTH_WORKER_MAX_AGE_SECONDS.
HEALTH_HEARTBEAT_SECONDS = env.float("HEALTH_HEARTBEAT_SECONDS", default=15.0)
HEALTH_WORKER_MAX_AGE_SECONDS = env.float("HEALTH_WORKER_MAX_AGE_SECONDS", default=120.0)
HEALTH_WORKER_QUEUES = env.list("HEALTH_WORKER_QUEUES", default=list(CELERY_TASK_QUEUES))
# /metrics (and each worker's metrics port) answer only `Authorization: Bearer <METRICS_TOKEN>`; unset: 404.
METRICS_TOKEN = env("METRICS_TOKEN", default="")
# A worker serves its own metrics on this port (0: none), on METRICS_WORKER_ADDRESS (keep it internal).
METRICS_WORKER_PORT = env.int("METRICS_WORKER_PORT", default=0)
METRICS_WORKER_ADDRESS = env("METRICS_WORKER_ADDRESS", default="127.0.0.1")

# --- PDF ----------------------------------------------------------------------------------------
# PKCS#12 file and password of the agency's signing certificate (see create_dev_certificate).
SIGNING_PKCS12_PATH = env("SIGNING_PKCS12_PATH", default="")
SIGNING_PKCS12_PASSWORD = env("SIGNING_PKCS12_PASSWORD", default="")
SIGNING_LOCATION = env("SIGNING_LOCATION", default="Hà Nội")
# PEM file of the root certificates a dispatch signature must chain to (default: the roots bundled in the PKCS#12).
SIGNING_TRUSTED_ROOTS = env("SIGNING_TRUSTED_ROOTS", default="")
# A time-stamping authority (RFC 3161) turns signatures into PAdES B-LTA: a signature timestamp, the certificates
# and revocation data (OCSP/CRL, fetched while signing) and a document timestamp, so they verify after the signing
# certificate expires. Unset: PAdES B-B. The TSA's root must be among SIGNING_TRUSTED_ROOTS.
SIGNING_TSA_URL = env("SIGNING_TSA_URL", default="")
SIGNING_TSA_USERNAME = env("SIGNING_TSA_USERNAME", default="")  # HTTP basic authentication, when the TSA asks
SIGNING_TSA_PASSWORD = env("SIGNING_TSA_PASSWORD", default="")
# Seconds per request to the TSA and to the OCSP/CRL responders; attempts after the first one fails, and the
# pause before the first retry (doubled each time): then issuing stops with a clear error, nothing stored.
SIGNING_TSA_TIMEOUT = env.float("SIGNING_TSA_TIMEOUT", default=10.0)
SIGNING_TSA_RETRIES = env.int("SIGNING_TSA_RETRIES", default=2)
SIGNING_TSA_RETRY_DELAY = env.float("SIGNING_TSA_RETRY_DELAY", default=1.0)
# With DEBUG on and no SIGNING_PKCS12_PATH, a development certificate ("THỬ NGHIỆM") is made here on first use.
SIGNING_DEV_DIR = Path(env("SIGNING_DEV_DIR", default=str(VAR_DIR / "signing")))
# Document concern: appendix size limit and the public verification page's rate limit (per IP).
APPENDIX_MAX_BYTES = env.int("APPENDIX_MAX_BYTES", default=10 * 1024 * 1024)
VERIFY_RATE_LIMIT = env.int("VERIFY_RATE_LIMIT", default=30)  # look-ups of unknown codes per IP per window
VERIFY_RATE_WINDOW_SECONDS = env.int("VERIFY_RATE_WINDOW_SECONDS", default=600)
# Directory: the correction links stewards send (days they stay valid; requests per IP per window on the page).
CORRECTION_LINK_DAYS = env.int("CORRECTION_LINK_DAYS", default=7)
CORRECTION_RATE_LIMIT = env.int("CORRECTION_RATE_LIMIT", default=20)
CORRECTION_RATE_WINDOW_SECONDS = env.int("CORRECTION_RATE_WINDOW_SECONDS", default=600)
# The dashboard's counts are recomputed by beat for the dispatches issued in the last DASHBOARD_WINDOW_DAYS.
DASHBOARD_WINDOW_DAYS = env.int("DASHBOARD_WINDOW_DAYS", default=120)
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "congvan",
    }
}

# --- Security in production ------------------------------------------------------------------
if not DEBUG:
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz(/web)?/?$"]  # a load balancer probes the web machines over plain HTTP
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_CONTENT_TYPE_NOSNIFF = True
# Sessions end after SESSION_COOKIE_AGE seconds of inactivity (each request renews it) and when the browser closes.
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = env.bool("SESSION_EXPIRE_AT_BROWSER_CLOSE", default=True)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"

# --- Login lockout (django-axes) ----------------------------------------------------------------
AUTHENTICATION_BACKENDS = ["notices.login.LockoutBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=1.0)  # hours
# Locked out per user name and address together, per address (password spraying) and per user name (one password
# guessed from many addresses); AXES_FAILURE_LIMITS holds the limit of each, in order (notices/lockout.py).
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address", "username"]
AXES_FAILURE_LIMITS = [
    AXES_FAILURE_LIMIT,
    env.int("AXES_ADDRESS_FAILURE_LIMIT", default=20),
    env.int("AXES_USERNAME_FAILURE_LIMIT", default=10),
]
AXES_HANDLER = "notices.lockout.LockoutHandler"
# A correct password alone forgives nothing: the failures (wrong passwords and wrong second-factor codes) are
# forgiven when the whole login succeeds, second factor included (config/second_factor.py).
AXES_RESET_ON_SUCCESS = False
AXES_LOCKOUT_TEMPLATE = "admin/lockout.html"  # the admin's look, in the user's language
AXES_VERBOSE = False  # no "AXES: BEGIN version ..." on every manage.py command's stderr

# --- Second factor (django-otp: TOTP and backup codes; django-otp-webauthn: passkeys) -----------------------------
# The roles (notices/roles.py group names) that must pass a second factor; others may enrol and then must use it.
OTP_REQUIRED_ROLES = env.list("OTP_REQUIRED_ROLES", default=["Phê duyệt", "Văn thư", "Quản trị"])
# Issuing, recalling, lifting a suppression, changing roles, resetting devices ask again after this many seconds.
OTP_STEP_UP_SECONDS = env.int("OTP_STEP_UP_SECONDS", default=600)
OTP_TOTP_ISSUER = env("OTP_TOTP_ISSUER", default="BHXH Hà Nội — Công văn")
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False  # a passkey is a second factor only, never a login by itself
OTP_WEBAUTHN_RP_ID = env("OTP_WEBAUTHN_RP_ID", default="localhost")
OTP_WEBAUTHN_RP_NAME = env("OTP_WEBAUTHN_RP_NAME", default="BHXH Hà Nội — Công văn")
# https origins allowed for passkeys; http://localhost:<any port> is allowed when the RP ID is localhost.
OTP_WEBAUTHN_ALLOWED_ORIGINS = env.list("OTP_WEBAUTHN_ALLOWED_ORIGINS", default=["http://localhost:8000"])
OTP_WEBAUTHN_HELPER_CLASS = "config.second_factor.PasskeyHelper"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"fontTools": {"level": "WARNING"}, "weasyprint": {"level": "ERROR"}, "pikepdf": {"level": "WARNING"}},
}

# --- Directory import -------------------------------------------------------------------------
# What an uploaded CSV/XLSX may hold; beyond it the file is refused, an XLSX before it is unpacked for reading.
DIRECTORY_IMPORT_MAX_ROWS = env.int("DIRECTORY_IMPORT_MAX_ROWS", default=200_000)
DIRECTORY_IMPORT_MAX_COLUMNS = env.int("DIRECTORY_IMPORT_MAX_COLUMNS", default=100)
DIRECTORY_IMPORT_MAX_CELL_CHARS = env.int("DIRECTORY_IMPORT_MAX_CELL_CHARS", default=10_000)
DIRECTORY_IMPORT_MAX_INFLATED_MB = env.int("DIRECTORY_IMPORT_MAX_INFLATED_MB", default=300)
# Personalised dispatches: the raw merge data file (personal, financial) is deleted this many days after issue.
MERGE_FILE_RETENTION_DAYS = env.int("MERGE_FILE_RETENTION_DAYS", default=30)

# --- Sending ----------------------------------------------------------------------------------
SEND_MAX_ATTEMPTS = env.int("SEND_MAX_ATTEMPTS", default=6)
SEND_RETRY_BASE_SECONDS = env.float("SEND_RETRY_BASE_SECONDS", default=30.0)
SEND_RETRY_MAX_SECONDS = env.float("SEND_RETRY_MAX_SECONDS", default=3600.0)  # the backoff's ceiling
SEND_MAX_COUNTDOWN_SECONDS = env.float("SEND_MAX_COUNTDOWN_SECONDS", default=60.0)
SEND_BATCH_SIZE = env.int("SEND_BATCH_SIZE", default=100)  # deliveries per send task, over one connection
# Accepted messages are marked sent in one commit per this many messages or seconds (the duplicate window).
SEND_COMMIT_EVERY = env.int("SEND_COMMIT_EVERY", default=20)
SEND_COMMIT_SECONDS = env.float("SEND_COMMIT_SECONDS", default=0.2)
SEND_FANOUT_PAGE_SIZE = env.int("SEND_FANOUT_PAGE_SIZE", default=5000)
# Global rate per provider, shared by all workers through Redis; halved for a while after a throttling answer.
SEND_RATE_PER_SECOND = env.float("SEND_RATE_PER_SECOND", default=50.0)
SEND_RATE_BURST = env.int("SEND_RATE_BURST", default=50)
SEND_RATE_TAKE = env.int("SEND_RATE_TAKE", default=10)  # tokens a worker takes at once
SEND_RATE_REDIS_URL = env("SEND_RATE_REDIS_URL", default=REDIS_URL)
SEND_THROTTLE_COOLDOWN_SECONDS = env.int("SEND_THROTTLE_COOLDOWN_SECONDS", default=60)
SEND_THROTTLE_RETRY_SECONDS = env.float("SEND_THROTTLE_RETRY_SECONDS", default=5.0)
# Sweeper: `sending` or lost `queued` rows older than this are requeued; anything waiting longer than
# SEND_GIVE_UP_SECONDS after it was queued fails as timed out.
SEND_STUCK_SECONDS = env.float("SEND_STUCK_SECONDS", default=600.0)
SEND_GIVE_UP_SECONDS = env.float("SEND_GIVE_UP_SECONDS", default=2 * 24 * 3600.0)
SEND_SWEEP_LIMIT = env.int("SEND_SWEEP_LIMIT", default=20000)

# --- Security: trusted signing roots, parser sandbox, Content-Security-Policy -----------------------
# Parsers and renderers of uploads run in a child process with these limits (config/sandbox.py).
SANDBOX_MEMORY_MB = env.int("SANDBOX_MEMORY_MB", default=2048)  # address space (RLIMIT_AS)
SANDBOX_CPU_SECONDS = env.int("SANDBOX_CPU_SECONDS", default=60)
SANDBOX_TIMEOUT_SECONDS = env.float("SANDBOX_TIMEOUT_SECONDS", default=90.0)  # wall clock, then killed
# A provider webhook signed with only a timestamp and a token (Mailgun) is accepted once, and only this fresh.
WEBHOOK_MAX_AGE_SECONDS = env.int("WEBHOOK_MAX_AGE_SECONDS", default=300)
# Amazon SES reports through Amazon SNS: a message counts only with SNS's signature, by a certificate fetched from an
# Amazon SNS host over HTTPS; only this fresh (SNS retries for up to an hour by its delivery policy), and only once.
SNS_CERTIFICATE_URL_PATTERN = r"https://sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/[A-Za-z0-9_./-]+\.pem"  # not settable
SNS_CERTIFICATE_TIMEOUT_SECONDS = env.float("SNS_CERTIFICATE_TIMEOUT_SECONDS", default=5.0)
SNS_MAX_AGE_SECONDS = env.int("SNS_MAX_AGE_SECONDS", default=3600)
SNS_TOPIC_ARNS = env.list("SNS_TOPIC_ARNS", default=[])  # empty: any topic (basic auth and the signature still hold)
# Content-Security-Policy on every response (django-csp): scripts only from our static files, or inline with the
# request's nonce; no plugins, no framing, forms post only to us. Inline style attributes stay allowed (the admin's
# and our templates use them; they cannot run code).
MIDDLEWARE = [*MIDDLEWARE, "csp.middleware.CSPMiddleware"]
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", NONCE],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# --- The API for client systems (api/): keys, rate limits, status callbacks ------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.authentication.KeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.HasScope"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.KeyBucket"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.handler.handler",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Công văn API",
    "DESCRIPTION": "Drafts, delivery status, acknowledgements, files and the directory for the agency's systems. "
    "Authenticate with `Authorization: Bearer cv_<prefix>_<secret>`.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
}
# Each key's token bucket (Redis): API_RATE_PER_SECOND requests a second (a key may have its own), bursts of
# API_RATE_BURST; beyond that 429 with Retry-After.
API_RATE_PER_SECOND = env.float("API_RATE_PER_SECOND", default=5.0)
API_RATE_BURST = env.int("API_RATE_BURST", default=30)
# A file sent in a JSON body (an appendix, merge data), base64; the body as a whole must fit DATA_UPLOAD_MAX_MEMORY_SIZE.
API_FILE_MAX_BYTES = env.int("API_FILE_MAX_BYTES", default=7 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=20 * 1024 * 1024)
# Status callbacks: never to loopback, private, link-local or other special addresses except these networks;
# plain http:// only when CALLBACK_ALLOW_HTTP (for a receiver inside the allow-listed networks).
CALLBACK_ALLOWED_NETWORKS = env.list("CALLBACK_ALLOWED_NETWORKS", default=[])
CALLBACK_ALLOW_HTTP = env.bool("CALLBACK_ALLOW_HTTP", default=False)
CALLBACK_MAX_ATTEMPTS = env.int("CALLBACK_MAX_ATTEMPTS", default=8)
CALLBACK_RETRY_BASE_SECONDS = env.float("CALLBACK_RETRY_BASE_SECONDS", default=10.0)
CALLBACK_MAX_BACKOFF_SECONDS = env.float("CALLBACK_MAX_BACKOFF_SECONDS", default=900.0)
CALLBACK_CONNECT_TIMEOUT = env.float("CALLBACK_CONNECT_TIMEOUT", default=5.0)
CALLBACK_READ_TIMEOUT = env.float("CALLBACK_READ_TIMEOUT", default=10.0)
CALLBACK_MAX_ANSWER_BYTES = env.int("CALLBACK_MAX_ANSWER_BYTES", default=64 * 1024)
# Events newer than this wait for the next collection, so that one written by a transaction still open is not skipped.
CALLBACK_SETTLE_SECONDS = env.float("CALLBACK_SETTLE_SECONDS", default=2.0)
# Events are stamped by each host's clock: how far another host's clock may run behind the database's.
CALLBACK_CLOCK_MARGIN_SECONDS = env.float("CALLBACK_CLOCK_MARGIN_SECONDS", default=5.0)
