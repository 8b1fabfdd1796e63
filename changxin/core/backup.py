"""Backups of the database and the uploaded files, and their restore (`changxin backup` / `restore`).

A backup is one directory `changxin-YYYYmmdd-HHMMSS/` holding:

- `database.dump` — PostgreSQL: `pg_dump --format=custom` with the DATABASE_URL's parameters
  (restored with `pg_restore`); or `database.sqlite3` — SQLite: a consistent copy taken online with
  SQLite's backup API (writers may keep writing meanwhile);
- `media.tar.gz` — everything under MEDIA_ROOT (attachments);
- `manifest.json` — when, which engine, the table fingerprints (row count and checksum per table),
  so a restore can be verified against what was saved.

Backups go to CHANGXIN_BACKUP_DIR (default var/backups); `prune()` deletes those older than
CHANGXIN_BACKUP_KEEP_DAYS (default 30), never the newest one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
from pathlib import Path

import dj_database_url
from django.conf import settings
from django.db import connection

PREFIX = "changxin-"
PG_DUMP = "database.dump"
SQLITE_COPY = "database.sqlite3"
MEDIA = "media.tar.gz"
MANIFEST = "manifest.json"


class BackupError(Exception):
    pass


def backup_dir() -> Path:
    return Path(getattr(settings, "CHANGXIN_BACKUP_DIR", "") or Path(settings.VAR_DIR) / "backups")


def is_postgres(db: dict) -> bool:
    return "postgresql" in db["ENGINE"]


def pg_env(db: dict) -> tuple[list[str], dict]:
    """Connection arguments for the PostgreSQL client tools; the password travels in the environment."""
    args = []
    if db.get("HOST"):
        args += ["--host", str(db["HOST"])]
    if db.get("PORT"):
        args += ["--port", str(db["PORT"])]
    if db.get("USER"):
        args += ["--username", str(db["USER"])]
    env = {**os.environ}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    return args, env


def client_tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        raise BackupError(
            f"{name} not found: install the PostgreSQL client tools (Debian: postgresql-client)"
        )
    return path


# --- fingerprints: what a restore is checked against --------------------------------------------


def _value(value) -> str:
    if isinstance(value, memoryview | bytes):
        return bytes(value).hex()
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        value = value.astimezone(dt.UTC)
    return repr(value)


def fingerprint_cursor(cursor, tables: list[str], quote) -> dict[str, dict]:
    """{table: {"rows": n, "checksum": sha256 of its rows, in a stable order}}."""
    result = {}
    for table in sorted(tables):
        cursor.execute(f"SELECT * FROM {quote(table)}")
        rows = sorted("\x1f".join(_value(v) for v in row) for row in cursor.fetchall())
        digest = hashlib.sha256("\x1e".join(rows).encode()).hexdigest()
        result[table] = {"rows": len(rows), "checksum": digest}
    return result


def fingerprint(conn=connection) -> dict[str, dict]:
    """Fingerprints of every table of a Django connection."""
    with conn.cursor() as cursor:
        tables = conn.introspection.table_names(cursor)
        return fingerprint_cursor(cursor, tables, conn.ops.quote_name)


# --- backup --------------------------------------------------------------------------------------


def backup(destination: Path | None = None, *, include_media: bool = True, now=None) -> Path:
    destination = Path(destination or backup_dir())
    stamp = (now or dt.datetime.now()).strftime("%Y%m%d-%H%M%S")
    target = destination / f"{PREFIX}{stamp}"
    work = destination / f".{PREFIX}{stamp}.partial"
    work.mkdir(parents=True, exist_ok=False)
    db = connection.settings_dict
    try:
        if is_postgres(db):
            args, env = pg_env(db)
            subprocess.run(
                [
                    client_tool("pg_dump"),
                    "--format=custom",
                    "--no-owner",
                    "--file",
                    str(work / PG_DUMP),
                    *args,
                ]
                + [db["NAME"]],
                check=True,
                env=env,
                capture_output=True,
            )
        else:
            connection.ensure_connection()
            with sqlite3.connect(work / SQLITE_COPY) as copy:
                connection.connection.backup(copy)
            copy.close()
        if include_media:
            media_root = Path(settings.MEDIA_ROOT)
            with tarfile.open(work / MEDIA, "w:gz") as tar:
                if media_root.is_dir():
                    tar.add(media_root, arcname="media")
        manifest = {
            "created": dt.datetime.now(dt.UTC).isoformat(),
            "engine": "postgresql" if is_postgres(db) else "sqlite",
            "database": str(db["NAME"]),
            "media": include_media,
            "tables": fingerprint(),
        }
        (work / MANIFEST).write_text(json.dumps(manifest, indent=1, ensure_ascii=False), encoding="utf-8")
        work.rename(target)
    except subprocess.CalledProcessError as exc:
        shutil.rmtree(work, ignore_errors=True)
        raise BackupError(f"pg_dump failed: {exc.stderr.decode(errors='replace').strip()}") from exc
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return target


def prune(destination: Path | None = None, *, keep_days: int, now=None) -> list[Path]:
    """Delete backups older than `keep_days` (by the time in their name); the newest always stays."""
    destination = Path(destination or backup_dir())
    if not destination.is_dir():
        return []
    found = sorted(p for p in destination.iterdir() if p.is_dir() and p.name.startswith(PREFIX))
    cutoff = (now or dt.datetime.now()) - dt.timedelta(days=keep_days)
    removed = []
    for path in found[:-1]:
        try:
            made = dt.datetime.strptime(path.name.removeprefix(PREFIX), "%Y%m%d-%H%M%S")
        except ValueError:
            continue
        if made < cutoff:
            shutil.rmtree(path)
            removed.append(path)
    return removed


# --- restore -------------------------------------------------------------------------------------


def restore(source: Path, *, database_url: str | None = None, media_root: Path | None = None) -> dict:
    """Restore a backup into the configured database (or `database_url`: another database, e.g. to
    check a backup) and its files into MEDIA_ROOT (or `media_root`). The target database's tables
    are replaced. Returns the manifest."""
    source = Path(source)
    manifest = json.loads((source / MANIFEST).read_text(encoding="utf-8"))
    db = dj_database_url.parse(database_url) if database_url else connection.settings_dict
    if manifest["engine"] == "postgresql":
        if not is_postgres(db):
            raise BackupError("this is a PostgreSQL backup: restore it into a PostgreSQL database")
        args, env = pg_env(db)
        if not database_url:
            connection.close()
        result = subprocess.run(
            [client_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction"]
            + [*args, "--dbname", db["NAME"], str(source / PG_DUMP)],
            env=env,
            capture_output=True,
        )
        if result.returncode != 0:
            raise BackupError(f"pg_restore failed: {result.stderr.decode(errors='replace').strip()}")
    else:
        if is_postgres(db):
            raise BackupError("this is a SQLite backup: restore it into a SQLite database")
        with sqlite3.connect(source / SQLITE_COPY) as saved:
            if database_url:
                target = sqlite3.connect(db["NAME"])
            else:
                connection.ensure_connection()
                target = connection.connection
            saved.backup(target)
            if database_url:
                target.close()
        saved.close()
    if manifest.get("media"):
        root = Path(media_root or settings.MEDIA_ROOT)
        root.mkdir(parents=True, exist_ok=True)
        with tarfile.open(source / MEDIA, "r:gz") as tar:
            members = [m for m in tar.getmembers() if m.name.startswith("media/")]
            for member in members:
                member.name = member.name.removeprefix("media/")
            tar.extractall(root, members=[m for m in members if m.name], filter="data")
    return manifest
