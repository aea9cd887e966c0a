"""The tiny test recipes, registered for the tests here that train."""

from ..recipes import tiny_recipes  # noqa: F401
