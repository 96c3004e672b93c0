"""The SQLite store: runs, prompts, generations, scores and mixtures."""

from studio.paths import resolve_db_path, studio_home
from studio.store.db import RunNotFoundError, Store, new_run_id, now_iso
from studio.store.records import Generation, Run
from studio.store.schema import SCHEMA_VERSION, SchemaTooNewError

__all__ = [
    "SCHEMA_VERSION",
    "Generation",
    "Run",
    "RunNotFoundError",
    "SchemaTooNewError",
    "Store",
    "new_run_id",
    "now_iso",
    "resolve_db_path",
    "studio_home",
]
