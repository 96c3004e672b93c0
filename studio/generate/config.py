"""Which models exist and how to reach them: the user's ``models.yaml`` and model routing.

The config file (``$STUDIO_MODELS``, else ``$STUDIO_HOME/models.yaml``) names custom
OpenAI-compatible endpoints (vLLM, Ollama, a company gateway) and prices::

    endpoints:
      local-vllm:                       # models are then written local-vllm/<model>
        api_base: http://localhost:8000/v1
        api_key_env: VLLM_API_KEY       # the NAME of the variable holding the key, never the key
        models: [meta-llama/Llama-3.1-8B-Instruct]
        max_concurrency: 32             # optional: starting (and highest) concurrency
        rpm: 600                        # optional: requests per minute
        tpm: 200000                     # optional: tokens per minute
        prices: {input_per_million: 0.1, output_per_million: 0.2}   # optional, USD
    prices:                             # optional: prices for any model, beating litellm's map
      openai/gpt-4o-mini: {input_per_million: 0.15, output_per_million: 0.6}

A key is never written in this file: only the name of the environment variable that holds it.
"""

from __future__ import annotations

import importlib.util
import json
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from studio.generate.errors import ConfigError, ModelError

CONFIG_ENV = "STUDIO_MODELS"
CONFIG_FILENAME = "models.yaml"
OFFLINE_MODELS = ("offline/default", "offline/fast", "offline/slow", "offline/instant")

# Providers whose key is a single environment variable, for `studio models list`.
PROVIDER_KEYS: dict[str, tuple[str, ...]] = {
    "openai": ("OPENAI_API_KEY",),
    "anthropic": ("ANTHROPIC_API_KEY",),
    "gemini": ("GEMINI_API_KEY", "GOOGLE_API_KEY"),
    "mistral": ("MISTRAL_API_KEY",),
    "groq": ("GROQ_API_KEY",),
    "deepseek": ("DEEPSEEK_API_KEY",),
    "together_ai": ("TOGETHERAI_API_KEY", "TOGETHER_API_KEY"),
    "openrouter": ("OPENROUTER_API_KEY",),
    "fireworks_ai": ("FIREWORKS_AI_API_KEY", "FIREWORKS_API_KEY"),
    "cohere_chat": ("COHERE_API_KEY",),
    "xai": ("XAI_API_KEY",),
    "dashscope": ("DASHSCOPE_API_KEY",),
    "moonshot": ("MOONSHOT_API_KEY",),
    "perplexity": ("PERPLEXITYAI_API_KEY", "PERPLEXITY_API_KEY"),
    "cerebras": ("CEREBRAS_API_KEY",),
}


@dataclass(frozen=True)
class Prices:
    """USD per million tokens."""

    input_per_million: float
    output_per_million: float

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (
            prompt_tokens * self.input_per_million + completion_tokens * self.output_per_million
        ) / 1_000_000


@dataclass(frozen=True)
class Endpoint:
    """A custom OpenAI-compatible server from the config file."""

    name: str
    api_base: str
    api_key_env: str | None = None
    models: tuple[str, ...] = ()
    max_concurrency: int | None = None
    rpm: float | None = None
    tpm: float | None = None
    prices: Prices | None = None


@dataclass(frozen=True)
class ModelConfig:
    endpoints: dict[str, Endpoint] = field(default_factory=dict)
    prices: dict[str, Prices] = field(default_factory=dict)
    path: Path | None = None


@dataclass(frozen=True)
class ModelRoute:
    """How one model of a run is reached. Holds the key's variable name, never the key."""

    model: str  # as the user wrote it; what the store records
    provider: str  # concurrency and rate limits are kept per provider
    litellm_model: str
    api_base: str | None = None
    api_key_env: str | None = None
    prices: Prices | None = None
    offline: bool = False
    openai_compatible: bool = False  # a plain /chat/completions server: the direct path works
    max_concurrency: int | None = None
    rpm: float | None = None
    tpm: float | None = None

    def api_key(self) -> str | None:
        if self.api_key_env:
            return os.environ.get(self.api_key_env) or None
        return None

    @property
    def wire_model(self) -> str:
        """The model name an OpenAI-compatible server expects in the request body."""
        name = self.litellm_model
        return name.split("/", 1)[1] if name.startswith("openai/") else name


def config_path() -> Path:
    explicit = os.environ.get(CONFIG_ENV)
    if explicit:
        return Path(explicit).expanduser()
    from studio.paths import studio_home

    return studio_home() / CONFIG_FILENAME


def load_config(path: Path | None = None) -> ModelConfig:
    """Read the config file; a missing file is an empty config, a bad one a ConfigError."""
    path = path or config_path()
    if not path.is_file():
        return ModelConfig(path=path)
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        data = YAML(typ="rt").load(path.read_text(encoding="utf-8"))
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = (mark.line + 1) if mark else 0
        raise ConfigError(path, line, "-", str(exc).splitlines()[0]) from None
    except OSError as exc:
        raise ConfigError(path, 0, "-", str(exc)) from None
    if data is None:
        return ModelConfig(path=path)
    if not isinstance(data, dict):
        raise ConfigError(path, 1, "-", "expected a mapping with 'endpoints' and 'prices'")
    unknown = set(data) - {"endpoints", "prices"}
    if unknown:
        key = sorted(unknown)[0]
        raise ConfigError(path, _line(data, key), key, "unknown key; expected endpoints, prices")
    endpoints: dict[str, Endpoint] = {}
    for name, body in (data.get("endpoints") or {}).items():
        endpoints[str(name)] = _endpoint(path, str(name), body, _line(data["endpoints"], name))
    prices = {
        str(model): _prices(path, f"prices.{model}", body, _line(data["prices"], model))
        for model, body in (data.get("prices") or {}).items()
    }
    return ModelConfig(endpoints=endpoints, prices=prices, path=path)


def _line(mapping: Any, key: Any) -> int:
    try:
        return int(mapping.lc.key(key)[0]) + 1
    except (AttributeError, KeyError, TypeError):
        return 0


def _endpoint(path: Path, name: str, body: Any, line: int) -> Endpoint:
    where = f"endpoints.{name}"
    if not isinstance(body, dict):
        raise ConfigError(path, line, where, "expected a mapping with api_base")
    allowed = {"api_base", "api_key_env", "models", "max_concurrency", "rpm", "tpm", "prices"}
    for key in body:
        if key not in allowed:
            raise ConfigError(path, _line(body, key), f"{where}.{key}", "unknown key")
    if "api_key" in body:
        raise ConfigError(path, line, f"{where}.api_key", "write api_key_env (a variable name)")
    api_base = body.get("api_base")
    if not isinstance(api_base, str) or not api_base.startswith(("http://", "https://")):
        raise ConfigError(path, _line(body, "api_base") or line, f"{where}.api_base",
                          "expected an http(s) URL")  # fmt: skip
    if "/" in name or name == "offline":
        raise ConfigError(path, line, where, "an endpoint name may not contain '/' or be offline")
    models = body.get("models") or []
    if not isinstance(models, list) or not all(isinstance(m, str) for m in models):
        raise ConfigError(path, _line(body, "models") or line, f"{where}.models",
                          "expected a list of model names")  # fmt: skip
    numbers: dict[str, float | None] = {}
    for key in ("max_concurrency", "rpm", "tpm"):
        value = body.get(key)
        if value is not None and (not isinstance(value, int | float) or value <= 0):
            raise ConfigError(
                path, _line(body, key), f"{where}.{key}", "expected a positive number"
            )
        numbers[key] = value
    prices = body.get("prices")
    concurrency = numbers["max_concurrency"]
    return Endpoint(
        name=name,
        api_base=api_base.rstrip("/"),
        api_key_env=body.get("api_key_env") or None,
        models=tuple(models),
        max_concurrency=None if concurrency is None else int(concurrency),
        rpm=numbers["rpm"],
        tpm=numbers["tpm"],
        prices=None if prices is None else _prices(path, f"{where}.prices", prices, line),
    )


def _prices(path: Path, where: str, body: Any, line: int) -> Prices:
    if not isinstance(body, dict):
        raise ConfigError(path, line, where, "expected input_per_million and output_per_million")
    try:
        return Prices(float(body["input_per_million"]), float(body["output_per_million"]))
    except (KeyError, TypeError, ValueError):
        raise ConfigError(
            path, line, where, "expected numbers input_per_million and output_per_million"
        ) from None


# -- routing ---------------------------------------------------------------------------------


def resolve_model(
    model: str,
    config: ModelConfig,
    *,
    api_base: str | None = None,
    api_key_env: str | None = None,
    check: bool = True,
) -> ModelRoute:
    """Route ``model``, or raise ModelError with a one-line reason before any run starts.

    ``offline/<name>`` is in-process; ``<endpoint>/<model>`` goes to a configured endpoint;
    with ``api_base`` any name goes to that OpenAI-compatible server; everything else must be
    a model litellm knows, with its provider's key set.
    """
    model = model.strip()
    if not model:
        raise ModelError("empty model name")
    user_prices = config.prices.get(model)
    if model.startswith("offline/"):
        if not model.split("/", 1)[1]:
            raise ModelError("offline model needs a name, e.g. offline/default")
        return ModelRoute(model=model, provider="offline", litellm_model=model,
                          prices=user_prices or Prices(0.0, 0.0), offline=True)  # fmt: skip
    prefix, _, rest = model.partition("/")
    endpoint = config.endpoints.get(prefix)
    if endpoint is not None and rest:
        return ModelRoute(
            model=model,
            provider=endpoint.name,
            litellm_model=f"openai/{rest}",
            api_base=endpoint.api_base,
            api_key_env=endpoint.api_key_env,
            prices=user_prices or endpoint.prices,
            openai_compatible=True,
            max_concurrency=endpoint.max_concurrency,
            rpm=endpoint.rpm,
            tpm=endpoint.tpm,
        )
    if api_base:
        if not api_base.startswith(("http://", "https://")):
            raise ModelError(f"--api-base must be an http(s) URL, got {api_base!r}")
        wire = model if model.startswith("openai/") else f"openai/{model}"
        return ModelRoute(
            model=model,
            provider=f"openai-compatible@{api_base.rstrip('/')}",
            litellm_model=wire,
            api_base=api_base.rstrip("/"),
            api_key_env=api_key_env,
            prices=user_prices,
            openai_compatible=True,
        )
    if not check:
        return ModelRoute(model=model, provider=prefix if rest else "openai", litellm_model=model)
    return _litellm_route(model, user_prices, api_key_env)


def _litellm_route(model: str, prices: Prices | None, api_key_env: str | None) -> ModelRoute:
    from studio.generate.gateway import load_litellm

    litellm = load_litellm()
    try:
        name, provider, _, _ = litellm.get_llm_provider(model)
    except Exception:  # litellm raises BadRequestError with a long message; ours is one line
        raise ModelError(
            f"unknown provider for model {model!r}: write provider/model (e.g. openai/gpt-4o-mini),"
            " use offline/default, or give --api-base for an OpenAI-compatible server"
        ) from None
    cost_map: dict[str, Any] = litellm.model_cost
    if not any(key in cost_map for key in (model, f"{provider}/{name}", name)):
        raise ModelError(
            f"unknown model {model!r} for provider {provider!r} (not in litellm's model map):"
            " check the name, or give --api-base / a models.yaml endpoint for a custom server"
        )
    if api_key_env is None:
        env = litellm.validate_environment(model=model)
        missing = list(env.get("missing_keys") or [])
        names = PROVIDER_KEYS.get(provider, ())
        # litellm counts a variable set to "" as present; a blank key is no key.
        if names and not any(os.environ.get(n, "").strip() for n in names) and not missing:
            missing = [names[0]]
        if missing:
            raise ModelError(f"model {model!r} needs {', '.join(missing)} set in the environment")
    elif not os.environ.get(api_key_env):
        raise ModelError(f"model {model!r}: environment variable {api_key_env} is not set")
    return ModelRoute(model=model, provider=provider, litellm_model=model, prices=prices,
                      api_key_env=api_key_env)  # fmt: skip


# -- what `studio models list` shows --------------------------------------------------------


@lru_cache(maxsize=1)
def bundled_model_map() -> dict[str, Any]:
    """litellm's bundled price map, read as JSON without importing litellm (3 s)."""
    spec = importlib.util.find_spec("litellm")
    for root in (spec.submodule_search_locations or []) if spec else []:
        path = Path(root) / "model_prices_and_context_window_backup.json"
        if path.is_file():
            data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            return data
    return {}


def available_models(config: ModelConfig) -> list[dict[str, Any]]:
    """Rows for ``studio models list``: offline models, keyed providers, configured endpoints.

    Keys are reported as set or not, by variable name; a key's value is never read out.
    """
    rows: list[dict[str, Any]] = [
        {"model": m, "kind": "offline", "provider": "offline", "ready": True,
         "note": "offline: template text written in-process, not a language model"}
        for m in OFFLINE_MODELS
    ]  # fmt: skip
    cost_map = bundled_model_map()
    for provider, names in PROVIDER_KEYS.items():
        found = next((n for n in names if os.environ.get(n)), None)
        if found is None:
            continue
        examples = sorted(
            k for k, v in cost_map.items()
            if isinstance(v, dict) and v.get("litellm_provider") == provider
            and v.get("mode") == "chat"
        )  # fmt: skip
        rows.append(
            {
                "model": f"{provider}/*",
                "kind": "provider",
                "provider": provider,
                "ready": True,
                "key_env": found,
                "n_models": len(examples),
                "examples": examples[:5],
                "note": f"key found in {found}",
            }
        )
    for endpoint in config.endpoints.values():
        key_set = bool(endpoint.api_key_env and os.environ.get(endpoint.api_key_env))
        models = endpoint.models or ("*",)
        for m in models:
            rows.append(
                {
                    "model": f"{endpoint.name}/{m}",
                    "kind": "endpoint",
                    "provider": endpoint.name,
                    "api_base": endpoint.api_base,
                    "key_env": endpoint.api_key_env,
                    "ready": key_set or endpoint.api_key_env is None,
                    "note": (
                        "no key needed" if endpoint.api_key_env is None
                        else f"key {'found' if key_set else 'missing'} in {endpoint.api_key_env}"
                    ),
                }
            )  # fmt: skip
    return rows
