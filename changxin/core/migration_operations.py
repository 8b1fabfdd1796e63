"""Migration operations for big tables: indexes built without blocking writes on PostgreSQL.

`AddIndexConcurrently` is Django's `AddIndex` on SQLite (the development and test engine) and
`CREATE INDEX CONCURRENTLY` on PostgreSQL, where a plain `CREATE INDEX` would hold a lock that
blocks every INSERT/UPDATE of the table (intake would stop) for as long as the build takes —
minutes on tens of millions of demands or events. A migration using it must say `atomic = False`:
PostgreSQL refuses CONCURRENTLY inside a transaction.

A concurrent build that fails (a deadlock, a cancelled deploy) leaves an INVALID index behind; the
operation drops such a leftover first, so running the migration again finishes the job.
`RemoveIndexConcurrently` is the reverse (DROP INDEX CONCURRENTLY).

The model state is exactly AddIndex's/RemoveIndex's, so `makemigrations --check` stays clean.
(django.contrib.postgres has operations of the same names, but they refuse to run on SQLite.)
"""

from __future__ import annotations

from django.db import NotSupportedError
from django.db.migrations.operations import AddIndex, RemoveIndex


def _concurrent(schema_editor) -> bool:
    if schema_editor.connection.vendor != "postgresql":
        return False
    if schema_editor.connection.in_atomic_block:
        raise NotSupportedError(
            "CREATE/DROP INDEX CONCURRENTLY cannot run in a transaction: set atomic = False on the migration."
        )
    return True


def _drop_invalid_leftover(schema_editor, name: str) -> None:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE c.relname = %s AND NOT i.indisvalid AND pg_table_is_visible(c.oid)",
            [name],
        )
        invalid = cursor.fetchone() is not None
    if invalid:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {schema_editor.quote_name(name)}")


class AddIndexConcurrently(AddIndex):
    """AddIndex, built with CREATE INDEX CONCURRENTLY on PostgreSQL (migration must be atomic = False)."""

    def describe(self) -> str:
        return f"Create index {self.index.name} (concurrently on PostgreSQL) on model {self.model_name}"

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if not _concurrent(schema_editor):
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            _drop_invalid_leftover(schema_editor, self.index.name)
            schema_editor.add_index(model, self.index, concurrently=True)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if not _concurrent(schema_editor):
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.remove_index(model, self.index, concurrently=True)


class RemoveIndexConcurrently(RemoveIndex):
    """RemoveIndex, with DROP INDEX CONCURRENTLY on PostgreSQL (migration must be atomic = False)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if not _concurrent(schema_editor):
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            index = from_state.models[app_label, self.model_name_lower].get_index_by_name(self.name)
            schema_editor.remove_index(model, index, concurrently=True)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if not _concurrent(schema_editor):
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            index = to_state.models[app_label, self.model_name_lower].get_index_by_name(self.name)
            _drop_invalid_leftover(schema_editor, index.name)
            schema_editor.add_index(model, index, concurrently=True)
