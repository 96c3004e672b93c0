"""Rebuild ``sample_runs/``: what the shipped suites produce on the offline model.

    uv run python evals/build_sample_runs.py            # rebuilds sample_runs/
    uv run python evals/build_sample_runs.py --out DIR  # somewhere else (the staleness test)

It writes, from nothing but the shipped library and this repository:

- ``studio.db``: one stored, scored run per suite in ``evals/*.yaml`` on ``offline/default``;
- ``web.jsonl``: "web text" for the mixture (Python's own documentation topics, real prose
  that ships with every Python);
- ``mixture/``: the export of ``sample_runs/recipe.yaml`` (shards + manifest.json);
- ``summary.json``: what a rebuild must reproduce (texts, gate values, mixture contents),
  leaving out what legitimately changes between rebuilds (run ids, timestamps).

The offline model is deterministic for a seed, so a rebuild gives the same ``summary.json``;
the test suite rebuilds into a temporary folder and fails when the committed one is stale.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SUITES = sorted((REPO / "evals").glob("*.yaml"))
RECIPE = REPO / "sample_runs" / "recipe.yaml"
WEB_DOCS = 400


def write_web_jsonl(path: Path) -> None:
    """Web-like prose from ``pydoc_data.topics``: one document per topic, in a stable order."""
    from pydoc_data.topics import topics

    with path.open("w", encoding="utf-8") as out:
        for name in sorted(topics)[:WEB_DOCS]:
            text = topics[name].strip()
            if len(text) > 200:
                out.write(json.dumps({"url": f"python-docs://{name}", "body": text}) + "\n")


def _sha(items: list[str]) -> str:
    digest = hashlib.sha256()
    for item in items:
        digest.update(item.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()


def build(out: Path) -> dict[str, Any]:
    os.environ.setdefault("STUDIO_OFFLINE_PACE_MS", "0")  # same texts, no waiting
    from studio.library import load_library
    from studio.mix import export_mixture, load_recipe
    from studio.store import Store
    from studio.suites import load_suite, run_suite

    out.mkdir(parents=True, exist_ok=True)
    db_path = out / "studio.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    library = load_library(REPO / "personas")
    if library.errors:
        raise SystemExit("\n".join(str(e) for e in library.errors))
    summary: dict[str, Any] = {"suites": [], "mixture": {}}
    with Store(db_path) as store:
        for path in SUITES:
            suite = load_suite(path)
            [result] = run_suite(suite, store, library)
            gens = store.generations(result.run_id, status="ok")
            summary["suites"].append(
                {
                    "suite": suite.name,
                    "file": path.name,
                    "n_texts": result.n_texts,
                    "counts": result.counts,
                    "passed": result.passed,
                    "gates": [
                        {
                            "gate": r.name,
                            "value": None if r.value is None else round(r.value, 4),
                            "passed": r.passed,
                        }
                        for r in result.results
                    ],
                    "texts_sha256": _sha(sorted(f"{g.id}\t{g.text}" for g in gens)),
                }
            )
            print(
                f"{suite.name}: {result.n_texts} texts, {'passed' if result.passed else 'FAILED'}",
                file=sys.stderr,
            )
        web = out / "web.jsonl"
        write_web_jsonl(web)
        recipe_path = out / "recipe.yaml"
        if recipe_path.resolve() != RECIPE.resolve():
            shutil.copyfile(RECIPE, recipe_path)
        manifest = export_mixture(load_recipe(recipe_path), out / "mixture", store).manifest
        store.conn.execute("VACUUM")
    texts = []
    for shard in manifest["shards"]:
        lines = (out / "mixture" / shard["file"]).read_text("utf-8").splitlines()
        texts += [json.loads(line)["text"] for line in lines]
    summary["mixture"] = {
        "totals": manifest["totals"],
        "sources": {
            s["name"]: {
                "delivered_docs": s["delivered_docs"],
                "delivered_tokens": s["delivered_tokens"],
            }
            for s in manifest["sources"]
        },
        "removed": {s["stage"]: s["removed"] for s in manifest["stages"]},
        "texts_sha256": _sha(sorted(texts)),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    return summary


def main() -> int:
    parser = argparse.ArgumentParser(description="Rebuild sample_runs/ from the shipped suites.")
    parser.add_argument("--out", type=Path, default=REPO / "sample_runs")
    args = parser.parse_args()
    summary = build(args.out)
    mixture = summary["mixture"]["totals"]
    print(
        f"mixture: {mixture['docs']} documents, {mixture['tokens']} tokens, "
        f"{mixture['shards']} shard(s) in {args.out / 'mixture'}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
