"""Spec language: strict YAML, ``extends:``, pydantic schema, catalog. torch-free.

The catalog names import eagerly; the loader and schema (pydantic models of every registered
part) on first use (PEP 562), so a catalog lookup or a cached ``archprobe list`` does not build
them (issue 16: start-up).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from archprobe.spec.catalog import CatalogEntry, find_spec, list_specs, list_traits

if TYPE_CHECKING:
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

_LAZY = {
    "load_spec": "archprobe.spec.loader",
    "load_trait": "archprobe.spec.loader",
    "spec_from_dict": "archprobe.spec.loader",
    "ArchSpec": "archprobe.spec.schema",
    "InputSpec": "archprobe.spec.schema",
    "StageSpec": "archprobe.spec.schema",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'archprobe.spec' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
