"""SQLite helpers of the cache (`cache`, `cache_admin`): many rows a statement, short write
transactions, a table's columns, and setting a damaged file aside with its journal files."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path


def table_columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in db.execute(f"PRAGMA table_info({table})")}


def insert_rows(db: sqlite3.Connection, into: str, rows: list[tuple]) -> None:
    """`INSERT OR REPLACE INTO {into} VALUES` each of `rows`, many rows a statement: sqlite3 lets
    other threads run at every step, one a row with `executemany`, and each step then waited its
    turn for the GIL while another thread computed (256 vectors saved beside a busy thread: 2.5 s
    by `executemany`, 50 ms so)."""
    per = max(1, 999 // len(rows[0])) if rows else 1  # SQLite's old limit of 999 parameters
    for lo in range(0, len(rows), per):
        chunk = rows[lo:lo + per]
        marks = "(" + ", ".join("?" * len(chunk[0])) + ")"
        db.execute(f"INSERT OR REPLACE INTO {into} VALUES {', '.join([marks] * len(chunk))}",
                   [x for row in chunk for x in row])


class transaction:
    """`BEGIN IMMEDIATE` ... `COMMIT` (rolled back on any error): takes the write lock up front,
    waiting at most the connection's busy timeout."""

    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self):
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind, exc, tb):
        if kind is None:
            self.db.execute("COMMIT")
            return
        try:
            self.db.execute("ROLLBACK")
        except sqlite3.Error:  # SQLite rolled back already (or the file is gone)
            pass


def _side_files(path: Path) -> list[Path]:
    return [Path(f"{path}{s}") for s in ("-wal", "-shm", "-journal")]


def set_aside(path: Path) -> Path:
    """Rename `path` (and its journal files) to `<name>.corrupt-<UTC time>`; the new name."""
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    aside, n = path.with_name(f"{path.name}.corrupt-{stamp}"), 1
    while aside.exists():
        aside, n = path.with_name(f"{path.name}.corrupt-{stamp}-{n}"), n + 1
    path.rename(aside)
    for side, new in zip(_side_files(path), _side_files(aside), strict=True):
        if side.exists():
            side.rename(new)
    return aside
