"""Token counting with tiktoken, kept off the network.

tiktoken downloads its BPE files on first use. litellm ships cl100k_base, o200k_base and
p50k_base in ``litellm/litellm_core_utils/tokenizers/`` under tiktoken's cache-key file names,
so pointing ``TIKTOKEN_CACHE_DIR`` there makes tiktoken work offline. We find that folder
through the import system *without importing litellm* (which costs seconds), and only when the
user has not chosen a cache directory of their own.
"""

from __future__ import annotations

import importlib.util
import os
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import tiktoken

DEFAULT_ENCODING = "cl100k_base"


def bundled_tiktoken_dir() -> Path | None:
    """Return litellm's folder of bundled tiktoken files, or None when it is absent."""
    spec = importlib.util.find_spec("litellm")
    if spec is None or not spec.submodule_search_locations:
        return None
    for root in spec.submodule_search_locations:
        folder = Path(root) / "litellm_core_utils" / "tokenizers"
        if folder.is_dir():
            return folder
    return None


def ensure_offline_tiktoken() -> None:
    """Point tiktoken at litellm's bundled files unless the user set a cache dir."""
    if os.environ.get("TIKTOKEN_CACHE_DIR") or os.environ.get("DATA_GYM_CACHE_DIR"):
        return
    folder = bundled_tiktoken_dir()
    if folder is not None:
        os.environ["TIKTOKEN_CACHE_DIR"] = str(folder)


@lru_cache(maxsize=8)
def encoding(name: str = DEFAULT_ENCODING) -> tiktoken.Encoding:
    """Load a tiktoken encoding once per process."""
    ensure_offline_tiktoken()
    import tiktoken

    return tiktoken.get_encoding(name)


def count_tokens(text: str, encoding_name: str = DEFAULT_ENCODING) -> int:
    """Number of tiktoken tokens in ``text``; special-token text is counted as plain text."""
    return len(encoding(encoding_name).encode(text, disallowed_special=()))


def count_tokens_batch(texts: list[str], encoding_name: str = DEFAULT_ENCODING) -> list[int]:
    """Token counts for many texts.

    A plain loop over ``encode_ordinary``: tiktoken's ``encode_ordinary_batch`` submits one
    thread-pool future per text, which measured 1.5x slower here on 20,000 texts of 1 KB.
    """
    encode = encoding(encoding_name).encode_ordinary
    return [len(encode(text)) for text in texts]
