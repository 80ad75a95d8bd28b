"""Spec language: strict YAML, ``extends:``, pydantic schema, catalog. torch-free."""

from archprobe.spec.catalog import CatalogEntry, find_spec, list_specs, list_traits
from archprobe.spec.loader import load_spec, load_trait, spec_from_dict
from archprobe.spec.schema import ArchSpec, InputSpec, StageSpec

__all__ = [
    "ArchSpec",
    "CatalogEntry",
    "InputSpec",
    "StageSpec",
    "find_spec",
    "list_specs",
    "list_traits",
    "load_spec",
    "load_trait",
    "spec_from_dict",
]
