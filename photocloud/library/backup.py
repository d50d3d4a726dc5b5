"""Backup and restore of a whole installation: the database content and the originals, portable between SQLite,
PostgreSQL and MariaDB.

The rows are written by Django's own serializer (dumpdata) inside one snapshot transaction, so they are consistent
with each other and name exactly the originals copied next to them. What can be derived again is left out: the
search postings (rebuilt on restore), sessions, queued tasks, upload sessions in progress, and the content types and
permissions that `migrate` creates. Renditions are not copied; restore makes them again from the originals.

Originals are content-addressed and never rewritten, so copying them after the rows is safe; one that a deletion
removed meanwhile is reported, and the backup is then incomplete (run it again). On S3 the bytes stay in the bucket:
the manifest lists each object's key, hash and size, and restore checks that they are all there.
"""

import hashlib
import io
import json
import os
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django.apps import apps
from django.core.files import File
from django.core.files.storage import FileSystemStorage, default_storage
from django.core.management import call_command
from django.db import connection, transaction
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from . import imaging, services, stored_files, tallies
from .models import Photo
from .storage import original_name

FORMAT = "photocloud-backup"
VERSION = 1
MANIFEST = "manifest.json"
DATABASE = "database.jsonl.gz"  # JSON Lines: loaddata reads it a row at a time, not whole
CHUNK = 1 << 20
# Derivable or ephemeral: recreated by `migrate`, by the search rebuild, or meaningless once restored.
EXCLUDED = [
    "contenttypes",
    "auth.permission",
    "sessions",
    "django_tasks_database",
    "search.searchdocument",
    "search.searchposting",
    "sync.uploadsession",
    "core.workerheartbeat",
    "vision.photovector",  # pgvector's copy of the features (its table exists on PostgreSQL with pgvector only)
    "library.monthtally",  # counts of the pictures (tallies.py), counted again by `restore`
    "library.themetally",
]


class BackupError(Exception):
    """What makes a backup incomplete or a restore impossible, said so that the operator knows what to do."""


@dataclass
class BackupResult:
    counts: dict[str, int]
    originals: int
    copied: bool
    problems: list[str] = field(default_factory=list)


def _included_models():
    """The models whose rows a backup holds (the complement of EXCLUDED)."""
    excluded = {label.lower() for label in EXCLUDED}
    return [
        model
        for model in apps.get_models()
        if model._meta.app_label.lower() not in excluded and model._meta.label_lower not in excluded
    ]


@contextmanager
def _snapshot():
    """A read transaction that sees one state of the database from its first query to its end, while the server keeps
    serving (SQLite: one transaction in WAL mode; writers wait until it ends)."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            elif connection.vendor == "mysql":
                # Django's MySQL connections read committed; this session's next transaction reads a snapshot, and
                # START TRANSACTION ends the empty one `atomic` opened and begins it.
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                cursor.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")
        yield


def _applied_migrations() -> dict[str, list[str]]:
    applied: dict[str, list[str]] = {}
    for app, name in MigrationRecorder.Migration.objects.order_by("app", "name").values_list("app", "name"):
        applied.setdefault(app, []).append(name)
    return applied


def _copy_hashing(source, target: Path) -> tuple[str, int]:
    """Copy an open file to `target` (whole or not at all); returns the SHA-256 and size of the bytes copied."""
    digest, size = hashlib.sha256(), 0
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as out:
        try:
            for chunk in iter(lambda: source.read(CHUNK), b""):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        except BaseException:
            os.unlink(out.name)
            raise
    os.replace(out.name, target)
    return digest.hexdigest(), size


def _sha256_of_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def backup(directory: Path) -> BackupResult:
    """Write the database content, the originals (or on S3 their keys) and a manifest into `directory`, which must be
    empty or new. Problems (an original missing or not matching its hash) are listed in the result and manifest."""
    directory = Path(directory)
    if directory.exists() and any(directory.iterdir()):
        raise BackupError(f"{directory} is not empty: back up into a new or empty folder.")
    directory.mkdir(parents=True, exist_ok=True)
    with _snapshot():
        counts = {model._meta.label_lower: model._base_manager.count() for model in _included_models()}
        migrations = _applied_migrations()
        call_command(
            "dumpdata",
            format="jsonl",
            exclude=EXCLUDED,
            natural_foreign=True,
            use_base_manager=True,
            output=str(directory / DATABASE),
            verbosity=0,
        )
        originals = list(
            Photo._base_manager.order_by("sha256").values_list("sha256", "format").distinct().iterator(chunk_size=2000)
        )
    copied = isinstance(default_storage, FileSystemStorage)
    listed, problems = [], []
    for sha256, fmt in originals:
        name = original_name(sha256, imaging.FORMATS[fmt][1])
        try:
            if copied:
                with default_storage.open(name, "rb") as source:
                    digest, size = _copy_hashing(source, directory / name)
                if digest != sha256:
                    problems.append(f"{name}: its bytes do not match its SHA-256 (damaged in storage)")
            elif default_storage.exists(name):
                size = default_storage.size(name)
            else:
                raise FileNotFoundError(name)
        except FileNotFoundError:
            problems.append(f"{name}: missing from storage (deleted during the backup, or lost: see check-storage)")
            continue
        listed.append({"name": name, "sha256": sha256, "size": size})
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "created_at": timezone.now().isoformat(),
        "database_vendor": connection.vendor,
        "database": {"file": DATABASE, "sha256": _sha256_of_file(directory / DATABASE)},
        "migrations": migrations,
        "counts": counts,
        "originals_copied": copied,
        "originals": listed,
        "problems": problems,
    }
    with open(directory / MANIFEST, "w") as handle:
        json.dump(manifest, handle, indent=1)
    return BackupResult(counts, len(listed), copied, problems)


def read_manifest(directory: Path) -> dict:
    try:
        with open(Path(directory) / MANIFEST) as handle:
            manifest = json.load(handle)
    except FileNotFoundError:
        raise BackupError(f"{directory} holds no {MANIFEST}: it is not a Photocloud backup.") from None
    except json.JSONDecodeError as error:
        raise BackupError(f"{MANIFEST} is damaged: {error}") from None
    if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise BackupError(f"Unknown backup format {manifest.get('format')} version {manifest.get('version')}.")
    return manifest


def _check_target(manifest: dict) -> None:
    """Restore only onto an installation that is migrated at least as far as the backup, and holds nothing yet."""
    applied = _applied_migrations()
    missing = [
        f"{app}.{name}"
        for app, names in manifest["migrations"].items()
        for name in names
        if name not in applied.get(app, [])
    ]
    if missing:
        raise BackupError(
            f"This installation lacks {len(missing)} migration(s) the backup was made with (e.g. {missing[0]}): "
            "install the same or a newer Photocloud and run `photocloud migrate` first."
        )
    filled = [model._meta.label for model in _included_models() if model._base_manager.exists()]
    if filled:
        raise BackupError(
            f"This installation is not empty ({', '.join(filled[:5])} hold rows): restore only into a new, migrated "
            "database and an empty storage."
        )


def _check_files(directory: Path, manifest: dict) -> None:
    """Before anything is written: the database file and every original are there and hold the bytes listed."""
    database = directory / manifest["database"]["file"]
    if not database.exists() or _sha256_of_file(database) != manifest["database"]["sha256"]:
        raise BackupError(f"{database} is missing or does not match the manifest's SHA-256.")
    bad = []
    for item in manifest["originals"]:
        if manifest["originals_copied"]:
            path = directory / item["name"]
            if not path.exists() or _sha256_of_file(path) != item["sha256"]:
                bad.append(item["name"])
        elif not default_storage.exists(item["name"]) or default_storage.size(item["name"]) != item["size"]:
            bad.append(item["name"])
    if bad:
        where = "in the backup" if manifest["originals_copied"] else "in the bucket"
        raise BackupError(f"{len(bad)} original(s) are missing or damaged {where}, e.g. {bad[0]}.")


def _put_original(path: Path, name: str, sha256: str) -> None:
    """Store an original from the backup, unless storage already holds these exact bytes under its name."""
    if default_storage.exists(name):
        if stored_files.sha256_of(name) == sha256:
            return
        default_storage.delete(name)
    with open(path, "rb") as handle:
        default_storage.save(name, File(handle))


@dataclass
class RestoreResult:
    counts: dict[str, int]
    originals: int
    renditions: int
    problems: list[str]


def restore(directory: Path) -> RestoreResult:
    """Bring a backup back onto an empty installation: originals first (checked byte for byte), then the rows in one
    transaction, then what was left out (search index, renditions)."""
    directory = Path(directory)
    manifest = read_manifest(directory)
    _check_target(manifest)
    _check_files(directory, manifest)
    if manifest["originals_copied"]:
        for item in manifest["originals"]:
            _put_original(directory / item["name"], item["name"], item["sha256"])
    with transaction.atomic():
        call_command("loaddata", str(directory / manifest["database"]["file"]), verbosity=0)
        tallies.rebuild()  # counted from the pictures restored (backups leave the counts out)
    counts = {model._meta.label_lower: model._base_manager.count() for model in _included_models()}
    problems = [
        f"{label}: {counts.get(label, 0)} row(s) restored, {expected} backed up"
        for label, expected in manifest["counts"].items()
        if counts.get(label, 0) != expected
    ]
    call_command("rebuild_search_index", stdout=io.StringIO())
    call_command("build_vector_index", stdout=io.StringIO())  # pgvector: the vectors, which are not backed up
    missing = stored_files.inspect_storage().missing_renditions
    renditions, failures = services.repair_renditions(missing)
    problems += failures
    return RestoreResult(counts, len(manifest["originals"]), renditions, problems)
