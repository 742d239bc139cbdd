"""Plant rows in every table a database has, then find out which of them survived.

Generic on purpose: the tables, columns, types, keys and foreign keys are read from the
database itself (never from the models), so a new migration or a new table is covered
without anyone editing this file. A column type it cannot fill fails loudly, naming the
column, rather than being skipped.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from alembic.script import ScriptDirectory

import server
from server import crypto
from server.extensions import db

MIGRATIONS = Path(server.__file__).parent / "migrations"
ROWS_PER_TABLE = 2  # more than one, so unique constraints are exercised too
SKIPPED_TABLES = {"alembic_version"}
EPOCH = datetime(2026, 1, 1, 9, 30)


def revisions() -> list[str]:
    """Every revision in the history, oldest first."""
    script = ScriptDirectory(str(MIGRATIONS))
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


@dataclass
class Planted:
    """What was planted: per table, the rows as inserted, and which columns are keys."""

    rows: dict[str, list[dict]] = field(default_factory=dict)
    primary_key: dict[str, list[str]] = field(default_factory=dict)
    references: dict[str, list[str]] = field(default_factory=dict)  # FK columns

    def tables(self) -> set[str]:
        return set(self.rows)


def reflect(conn) -> sa.MetaData:
    metadata = sa.MetaData()
    names = [n for n in sa.inspect(conn).get_table_names() if n not in SKIPPED_TABLES]
    metadata.reflect(bind=conn, only=names)
    return metadata


def _model_enum(table: str, column: str) -> list[str] | None:
    """The head models' enum values for a column, if it is an enum there.

    Non-native enums are plain VARCHARs in the database; using a real value keeps the
    planted row valid should a later migration ever add a CHECK or a native enum.
    """
    model = db.metadata.tables.get(table)
    if model is None or column not in model.c:
        return None
    kind = model.c[column].type
    return list(kind.enums) if isinstance(kind, sa.Enum) else None


def _value(table: sa.Table, column: sa.Column, i: int):
    """A value for row i (distinct per row, so unique constraints hold)."""
    enums = _model_enum(table.name, column.name)
    if enums:
        return enums[i % len(enums)]
    kind = column.type
    if isinstance(kind, sa.Uuid):
        return uuid.uuid4() if kind.as_uuid else str(uuid.uuid4())
    if isinstance(kind, sa.Boolean):
        return i % 2 == 0
    if isinstance(kind, sa.Integer):
        return i + 1
    if isinstance(kind, sa.Float | sa.Numeric):
        return i + 0.5
    if isinstance(kind, sa.DateTime):
        moment = EPOCH + timedelta(minutes=i)
        return moment.replace(tzinfo=UTC) if kind.timezone else moment
    if isinstance(kind, sa.Date):
        return date(2026, 1, 1) + timedelta(days=i)
    if isinstance(kind, sa.JSON):
        # Any JSON will do; a later migration may retype it to TEXT and encrypt it.
        return {"planted": f"{table.name}.{column.name}", "row": i}
    if isinstance(kind, sa.LargeBinary):
        return f"planted {table.name}.{column.name} {i}".encode()  # a passkey's public key
    if isinstance(kind, sa.String):
        # Plain text (a later migration may encrypt it: it must not look like ciphertext).
        # A SQLite UUID is CHAR(32): a uuid's hex fills it and is unique.
        text = uuid.uuid4().hex
        return text[: kind.length] if kind.length else f"planted text {text}"
    raise TypeError(
        f"no planted value for {table.name}.{column.name} of type {kind!r}: "
        "teach tests/migrations/planting.py:_value this type"
    )


def plant(conn, rows_per_table: int = ROWS_PER_TABLE) -> Planted:
    """Insert rows_per_table rows into every table, parents first.

    Every column is filled, nullable ones too (a nullable foreign key must keep pointing
    at its parent, not be set to NULL by a cascade). Row i of a child refers to row i of
    each parent, so a foreign key that is also unique (one plan per patient) holds.
    """
    metadata = reflect(conn)
    planted = Planted()
    for table in metadata.sorted_tables:  # parents before children
        fk_columns = {
            fk.parent.name: (fk.column.table.name, fk.column.name) for fk in table.foreign_keys
        }
        rows = []
        for i in range(rows_per_table):
            row = {c.name: _value(table, c, i) for c in table.columns if c.name not in fk_columns}
            for name, (parent, parent_column) in fk_columns.items():
                source = row if parent == table.name else planted.rows[parent][i]
                row[name] = source[parent_column]
            rows.append(row)
        conn.execute(table.insert(), rows)
        planted.rows[table.name] = rows
        planted.primary_key[table.name] = [c.name for c in table.primary_key.columns]
        planted.references[table.name] = sorted(fk_columns)
    return planted


def _same(a, b) -> bool:
    # One backend may hand a uuid back as text, the other as uuid.UUID.
    return a == b or str(a).replace("-", "") == str(b).replace("-", "")


def _as_planted(table: str, column: str, value):
    """A stored value as planted: a later migration may have encrypted a key column
    (journal tags did), and the row is still there if its plaintext is."""
    if isinstance(value, str) and value.startswith(crypto.PREFIX + ":"):
        return crypto.ring().decrypt(value, f"{table}.{column}")
    return value


def losses(conn, planted: Planted, tables: set[str] | None = None) -> dict[str, str]:
    """Per table, what is missing of what was planted (empty when nothing was lost).

    Checks the row count, that every planted primary key is there, and that every
    planted foreign-key value still is what was planted (an ON DELETE SET NULL cascade
    keeps the row but loses the link).
    """
    metadata = reflect(conn)
    found: dict[str, str] = {}
    for name in sorted(tables if tables is not None else planted.tables()):
        expected = planted.rows[name]
        table = metadata.tables.get(name)
        if table is None:
            found[name] = "table is gone"
            continue
        count = conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
        problems = []
        if count < len(expected):
            problems.append(f"{count} of {len(expected)} rows left")
        pk = planted.primary_key[name]
        kept = [c for c in planted.references[name] if c in table.c]
        present = {
            tuple(
                str(_as_planted(name, c, v)).replace("-", "")
                for c, v in zip(pk, row[: len(pk)], strict=True)
            ): row[len(pk) :]
            for row in conn.execute(sa.select(*(table.c[c] for c in pk + kept)))
        }
        for row in expected:
            key = tuple(str(row[c]).replace("-", "") for c in pk)
            if key not in present:
                problems.append(f"row {key} missing")
                continue
            for column, value in zip(kept, present[key], strict=True):
                if not _same(value, row[column]):
                    problems.append(f"row {key}: {column} is {value!r}, planted {row[column]!r}")
        if problems:
            found[name] = "; ".join(problems)
    return found
