"""The studio's SQLite database, through sqlite-utils.

One file holds runs, prompts, generations, their scores and mixtures. It runs in WAL mode so
the TUI can read while a run writes, with ``synchronous=NORMAL``: every committed generation
survives Ctrl+C or a killed process (only a power cut may lose the last few commits).
Generations are committed one by one as they finish, together with their run's counters, so
the run list never has to count a million rows.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from studio.store.records import Generation, Run
from studio.store.schema import migrate

if TYPE_CHECKING:
    from studio.prompts import Prompt


def _import_sqlite_utils() -> Any:
    """Import sqlite-utils without letting it import pandas.

    sqlite-utils imports pandas at module level whenever it is installed (only to accept
    DataFrames, which we never pass), and pandas arrives with the dev and ray extras: that
    cost 0.3-0.8 s on every first store open, in the TUI's start-up path. A ``None`` entry
    in ``sys.modules`` makes that one import fail fast; the entry is removed again, so code
    that really wants pandas still gets it.
    """
    import sys

    blocked = "pandas" not in sys.modules
    if blocked:
        sys.modules["pandas"] = None  # type: ignore[assignment]
    try:
        import sqlite_utils
    finally:
        if blocked and sys.modules.get("pandas", 0) is None:
            del sys.modules["pandas"]
    return sqlite_utils


sqlite_utils = _import_sqlite_utils()


class RunNotFoundError(LookupError):
    """No run matches the id (or id prefix) given."""


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_run_id() -> str:
    """Sortable and easy to type: ``20261125-071900-a3f2``; prefixes are accepted."""
    return f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


_RUN_COLUMNS = (
    "id, name, status, created_at, updated_at, spec, seed, n_jobs, n_ok, n_error, "
    "n_cancelled, prompt_tokens, completion_tokens, cost_usd, notes"
)
_GENERATION_COLUMNS = (
    "id", "run_id", "prompt_hash", "persona_id", "topic_path", "style_id", "model",
    "sample_index", "params", "status", "text", "finish_reason", "error_class",
    "error_message", "prompt_tokens", "completion_tokens", "tokens_estimated", "cost_usd",
    "latency_ms", "ttft_ms", "attempts", "created_at",
)  # fmt: skip


class Store:
    """A studio database file. Build one per process (or thread) from its path."""

    def __init__(self, path: Path | str, *, check_same_thread: bool = True) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(
            str(path), isolation_level=None, check_same_thread=check_same_thread, timeout=30
        )
        conn.execute("PRAGMA busy_timeout = 30000")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA synchronous = NORMAL")
        self.db = sqlite_utils.Database(conn)
        if str(path) != ":memory:":
            self.db.enable_wal()
        self.conn = conn
        migrate(conn)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; rolled back on any exception, including KeyboardInterrupt."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    @property
    def schema_version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    # -- runs ---------------------------------------------------------------------------------

    def create_run(
        self,
        spec: dict[str, Any],
        *,
        name: str = "",
        seed: int | None = None,
        n_jobs: int = 0,
        run_id: str | None = None,
    ) -> Run:
        run_id = run_id or new_run_id()
        stamp = now_iso()
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO runs (id, name, status, created_at, updated_at, spec, seed, n_jobs)"
                " VALUES (?, ?, 'planned', ?, ?, ?, ?, ?)",
                (run_id, name, stamp, stamp, json.dumps(spec, ensure_ascii=False), seed, n_jobs),
            )
        return self.get_run(run_id)

    def set_run_status(self, run_id: str, status: str, *, n_jobs: int | None = None) -> None:
        with self.transaction() as conn:
            if n_jobs is None:
                conn.execute(
                    "UPDATE runs SET status = ?, updated_at = ? WHERE id = ?",
                    (status, now_iso(), run_id),
                )
            else:
                conn.execute(
                    "UPDATE runs SET status = ?, n_jobs = ?, updated_at = ? WHERE id = ?",
                    (status, n_jobs, now_iso(), run_id),
                )

    def get_run(self, run_id: str) -> Run:
        """The run with this id, or the only run whose id starts with it."""
        row = self.conn.execute(
            f"SELECT {_RUN_COLUMNS} FROM runs WHERE id = ?", (run_id,)
        ).fetchone()
        if row is None:
            rows = self.conn.execute(
                f"SELECT {_RUN_COLUMNS} FROM runs WHERE id >= ? AND id < ? ORDER BY id LIMIT 2",
                (run_id, run_id + "\uffff"),
            ).fetchall()
            if len(rows) > 1:
                raise RunNotFoundError(f"run id prefix {run_id!r} is ambiguous")
            if not rows:
                raise RunNotFoundError(f"no run {run_id!r} in {self.path}")
            row = rows[0]
        return _run(row)

    def list_runs(
        self, *, limit: int = 200, offset: int = 0, search: str | None = None
    ) -> list[Run]:
        """Newest first. ``search`` matches a run's id or name."""
        sql = f"SELECT {_RUN_COLUMNS} FROM runs"
        params: list[Any] = []
        if search:
            sql += " WHERE id LIKE ? OR name LIKE ?"
            params += [f"%{search}%", f"%{search}%"]
        sql += " ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?"
        params += [limit, offset]
        return [_run(row) for row in self.conn.execute(sql, params)]

    def delete_run(self, run_id: str) -> Run:
        """Delete a run with its generations and scores (prompts stay: other runs share them)."""
        run = self.get_run(run_id)
        with self.transaction() as conn:
            conn.execute("DELETE FROM runs WHERE id = ?", (run.id,))
        return run

    def count_runs(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM runs").fetchone()[0])

    # -- prompts and generations ---------------------------------------------------------------

    def save_prompt(self, prompt: Prompt) -> str:
        """Store a rendered prompt once, keyed by its content hash."""
        self.conn.execute(
            "INSERT OR IGNORE INTO prompts"
            " (hash, messages, persona_id, topic_path, style_id, language, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                prompt.hash,
                json.dumps(prompt.message_dicts(), ensure_ascii=False),
                prompt.persona_id,
                prompt.topic_path,
                prompt.style_id,
                prompt.language,
                now_iso(),
            ),
        )
        return prompt.hash

    def prompt_messages(self, prompt_hash: str) -> list[dict[str, str]]:
        row = self.conn.execute(
            "SELECT messages FROM prompts WHERE hash = ?", (prompt_hash,)
        ).fetchone()
        if row is None:
            raise KeyError(prompt_hash)
        messages: list[dict[str, str]] = json.loads(row[0])
        return messages

    def record_generation(self, generation: Generation) -> None:
        """Commit one finished (or failed, or cancelled) generation and update its run.

        A job recorded again (a retry after an error, a resume) replaces its earlier row and
        its run's counters move with it, so counts never double.
        """
        with self.transaction() as conn:
            self._write_generation(conn, generation)

    def record_generations(self, generations: Iterable[Generation]) -> None:
        """``record_generation`` for several at once, in one transaction (one commit)."""
        with self.transaction() as conn:
            for generation in generations:
                self._write_generation(conn, generation)

    def _write_generation(self, conn: sqlite3.Connection, generation: Generation) -> None:
        values = generation.as_dict()
        values["params"] = json.dumps(generation.params, sort_keys=True)
        values["tokens_estimated"] = int(generation.tokens_estimated)
        values["created_at"] = generation.created_at or now_iso()
        row = [values[c] for c in _GENERATION_COLUMNS]
        old = conn.execute(
            "SELECT status, prompt_tokens, completion_tokens, cost_usd FROM generations"
            " WHERE run_id = ? AND id = ?",
            (generation.run_id, generation.id),
        ).fetchone()
        if old is not None:
            self._count(conn, generation.run_id, old, -1)
            conn.execute(
                "DELETE FROM generations WHERE run_id = ? AND id = ?",
                (generation.run_id, generation.id),
            )
        conn.execute(
            f"INSERT INTO generations ({', '.join(_GENERATION_COLUMNS)})"
            f" VALUES ({', '.join('?' * len(_GENERATION_COLUMNS))})",
            row,
        )
        new = (
            generation.status,
            generation.prompt_tokens,
            generation.completion_tokens,
            generation.cost_usd,
        )
        self._count(conn, generation.run_id, new, +1)

    @staticmethod
    def _count(conn: sqlite3.Connection, run_id: str, row: Iterable[Any], sign: int) -> None:
        status, prompt_tokens, completion_tokens, cost = row
        column = {"ok": "n_ok", "error": "n_error", "cancelled": "n_cancelled"}[status]
        conn.execute(
            f"UPDATE runs SET {column} = {column} + ?,"
            " prompt_tokens = prompt_tokens + ?, completion_tokens = completion_tokens + ?,"
            " cost_usd = CASE WHEN ? IS NULL THEN cost_usd ELSE coalesce(cost_usd, 0) + ? END,"
            " updated_at = ? WHERE id = ?",
            (
                sign,
                sign * (prompt_tokens or 0),
                sign * (completion_tokens or 0),
                cost,
                sign * (cost or 0.0),
                now_iso(),
                run_id,
            ),
        )

    def generations(
        self,
        run_id: str,
        *,
        status: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[Generation]:
        """A run's generations in the order they were recorded."""
        sql = f"SELECT {', '.join(_GENERATION_COLUMNS)} FROM generations WHERE run_id = ?"
        params: list[Any] = [run_id]
        if status is not None:
            sql += " AND status = ?"
            params.append(status)
        sql += " ORDER BY seq LIMIT ? OFFSET ?"
        params += [-1 if limit is None else limit, offset]
        return [_generation(row) for row in self.conn.execute(sql, params)]

    def done_job_ids(self, run_id: str) -> set[str]:
        """Job ids of the run that already succeeded: what a resume skips."""
        rows = self.conn.execute(
            "SELECT id FROM generations WHERE run_id = ? AND status = 'ok'", (run_id,)
        )
        return {row[0] for row in rows}

    def search(self, query: str, *, run_id: str | None = None, limit: int = 50) -> list[Generation]:
        """Generations whose text contains ``query`` (any script), best matches first.

        The trigram index needs three characters; shorter queries fall back to a scan.
        """
        cols = ", ".join(f"g.{c}" for c in _GENERATION_COLUMNS)
        params: list[Any]
        if len(query) >= 3:
            phrase = '"' + query.replace('"', '""') + '"'
            sql = (
                f"SELECT {cols} FROM generations_fts f JOIN generations g ON g.seq = f.rowid"
                " WHERE generations_fts MATCH ?"
            )
            params = [phrase]
        else:
            sql = f"SELECT {cols} FROM generations g WHERE instr(g.text, ?) > 0"
            params = [query]
        if run_id is not None:
            sql += " AND g.run_id = ?"
            params.append(run_id)
        sql += " ORDER BY rank LIMIT ?" if len(query) >= 3 else " ORDER BY g.seq LIMIT ?"
        params.append(limit)
        return [_generation(row) for row in self.conn.execute(sql, params)]

    # -- scores and mixtures -------------------------------------------------------------------

    def save_text_metrics(
        self,
        rows: Iterable[tuple[str, str, dict[str, Any], dict[str, Any]]],
        version: str,
    ) -> int:
        """Store per-text scores: ``(run_id, generation id, metrics, filters)`` tuples."""
        stamp = now_iso()
        count = 0
        with self.transaction() as conn:
            for run_id, gen_id, metrics, filters in rows:
                seq = conn.execute(
                    "SELECT seq FROM generations WHERE run_id = ? AND id = ?", (run_id, gen_id)
                ).fetchone()
                if seq is None:
                    raise KeyError(f"no generation {gen_id} in run {run_id}")
                conn.execute(
                    "INSERT OR REPLACE INTO text_metrics"
                    " (generation_seq, metrics, filters, version, created_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (seq[0], json.dumps(metrics), json.dumps(filters), version, stamp),
                )
                count += 1
        return count

    def text_metrics(self, run_id: str) -> dict[str, dict[str, Any]]:
        """Per-text scores of a run, by generation id."""
        rows = self.conn.execute(
            "SELECT g.id, m.metrics, m.filters FROM text_metrics m"
            " JOIN generations g ON g.seq = m.generation_seq WHERE g.run_id = ?",
            (run_id,),
        )
        return {
            gen_id: {"metrics": json.loads(metrics), "filters": json.loads(filters)}
            for gen_id, metrics, filters in rows
        }

    def save_run_metrics(
        self,
        run_id: str,
        groups: Iterable[tuple[str, str, int, dict[str, Any]]],
        version: str,
    ) -> None:
        """Store set metrics as ``(group_by, group_key, n_texts, metrics)`` rows.

        The whole run is the group ``('all', 'all')``.
        """
        stamp = now_iso()
        with self.transaction() as conn:
            for group_by, group_key, n_texts, metrics in groups:
                conn.execute(
                    "INSERT OR REPLACE INTO run_metrics"
                    " (run_id, group_by, group_key, n_texts, metrics, version, created_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (run_id, group_by, group_key, n_texts, json.dumps(metrics), version, stamp),
                )

    def run_metrics(self, run_id: str) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            "SELECT group_by, group_key, n_texts, metrics, version FROM run_metrics"
            " WHERE run_id = ? ORDER BY group_by, group_key",
            (run_id,),
        )
        return [
            {"group_by": g, "group_key": k, "n_texts": n, "metrics": json.loads(m), "version": v}
            for g, k, n, m, v in rows
        ]

    def save_mixture(
        self, name: str, recipe: dict[str, Any], manifest: dict[str, Any] | None, out_dir: str
    ) -> str:
        mixture_id = new_run_id()
        self.db.table("mixtures").insert(
            {
                "id": mixture_id,
                "name": name,
                "created_at": now_iso(),
                "recipe": json.dumps(recipe, ensure_ascii=False),
                "manifest": None if manifest is None else json.dumps(manifest, ensure_ascii=False),
                "out_dir": out_dir,
            }
        )
        return mixture_id


def _run(row: tuple[Any, ...]) -> Run:
    (id_, name, status, created, updated, spec, seed, n_jobs, n_ok, n_error, n_cancelled,
     prompt_tokens, completion_tokens, cost, notes) = row  # fmt: skip
    return Run(
        id=id_,
        name=name,
        status=status,
        created_at=created,
        updated_at=updated,
        spec=json.loads(spec),
        seed=seed,
        n_jobs=n_jobs,
        n_ok=n_ok,
        n_error=n_error,
        n_cancelled=n_cancelled,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        cost_usd=cost,
        notes=notes,
    )


def _generation(row: tuple[Any, ...]) -> Generation:
    values = dict(zip(_GENERATION_COLUMNS, row, strict=True))
    values["params"] = json.loads(values["params"])
    values["tokens_estimated"] = bool(values["tokens_estimated"])
    return Generation(**values)
