"""Scale-out (DESIGN 7): the same generation and scoring, mapped over deterministic shards.

A job (or a generation) belongs to shard ``int(id[:16], 16) % n``. An executor runs each shard
with the pure batch functions (``generate_batch``, ``TextScorer.score_batch``); workers write a
Parquet file per run, stage and shard and skip ids it already holds; the driver alone writes
SQLite. ``LocalExecutor`` runs shards in this process; ``RayExecutor`` (optional extra ``ray``)
runs them on a Ray cluster and is imported only when asked for.

Importing this package is cheap: pyarrow, ray and the engine load on first use.
"""

from studio.execute.driver import (
    DEFAULT_SHARDS,
    ShardedRun,
    ShardsFailedError,
    default_shard_root,
    generate_sharded,
    score_run_sharded,
)
from studio.execute.executor import (
    EXECUTORS,
    RAY_MISSING,
    Executor,
    LocalExecutor,
    RayUnavailableError,
    make_executor,
    ray_available,
)
from studio.execute.shards import shard_of, shard_path, split_by_shard
from studio.execute.work import GenerateShard, ScoreShard, ShardOutcome

__all__ = [
    "DEFAULT_SHARDS",
    "EXECUTORS",
    "RAY_MISSING",
    "Executor",
    "GenerateShard",
    "LocalExecutor",
    "RayUnavailableError",
    "ScoreShard",
    "ShardOutcome",
    "ShardedRun",
    "ShardsFailedError",
    "default_shard_root",
    "generate_sharded",
    "make_executor",
    "ray_available",
    "score_run_sharded",
    "shard_of",
    "shard_path",
    "split_by_shard",
]
