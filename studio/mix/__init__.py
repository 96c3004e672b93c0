"""Mixtures: a recipe of sources and weights becomes data shards plus a manifest."""

from studio.mix.export import ExportError, ExportResult, export_mixture
from studio.mix.recipe import Recipe, RecipeError, Source, load_recipe, parse_recipe

__all__ = [
    "ExportError",
    "ExportResult",
    "Recipe",
    "RecipeError",
    "Source",
    "export_mixture",
    "load_recipe",
    "parse_recipe",
]
