"""Which catalog spec a profiled module is: same state_dict keys and shapes.

Comparing against the whole catalog on every call (analyse every spec, build the candidates)
made ``match`` 1.5× the rest of a profile (issue 16). The catalog is indexed once per process
instead: specs by parameter count (from the analytic counts, no torch), and, for the few specs
that share a model's count, their built state_dict signature, each built once. The index is
keyed by the catalog's files and their modification times, so an edited or added spec (or
another ``ARCHPROBE_SPECS``) is seen.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from archprobe.errors import ArchprobeError

if TYPE_CHECKING:
    from torch import nn

Signature = frozenset[tuple[str, tuple[int, ...]]]


@dataclass
class _Spec:
    """One catalog spec: its name, per-sample input, file and (once built) its signature."""

    name: str
    input_shape: tuple[int, ...]
    path: Path
    signature: Signature | None = None


Stamp = tuple[tuple[str, int], ...]
_INDEX: dict[Stamp, dict[int, list[_Spec]]] = {}


def signature(model: nn.Module) -> Signature:
    """The state_dict's keys and shapes (what a checkpoint of the model would need)."""
    return frozenset((k, tuple(v.shape)) for k, v in model.state_dict().items())


def _stamp() -> tuple[Stamp, list[Path]]:
    from archprobe.spec import list_specs

    paths = [e.path for e in list_specs()]
    stamp = []
    for path in paths:
        try:
            stamp.append((str(path), path.stat().st_mtime_ns))
        except OSError:  # vanished since the scan: indexed as unreadable
            stamp.append((str(path), -1))
    return tuple(stamp), paths


def _build_index(paths: list[Path]) -> dict[int, list[_Spec]]:
    """Specs by parameter count; a spec that fails to load is left out (it matches nothing,
    and a broken file elsewhere in the catalog must not stop a profile)."""
    from archprobe.analysis.analytic import analyze_spec

    index: dict[int, list[_Spec]] = defaultdict(list)
    for path in paths:
        try:
            a = analyze_spec(path)
        except ArchprobeError:
            continue
        spec = _Spec(a.name, tuple(a.graph.input_shape), path)
        index[int(a.results.total("params"))].append(spec)
    return dict(index)


def _index() -> dict[int, list[_Spec]]:
    stamp, paths = _stamp()
    if stamp not in _INDEX:
        _INDEX.clear()  # one catalog at a time: an edited file makes the old index stale
        _INDEX[stamp] = _build_index(paths)
    return _INDEX[stamp]


def _signature_of(spec: _Spec) -> Signature:
    if spec.signature is None:
        from archprobe.builder.network import build
        from archprobe.spec import load_spec

        spec.signature = signature(build(load_spec(spec.path), device="meta"))
    return spec.signature


def match_spec(model: nn.Module) -> tuple[str, tuple[int, ...]] | None:
    """The catalog spec whose built model has the same state_dict keys and shapes, if any.

    Returns:
        (spec name, per-sample input shape), or None.
    """
    total = sum(p.numel() for p in model.parameters())
    candidates = _index().get(total, [])
    if not candidates:
        return None
    shapes = signature(model)
    for spec in candidates:
        if _signature_of(spec) == shapes:
            return spec.name, spec.input_shape
    return None
