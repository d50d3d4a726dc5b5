"""Photocloud settings, read from the environment.

Embedded defaults (SQLite, files under ./data, one worker) need no configuration at all; every value a real
deployment changes comes from a PHOTOCLOUD_* variable or DATABASE_URL.
"""

import os
import secrets
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent

# ONNX Runtime (text reading) writes usage data under ~/.cache as soon as it is imported, unless told not to.
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DATA_DIR = Path(os.environ.get("PHOTOCLOUD_DATA_DIR") or BASE_DIR / "data").resolve()  # empty: the default
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """Generated once into the data folder, so a fresh install is never left with a known key."""
    if key := os.environ.get("PHOTOCLOUD_SECRET_KEY"):
        return key
    path = DATA_DIR / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        key = secrets.token_urlsafe(50)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(key)
        return key


SECRET_KEY = _secret_key()
DEBUG = env_bool("PHOTOCLOUD_DEBUG", False)
ALLOWED_HOSTS = env_list("PHOTOCLOUD_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("PHOTOCLOUD_CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_tasks",
    "photocloud.core",  # before django_tasks_db: its `db_worker` (with a heartbeat) replaces the package's
    "django_tasks_db",
    "photocloud.accounts",
    "photocloud.social",
    "photocloud.library",
    "photocloud.vision",
    "photocloud.people",
    "photocloud.search",
    "photocloud.crawler",
    "photocloud.sync",
]

MIDDLEWARE = [
    "photocloud.core.net.ClientAddressMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_ratelimit.middleware.RatelimitMiddleware",
    "photocloud.core.middleware.UnreadQueryMiddleware",
]

ROOT_URLCONF = "photocloud.urls"
WSGI_APPLICATION = "photocloud.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "photocloud" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "photocloud.social.context_processors.notifications",
                "photocloud.library.undo.context",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'db.sqlite3'}",  # an empty one means unset
        conn_max_age=60,
    )
}
_engine = DATABASES["default"]["ENGINE"]
if _engine.endswith("sqlite3"):
    # The web server and the worker write concurrently: WAL and IMMEDIATE transactions avoid "database is locked".
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
elif _engine.endswith("postgresql"):
    # Page queries are short: compiling them just in time cost more than running them (facet counts over 1,000
    # search results: 19 ms without JIT, 45-100 ms with it, in bench/search_text.py).
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
elif _engine.endswith("mysql"):
    DATABASES["default"].setdefault("OPTIONS", {}).update({"charset": "utf8mb4"})
    DATABASES["default"]["TEST"] = {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "library:timeline"
LOGOUT_REDIRECT_URL = "library:home"

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("PHOTOCLOUD_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "photocloud" / "static"]
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)


def s3_storage(environ) -> dict | None:
    """The default storage in an S3-compatible bucket when PHOTOCLOUD_S3_BUCKET is set (a function so that the tests
    build theirs the same way).

    Objects stay private: no ACL is sent (the bucket's own, private, applies) and any URL would be signed; Photocloud
    never hands out storage URLs anyway. Keys left unset fall back to the AWS_* environment and boto3's usual chain
    (instance roles, ~/.aws). Files read back spill to FILE_UPLOAD_TEMP_DIR above 2.5 MB rather than fill memory.
    """
    bucket = environ.get("PHOTOCLOUD_S3_BUCKET", "").strip()
    if not bucket:
        return None
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "location": environ.get("PHOTOCLOUD_S3_PREFIX", "").strip("/"),
            "endpoint_url": environ.get("PHOTOCLOUD_S3_ENDPOINT_URL") or None,
            "region_name": environ.get("PHOTOCLOUD_S3_REGION") or None,
            "access_key": environ.get("PHOTOCLOUD_S3_ACCESS_KEY") or None,
            "secret_key": environ.get("PHOTOCLOUD_S3_SECRET_KEY") or None,
            "default_acl": None,
            "querystring_auth": True,
            "signature_version": "s3v4",  # what every S3-compatible server speaks; some (Garage) speak no other
            "file_overwrite": True,  # names are content hashes: the same name holds the same bytes
            "max_memory_size": 2_621_440,
        },
    }


# Originals and renditions are never public files: MEDIA is only a storage location, served by access-checked views.
MEDIA_ROOT = Path(os.environ.get("PHOTOCLOUD_STORAGE_DIR", DATA_DIR / "media")).resolve()
STORAGES = {
    "default": s3_storage(os.environ)
    or {
        "BACKEND": "photocloud.library.storage.AtomicFileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT), "allow_overwrite": True},
    },
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = True

# Uploads: files above 2.5 MB go to a temporary file, never into memory; limits are checked while streaming.
FILE_UPLOAD_TEMP_DIR = str(DATA_DIR / "tmp")
Path(FILE_UPLOAD_TEMP_DIR).mkdir(parents=True, exist_ok=True)
FILE_UPLOAD_HANDLERS = [
    "photocloud.library.uploads.SizeLimitUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
DATA_UPLOAD_MAX_NUMBER_FILES = 100

PHOTOCLOUD = {
    "MAX_UPLOAD_BYTES": int(os.environ.get("PHOTOCLOUD_MAX_UPLOAD_MB", "200")) * 1024 * 1024,
    "MAX_PIXELS": int(os.environ.get("PHOTOCLOUD_MAX_MEGAPIXELS", "120")) * 1_000_000,
    "THUMBNAIL_SIZES": {"s": 320, "m": 1024, "l": 2048},
    # Made at ingest; the others on first request. Most pictures are never opened large, and without the 2048 px
    # one libvips decodes a 12 MP JPEG at half size: ingest is about 20 % faster (bench/ingest.py).
    "EAGER_SIZES": ("s", "m"),
    "EVENT_GAP_HOURS": float(os.environ.get("PHOTOCLOUD_EVENT_GAP_HOURS", "3")),
    "INGEST_MAX_ATTEMPTS": 3,
    # A request completing a chunked upload holds a claim it refreshes; a claim this old died with its process (a
    # killed web worker), and the client's retry takes the upload over (sync/services.py).
    "UPLOAD_CLAIM_SECONDS": float(os.environ.get("PHOTOCLOUD_UPLOAD_CLAIM_SECONDS", "20")),
    "PAGE_SIZE": 60,
    # Deleted pictures and albums wait this many days in their owner's Trash before a background job purges them.
    "TRASH_DAYS": float(os.environ.get("PHOTOCLOUD_TRASH_DAYS", "30")),
    # Automatic understanding of pictures (features, tags, text, faces, category) after ingest.
    "VISION": env_bool("PHOTOCLOUD_VISION", True),
    # Models converted from the packaged weights on first start (the ONNX image model, vision/features.py).
    "MODEL_DIR": Path(os.environ.get("PHOTOCLOUD_MODEL_DIR", DATA_DIR / "models")).resolve(),
    # Search by image: "auto" uses pgvector when the database is PostgreSQL with the extension (vision/pg_vectors.py),
    # "embedded" keeps the in-process FAISS/numpy index even there (for comparison, bench/search.py --end-to-end).
    "VECTOR_INDEX": os.environ.get("PHOTOCLOUD_VECTOR_INDEX", "auto"),
    # Web crawler (photocloud/crawler): politeness, budgets and the networks it may reach besides the public internet.
    "CRAWLER": {
        "ALLOW_NETWORKS": env_list("PHOTOCLOUD_CRAWLER_ALLOW", ""),  # e.g. "10.1.2.0/24"; private ranges are refused
        "USER_AGENT": os.environ.get("PHOTOCLOUD_CRAWLER_USER_AGENT", "PhotocloudBot/1.0 (self-hosted image cloud)"),
        "MAX_PAGES": int(os.environ.get("PHOTOCLOUD_CRAWLER_MAX_PAGES", "60")),
        "MAX_BYTES": int(os.environ.get("PHOTOCLOUD_CRAWLER_MAX_MB", "100")) * 1024 * 1024,
        "MAX_SECONDS": int(os.environ.get("PHOTOCLOUD_CRAWLER_MAX_SECONDS", "300")),
        "MAX_DEPTH": int(os.environ.get("PHOTOCLOUD_CRAWLER_MAX_DEPTH", "2")),
        "MAX_CANDIDATES": int(os.environ.get("PHOTOCLOUD_CRAWLER_MAX_CANDIDATES", "200")),
        "DAILY_PAGES": int(os.environ.get("PHOTOCLOUD_CRAWLER_DAILY_PAGES", "1000")),
        "DAILY_BYTES": int(os.environ.get("PHOTOCLOUD_CRAWLER_DAILY_MB", "1000")) * 1024 * 1024,
        "DAILY_SECONDS": int(os.environ.get("PHOTOCLOUD_CRAWLER_DAILY_SECONDS", "3600")),
        "ACTIVE_PER_USER": int(os.environ.get("PHOTOCLOUD_CRAWLER_ACTIVE_PER_USER", "2")),
        "HOST_DELAY": float(os.environ.get("PHOTOCLOUD_CRAWLER_HOST_DELAY", "1.0")),
        "HOST_CONCURRENCY": int(os.environ.get("PHOTOCLOUD_CRAWLER_HOST_CONCURRENCY", "2")),
        "MAX_RETRY_AFTER": 120,
        "MAX_PAGE_BYTES": 3 * 1024 * 1024,
        "MAX_IMAGE_BYTES": int(os.environ.get("PHOTOCLOUD_CRAWLER_MAX_IMAGE_MB", "15")) * 1024 * 1024,
        "MAX_REDIRECTS": 5,
        "TIMEOUT": float(os.environ.get("PHOTOCLOUD_CRAWLER_TIMEOUT", "10")),
        "STALE_SECONDS": 180,
    },
}

TASKS = {
    "default": {
        "BACKEND": os.environ.get("PHOTOCLOUD_TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(DATA_DIR / "cache"),
    },
    # Near-duplicate review keeps what never changes for given contents (vision/duplicates.py): each candidate pair's
    # pixel alignment (about 45 ms of CPU) and each picture's small-rendition features. A few hundred look-alike
    # pictures make thousands of them, far over the 300 entries a Django file cache keeps by default (culled at random:
    # the review page aligned every pair again after each change, 91 s of CPU for 300 phone pictures). Its own folder,
    # so the default cache's writes (rate limits) never list these files.
    "duplicates": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(DATA_DIR / "cache" / "duplicates"),
        "OPTIONS": {"MAX_ENTRIES": 100_000},
    },
}
if redis_url := os.environ.get("PHOTOCLOUD_REDIS_URL"):
    CACHES["default"] = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url}
    CACHES["duplicates"] = CACHES["default"]

RATELIMIT_VIEW = "photocloud.accounts.views.rate_limited"
RATELIMIT_ENABLE = env_bool("PHOTOCLOUD_RATELIMIT", True)

EMAIL_BACKEND = os.environ.get("PHOTOCLOUD_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("PHOTOCLOUD_FROM_EMAIL", "photocloud@localhost")

SESSION_COOKIE_HTTPONLY = True
# Behind HTTPS (a TLS-terminating proxy that sets X-Forwarded-Proto), one switch turns on the secure settings.
if env_bool("PHOTOCLOUD_HTTPS", False):
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("PHOTOCLOUD_HSTS_SECONDS", "31536000"))
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Proxies whose X-Forwarded-For is believed (comma-separated addresses or networks): the client address that rate
# limits and logs see is REMOTE_ADDR otherwise, whatever a client writes in the header (core/net.py).
TRUSTED_PROXIES = [
    value.strip() for value in os.environ.get("PHOTOCLOUD_TRUSTED_PROXIES", "").split(",") if value.strip()
]

REST_FRAMEWORK = {
    "NUM_PROXIES": 0,  # throttles key on REMOTE_ADDR, which ClientAddressMiddleware set from trusted proxies only
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "photocloud.accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    # Request bodies are JSON, whose types the schema can state; endpoints that take files add multipart themselves.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "photocloud.core.pagination.ApiPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "photocloud.core.schema.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": os.environ.get("PHOTOCLOUD_ANON_RATE", "300/min"),
        "user": os.environ.get("PHOTOCLOUD_USER_RATE", "2000/min"),
        "upload": os.environ.get("PHOTOCLOUD_UPLOAD_RATE", "600/min"),
        "search": os.environ.get("PHOTOCLOUD_SEARCH_RATE", "60/min"),
    },
    "EXCEPTION_HANDLER": "photocloud.core.errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Photocloud API",
    "DESCRIPTION": "Everything the web pages do. Authenticate with `Authorization: Token <key>`.",
    "VERSION": "1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("PHOTOCLOUD_LOG_LEVEL", "INFO")},
    "loggers": {"django.request": {"level": "ERROR"}, "pyvips": {"level": "WARNING"}, "faiss": {"level": "WARNING"}},
}
