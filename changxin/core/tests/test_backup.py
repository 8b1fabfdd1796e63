"""`changxin backup` / `changxin restore`: a round trip gives back every table, row for row, and the files."""

from __future__ import annotations

import datetime as dt
import sqlite3
import uuid

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection

from changxin.core import backup
from changxin.core.tests.builders import build_world


def some_data():
    return build_world(calendar_years=(2026,)).demand()


def make_media(root):
    (root / "attachments" / "2026").mkdir(parents=True)
    (root / "attachments" / "2026" / "photo.png").write_bytes(b"\x89PNG fake image")
    (root / "readme.txt").write_text("附件", encoding="utf-8")


def files_under(root):
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.mark.django_db(transaction=True)
def test_sqlite_round_trip_restores_every_table_and_the_files(tmp_path, settings):
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite round trip; PostgreSQL has its own test")
    some_data()
    settings.MEDIA_ROOT = tmp_path / "media"
    make_media(settings.MEDIA_ROOT)
    call_command("backup", dir=str(tmp_path / "backups"), keep_days=0)
    (made,) = (tmp_path / "backups").iterdir()

    target = tmp_path / "restored.sqlite3"
    call_command(
        "restore", str(made), database_url=f"sqlite:///{target}", media_root=str(tmp_path / "restored-media")
    )
    before = backup.fingerprint()
    # Read back with the type converters Django registers for its own SQLite connections.
    with sqlite3.connect(target, detect_types=sqlite3.PARSE_DECLTYPES | sqlite3.PARSE_COLNAMES) as restored:
        after = backup.fingerprint_cursor(
            restored.cursor(),
            [r[0] for r in restored.execute("SELECT name FROM sqlite_master WHERE type='table'")],
            connection.ops.quote_name,
        )
    restored.close()
    after = {name: value for name, value in after.items() if name in before}
    assert after == before
    assert before["demands_demand"]["rows"] == 1 and before["core_orgunit"]["rows"] > 3
    assert files_under(tmp_path / "restored-media") == files_under(settings.MEDIA_ROOT)


def pg_fingerprint(dbname):
    """Every table of a PostgreSQL database, read through the same plain psycopg connection settings."""
    db = connection.settings_dict
    with (
        psycopg.connect(
            dbname=dbname,
            user=db["USER"],
            password=db["PASSWORD"] or None,
            host=db["HOST"],
            port=db["PORT"] or None,
            autocommit=True,
        ) as conn,
        conn.cursor() as cursor,
    ):
        cursor.execute("SET TIME ZONE 'UTC'")
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        tables = [row[0] for row in cursor.fetchall()]
        return backup.fingerprint_cursor(cursor, tables, connection.ops.quote_name)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_round_trip_into_a_separate_database(tmp_path, settings):
    some_data()
    settings.MEDIA_ROOT = tmp_path / "media"
    make_media(settings.MEDIA_ROOT)
    made = backup.backup(tmp_path / "backups")
    db = connection.settings_dict
    name = f"{db['NAME']}_restore_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect(
        dbname=db["NAME"],
        user=db["USER"],
        password=db["PASSWORD"] or None,
        host=db["HOST"],
        port=db["PORT"] or None,
        autocommit=True,
    )
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{name}"
        call_command("restore", str(made), database_url=url, media_root=str(tmp_path / "restored-media"))
        before, after = pg_fingerprint(db["NAME"]), pg_fingerprint(name)
        assert after == before
        assert before["demands_demand"]["rows"] == 1 and before["core_orgunit"]["rows"] > 3
        assert files_under(tmp_path / "restored-media") == files_under(settings.MEDIA_ROOT)
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def test_old_backups_are_pruned_but_the_newest_stays(tmp_path):
    now = dt.datetime(2026, 11, 30, 3, 0)
    for days in (90, 40, 31, 5, 0):
        (tmp_path / f"changxin-{(now - dt.timedelta(days=days)):%Y%m%d-%H%M%S}").mkdir()
    removed = backup.prune(tmp_path, keep_days=30, now=now)
    assert len(removed) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "changxin-20261125-030000",
        "changxin-20261130-030000",
    ]
    only_old = tmp_path / "only"
    (only_old / "changxin-20200101-000000").mkdir(parents=True)
    assert backup.prune(only_old, keep_days=30, now=now) == []


def test_restore_refuses_a_backup_of_the_other_engine(tmp_path):
    (tmp_path / "manifest.json").write_text('{"engine": "postgresql", "tables": {}}')
    with pytest.raises(backup.BackupError):
        backup.restore(tmp_path, database_url=f"sqlite:///{tmp_path / 'x.sqlite3'}")
