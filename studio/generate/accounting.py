"""Tokens and cost of a generation.

Tokens come from the provider's usage. When it gives none we count with tiktoken (cl100k) and
mark the counts as estimated. Cost comes from the user's prices, else litellm's bundled map;
a model the map does not know, or lists at zero, costs NULL: unknown is never a silent 0.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from studio.tokens import count_tokens

if TYPE_CHECKING:
    from collections.abc import Sequence

    from studio.generate.config import ModelRoute


def estimate_prompt_tokens(messages: Sequence[dict[str, str]]) -> int:
    """tiktoken count of a chat prompt, with OpenAI's per-message framing overhead."""
    return sum(count_tokens(m.get("content") or "") + 4 for m in messages) + 3


def estimate_completion_tokens(text: str) -> int:
    return count_tokens(text)


def cost_usd(
    route: ModelRoute, prompt_tokens: int | None, completion_tokens: int | None
) -> float | None:
    if prompt_tokens is None or completion_tokens is None:
        return None
    if route.prices is not None:
        return route.prices.cost(prompt_tokens, completion_tokens)
    if route.openai_compatible:
        # A custom server's model may share a name with a priced one; its price is not ours.
        return None
    from studio.generate.gateway import load_litellm

    litellm = load_litellm()
    try:
        prompt_cost, completion_cost = litellm.cost_per_token(
            model=route.litellm_model,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
        )
    except Exception:  # ModelNotMappedError is a plain Exception; anything else: unknown too
        return None
    total = float(prompt_cost) + float(completion_cost)
    if total == 0.0 and (prompt_tokens or completion_tokens):
        return None  # listed at 0 in the map: unpriced, not free
    return total
