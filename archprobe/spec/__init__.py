"""Spec language: strict YAML, ``extends:``, pydantic schema, catalog. torch-free."""

from archprobe.spec.catalog import CatalogEntry, find_spec, list_specs
from archprobe.spec.loader import load_spec, spec_from_dict
from archprobe.spec.schema import ArchSpec, InputSpec, StageSpec

__all__ = [
    "ArchSpec",
    "CatalogEntry",
    "InputSpec",
    "StageSpec",
    "find_spec",
    "list_specs",
    "load_spec",
    "spec_from_dict",
]
