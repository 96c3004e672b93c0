"""The database schema as a list of forward migrations.

``PRAGMA user_version`` holds the number of migrations applied. Opening a database applies
the missing ones in order, each in its own transaction, so an old file upgrades in place and
a newer file than this code knows is refused rather than misread.
"""

from __future__ import annotations

import sqlite3

# Each migration is one SQL script; it runs inside a single transaction with the version bump.
Migration = str

_V1_INITIAL = """
        CREATE TABLE runs (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            spec TEXT NOT NULL,
            seed INTEGER,
            n_jobs INTEGER NOT NULL DEFAULT 0,
            n_ok INTEGER NOT NULL DEFAULT 0,
            n_error INTEGER NOT NULL DEFAULT 0,
            n_cancelled INTEGER NOT NULL DEFAULT 0,
            prompt_tokens INTEGER NOT NULL DEFAULT 0,
            completion_tokens INTEGER NOT NULL DEFAULT 0,
            -- NULL until some generation has a known price.
            cost_usd REAL,
            notes TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX runs_created_at ON runs (created_at DESC);

        CREATE TABLE prompts (
            hash TEXT PRIMARY KEY,
            messages TEXT NOT NULL,
            persona_id TEXT,
            topic_path TEXT,
            style_id TEXT,
            language TEXT,
            created_at TEXT NOT NULL
        );

        CREATE TABLE generations (
            seq INTEGER PRIMARY KEY,
            id TEXT NOT NULL,
            run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
            prompt_hash TEXT NOT NULL REFERENCES prompts (hash),
            persona_id TEXT,
            topic_path TEXT,
            style_id TEXT,
            model TEXT NOT NULL,
            sample_index INTEGER NOT NULL,
            params TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('ok', 'error', 'cancelled')),
            text TEXT,
            finish_reason TEXT,
            error_class TEXT,
            error_message TEXT,
            prompt_tokens INTEGER,
            completion_tokens INTEGER,
            tokens_estimated INTEGER NOT NULL DEFAULT 0,
            cost_usd REAL,
            latency_ms REAL,
            ttft_ms REAL,
            attempts INTEGER NOT NULL DEFAULT 1,
            created_at TEXT NOT NULL,
            UNIQUE (run_id, id)
        );
        CREATE INDEX generations_run_status ON generations (run_id, status);
        CREATE INDEX generations_run_persona ON generations (run_id, persona_id);
        CREATE INDEX generations_id ON generations (id);

        CREATE TABLE text_metrics (
            generation_seq INTEGER PRIMARY KEY
                REFERENCES generations (seq) ON DELETE CASCADE,
            metrics TEXT NOT NULL,
            filters TEXT NOT NULL,
            version TEXT NOT NULL,
            created_at TEXT NOT NULL
        );

        CREATE TABLE run_metrics (
            run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
            group_by TEXT NOT NULL,
            group_key TEXT NOT NULL,
            n_texts INTEGER NOT NULL,
            metrics TEXT NOT NULL,
            version TEXT NOT NULL,
            created_at TEXT NOT NULL,
            PRIMARY KEY (run_id, group_by, group_key)
        );

        CREATE TABLE mixtures (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            created_at TEXT NOT NULL,
            recipe TEXT NOT NULL,
            manifest TEXT,
            out_dir TEXT
        );

        -- Full-text search over generation text. The trigram tokenizer matches any substring
        -- of three or more characters in any script, which Chinese needs (unicode61 would
        -- treat a whole CJK run as one word). External content keeps one copy of the text;
        -- triggers keep the index in step.
        CREATE VIRTUAL TABLE generations_fts USING fts5 (
            text, content='generations', content_rowid='seq', tokenize='trigram'
        );
        CREATE TRIGGER generations_ai AFTER INSERT ON generations BEGIN
            INSERT INTO generations_fts (rowid, text) VALUES (new.seq, new.text);
        END;
        CREATE TRIGGER generations_ad AFTER DELETE ON generations BEGIN
            INSERT INTO generations_fts (generations_fts, rowid, text)
                VALUES ('delete', old.seq, old.text);
        END;
        CREATE TRIGGER generations_au AFTER UPDATE OF text ON generations BEGIN
            INSERT INTO generations_fts (generations_fts, rowid, text)
                VALUES ('delete', old.seq, old.text);
            INSERT INTO generations_fts (rowid, text) VALUES (new.seq, new.text);
        END;
"""

MIGRATIONS: list[Migration] = [_V1_INITIAL]
SCHEMA_VERSION = len(MIGRATIONS)


class SchemaTooNewError(RuntimeError):
    """The database was written by a newer studio than this one."""


def migrate(conn: sqlite3.Connection) -> int:
    """Apply every missing migration; return the number applied."""
    current = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if current > SCHEMA_VERSION:
        raise SchemaTooNewError(
            f"database schema version {current} is newer than this studio's "
            f"({SCHEMA_VERSION}); upgrade synth-studio to open it"
        )
    applied = 0
    for version in range(current, SCHEMA_VERSION):
        # executescript commits any open transaction first, so the script carries its own.
        script = (
            f"BEGIN IMMEDIATE;\n{MIGRATIONS[version]}\n"
            f"PRAGMA user_version = {version + 1};\nCOMMIT;"
        )
        try:
            conn.executescript(script)
            applied += 1
        except sqlite3.Error:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            # Another process may have applied this migration while we waited for the lock.
            if int(conn.execute("PRAGMA user_version").fetchone()[0]) > version:
                continue
            raise
    return applied
