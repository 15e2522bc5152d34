"""Model prices (registry/models.yaml): what a call cost, and which of a set of models is cheapest.

Prices are USD per million tokens. The API reports dated model names
(claude-haiku-4-5-20251001) for the aliases the file lists, so a name also matches a listed
prefix. A model missing from the file still runs; its cost is None ("unknown"), not 0.
"""

from __future__ import annotations

import os

from skills import lazy
from skills.file_cache import read_when_changed


def model_prices(settings) -> dict:
    """{model: {"input_per_mtok", "output_per_mtok"}} from registry/models.yaml (parsed once per change)."""
    return read_when_changed(os.path.join(settings.project_root, "registry", "models.yaml"), _read_prices)


def _read_prices(path: str) -> dict:
    with open(path, encoding="utf-8") as handle:
        return (lazy.yaml.safe_load(handle) or {}).get("models", {})


def price_of(prices: dict, model: str | None) -> dict | None:
    model = model or ""
    return prices.get(model) or next((p for name, p in prices.items() if model.startswith(name)), None)


def cost_usd(settings, model: str | None, usage: dict) -> float | None:
    """USD for the tokens used; 0 offline; None for a model without a listed price."""
    if not usage.get("input_tokens") and not usage.get("output_tokens"):
        return 0.0
    price = price_of(model_prices(settings), model)
    if price is None:
        return None
    total = usage["input_tokens"] * price["input_per_mtok"] + usage["output_tokens"] * price["output_per_mtok"]
    return round(total / 1_000_000, 6)


def cheapest_model(models: list[str], settings) -> str | None:
    """The model with the lowest listed price (input + output per million tokens).

    Models without a listed price come last (their cost is unknown); ties go by name, so the
    choice is stable. None for an empty list.
    """
    prices = model_prices(settings)

    def rank(model: str) -> tuple:
        price = price_of(prices, model)
        total = price["input_per_mtok"] + price["output_per_mtok"] if price else float("inf")
        return (total, model)

    return min(models, key=rank, default=None)
