"""models.yaml, `studio models list`, and keeping a sentinel key out of everything we write."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from studio.generate.config import load_config, resolve_model
from studio.generate.errors import ConfigError, ModelError
from studio.generate.redact import Redactor

if TYPE_CHECKING:
    from tests.generate.loopback import LoopbackServer

CliRunner = Callable[..., subprocess.CompletedProcess[str]]
SENTINEL = "sk-sentinel-3f9a7c1e5b2d4068"
CONFIG = """\
# endpoints for tests
endpoints:
  local:
    api_base: {base}
    api_key_env: STUDIO_TEST_KEY
    models: [tiny-chat]
    max_concurrency: 3
    prices: {{input_per_million: 1.0, output_per_million: 2.0}}
prices:
  offline/default: {{input_per_million: 0.5, output_per_million: 0.5}}
"""


def write_config(home: Path, base: str) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    path = home / "models.yaml"
    path.write_text(CONFIG.format(base=base), encoding="utf-8")
    return path


def test_config_endpoints_route_and_price(isolated_studio_env: Path) -> None:
    write_config(isolated_studio_env, "http://127.0.0.1:9/v1")
    config = load_config()
    route = resolve_model("local/tiny-chat", config)
    assert route.api_base == "http://127.0.0.1:9/v1" and route.openai_compatible
    assert route.wire_model == "tiny-chat" and route.provider == "local"
    assert route.max_concurrency == 3 and route.api_key_env == "STUDIO_TEST_KEY"
    assert route.prices is not None and route.prices.cost(1_000_000, 500_000) == 2.0
    assert resolve_model("offline/default", config).prices.cost(2_000_000, 0) == 1.0  # type: ignore[union-attr]
    assert "api_key" not in repr(route).replace("api_key_env", "")


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("endpoints:\n  x:\n    api_base: ftp://nope\n", ":3: endpoints.x.api_base"),
        ("endpoints:\n  x:\n    api_base: http://h\n    api_key: sk-abcdef123\n", "api_key"),
        ("prices:\n  m: {input_per_million: cheap}\n", "prices.m"),
        ("colour: blue\n", ":1: colour"),
    ],
)
def test_bad_config_names_file_line_and_field(
    isolated_studio_env: Path, text: str, where: str
) -> None:
    isolated_studio_env.mkdir(parents=True, exist_ok=True)
    (isolated_studio_env / "models.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config()
    assert where in str(caught.value) and "models.yaml" in str(caught.value)
    assert "sk-abcdef123" not in str(caught.value)


def test_api_base_rejects_non_http() -> None:
    with pytest.raises(ModelError):
        resolve_model("m", load_config(Path("/nonexistent.yaml")), api_base="file:///etc")


def test_redactor_masks_known_values_and_key_shapes() -> None:
    redact = Redactor([SENTINEL])
    text = (
        f"Incorrect API key provided: {SENTINEL}; Authorization: Bearer abcdefghijkl;"
        " sk-other123456"
    )
    out = redact(text)
    assert SENTINEL not in out and "abcdefghijkl" not in out and "sk-other123456" not in out
    assert "Incorrect API key provided" in out


def test_models_list_shows_names_never_keys(
    run_cli: CliRunner, isolated_studio_env: Path, tmp_path: Path
) -> None:
    write_config(isolated_studio_env, "http://127.0.0.1:9/v1")
    env = {
        "STUDIO_HOME": str(isolated_studio_env),
        "OPENAI_API_KEY": SENTINEL,
        "STUDIO_TEST_KEY": SENTINEL,
    }
    listed = run_cli("models", "list", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    models = {r["model"]: r for r in rows}
    assert models["offline/default"]["kind"] == "offline"
    assert "offline" in models["offline/default"]["note"]
    assert models["openai/*"]["key_env"] == "OPENAI_API_KEY"
    assert models["local/tiny-chat"]["ready"] is True
    table = run_cli("models", "list", env=env)
    assert "local/tiny-chat" in table.stdout and "offline/default" in table.stdout
    for out in (listed.stdout, listed.stderr, table.stdout, table.stderr):
        assert SENTINEL not in out


def test_sentinel_key_reaches_no_db_log_or_output(
    tmp_path: Path, loopback: LoopbackServer, model_name: str
) -> None:
    """A server that echoes the key in its 401, retries on the way, litellm logging at DEBUG."""
    home = tmp_path / "home"
    write_config(home, loopback.base_url)
    loopback.script(model_name, "401")
    loopback.script("tiny-chat", "500", "ok")
    db = tmp_path / "s.db"
    env = {
        **os.environ,
        "STUDIO_HOME": str(home),
        "STUDIO_TEST_KEY": SENTINEL,
        "LITELLM_LOG": "DEBUG",
        "NO_COLOR": "1",
    }
    outputs: list[str] = []
    for model in (model_name, "local/tiny-chat"):
        for transport in ("litellm", "direct"):
            done = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "studio",
                    "--db",
                    str(db),
                    "generate",
                    "-p",
                    "college",
                    "-t",
                    "physics/mechanics",
                    "-s",
                    "story",
                    "--model",
                    model,
                    "--api-base",
                    loopback.base_url,
                    "--api-key-env",
                    "STUDIO_TEST_KEY",
                    "--transport",
                    transport,
                    "--max-attempts",
                    "2",
                    "--json",
                ],
                cwd=tmp_path,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            outputs += [done.stdout, done.stderr]
            loopback.script(model_name, "401")
            loopback.script("tiny-chat", "500", "ok")
    # The key did go to the server (so the test is real) ...
    auth = {s.headers.get("Authorization") for s in loopback.requests_for(model_name)}
    assert auth == {f"Bearer {SENTINEL}"}
    # ... and came back in the 401 body, but went nowhere of ours.
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name == "generate.log" for p in files)
    assert any(p.name.startswith("s.db") for p in files)
    for path in files:
        assert SENTINEL.encode() not in path.read_bytes(), path
    for out in outputs:
        assert SENTINEL not in out
    logged = (home / "logs" / "generate.log").read_text(encoding="utf-8")
    assert "401" in logged or "Authentication" in logged
