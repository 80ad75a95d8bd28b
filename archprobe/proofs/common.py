"""Torch helpers shared by the proofs: build a form, randomise it, compare outputs, trace it."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping

import torch
from torch import nn

from archprobe.analysis.counters.runtime import flop_counts
from archprobe.builder.network import build_node
from archprobe.errors import ArchprobeError
from archprobe.graph.cost import Shape
from archprobe.graph.nodes import Node
from archprobe.proofs.graphs import analytic_form
from archprobe.proofs.results import Agreement, Expectation, Form

StateDict = dict[str, torch.Tensor]

COMPARE_SIZE = 16
"""Outputs are compared on 2 random images of at most 16×16: the algebra does not depend on the
map size (borders included), and float64 at 56×56 takes seconds. Costs use the full size."""


def require_positive(**sizes: int) -> None:
    """Raise a user error naming the first size below 1."""
    for name, value in sizes.items():
        if value < 1:
            raise ArchprobeError(f"{name} must be at least 1 (got {value})")


def build_forms(nodes: Mapping[str, Node], dtype: torch.dtype) -> dict[str, nn.Module]:
    """One module per form, from the same graphs the costs come from; eval mode."""
    return {key: build_node(node).to(dtype).eval() for key, node in nodes.items()}


def randomize_(module: nn.Module, seed: int) -> None:
    """He-normal conv weights and non-trivial BN (random γ, β, running mean and variance), so
    that every BN matters; deterministic given ``seed``, no global RNG state touched."""
    g = torch.Generator().manual_seed(seed)

    def rand(t: torch.Tensor) -> torch.Tensor:
        return torch.rand(t.shape, generator=g, dtype=t.dtype)

    def randn(t: torch.Tensor) -> torch.Tensor:
        return torch.randn(t.shape, generator=g, dtype=t.dtype)

    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, nn.Conv2d):
                m.weight.copy_(randn(m.weight) * (2.0 / m.weight[0].numel()) ** 0.5)
                if m.bias is not None:
                    m.bias.copy_(0.1 * randn(m.bias))
            elif isinstance(m, nn.BatchNorm2d):
                assert m.running_mean is not None and m.running_var is not None
                m.weight.copy_(0.5 + rand(m.weight))
                m.bias.copy_(0.1 * randn(m.bias))
                m.running_mean.copy_(0.1 * randn(m.running_mean))
                m.running_var.copy_(0.5 + rand(m.running_var))


def mapped_forms(
    nodes: Mapping[str, Node],
    ref: str,
    maps: Mapping[str, Callable[[StateDict], StateDict]],
    seed: int,
) -> dict[str, nn.Module]:
    """float64 modules: ``ref`` randomised, every other form loaded with weights mapped from it
    (``load_state_dict`` is strict, so a mapping that misses or invents a tensor fails)."""
    modules = build_forms(nodes, torch.float64)
    randomize_(modules[ref], seed)
    sd = modules[ref].state_dict()
    for key, mapping in maps.items():
        modules[key].load_state_dict(mapping(sd))
    return modules


def as_float32(modules: Mapping[str, nn.Module]) -> dict[str, nn.Module]:
    """float32 copies: the same weights, rounded, to show float32's error on the same test."""
    return {key: copy.deepcopy(m).float() for key, m in modules.items()}


def random_input(batch: int, shape: Shape, dtype: torch.dtype, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed + 1)
    return torch.randn((batch, *shape), generator=g, dtype=dtype)


def cat_paths(sd: StateDict, paths: int, key: str, dim: int = 0) -> torch.Tensor:
    """``paths.0.<key>`` … ``paths.<C-1>.<key>`` stacked along ``dim`` (path i = group i)."""
    return torch.cat([sd[f"paths.{i}.{key}"] for i in range(paths)], dim)


def stacked_bn(sd: StateDict, paths: int, bn: str) -> StateDict:
    """The wide BN whose channel slices are the paths' BNs (BN is per channel)."""
    out = {
        f"{bn}.{t}": cat_paths(sd, paths, f"{bn}.{t}")
        for t in ("weight", "bias", "running_mean", "running_var")
    }
    out[f"{bn}.num_batches_tracked"] = sd[f"paths.0.{bn}.num_batches_tracked"]
    return out


def shared(sd: StateDict, prefix: str) -> StateDict:
    """Entries of ``sd`` under ``prefix.`` (layers after the aggregation, common to all forms)."""
    return {k: v for k, v in sd.items() if k.startswith(prefix + ".")}


def outputs(modules: Mapping[str, nn.Module], x: torch.Tensor) -> dict[str, torch.Tensor]:
    with torch.no_grad():
        return {key: m(x) for key, m in modules.items()}


def agreement(
    outs: Mapping[str, torch.Tensor],
    ref: str,
    other: str,
    dtype: str,
    expect: Expectation = "equal",
    bound: float = 1e-5,
) -> Agreement:
    """Max |outs[ref] − outs[other]|, with the scale of ``ref``'s output."""
    diff = (outs[ref] - outs[other]).abs().max().item()
    scale = outs[ref].abs().max().item()
    return Agreement(ref, other, dtype, diff, scale, expect, bound)


def measured_form(key: str, name: str, node: Node, in_shape: Shape) -> Form:
    """The analytic form plus its built module's ``sum(numel)`` and FlopCounterMode FLOPs
    (meta device: no memory, no compute): the traced check of DESIGN §7.1 on every form."""
    form = analytic_form(key, name, node, in_shape)
    with torch.device("meta"):
        module = build_node(node)
    built = sum(p.numel() for p in module.parameters())
    flops = flop_counts(module, (1, *in_shape), device="meta").get("", 0)
    return Form(**{**form.__dict__, "built_params": built, "traced_flops": flops})
