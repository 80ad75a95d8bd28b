"""Two smaller equivalences behind archprobe's cost conventions.

- BN folding: in eval mode a BN after a conv is a per-channel affine map, so it folds into the
  conv's weights and a bias; outputs are unchanged. This is why BN counts 0 MACs (README "Cost
  conventions", torchvision ``_ops``).
- ResNet §3.3 shortcuts where the shape changes: option A (strided identity, zero-padded
  channels, no parameters) gives the same output shape as option B (strided 1×1 projection +
  BN), and equals option B with the fixed projection [I; 0] and an identity BN.
"""

from __future__ import annotations

import torch

from archprobe.errors import ArchprobeError
from archprobe.proofs.common import (
    COMPARE_SIZE,
    StateDict,
    agreement,
    build_forms,
    measured_form,
    outputs,
    random_input,
    randomize_,
    require_positive,
)
from archprobe.proofs.graphs import bn_fold_forms, leaves, shortcut_forms
from archprobe.proofs.results import Agreement, Claim, Expectation, Proof


def fold_bn(sd: StateDict, eps: float) -> StateDict:
    """conv → BN (eval) as one conv: W' = W·γ/√(σ²+ε) per output channel, b' = β − μ·γ/√(σ²+ε)."""
    scale = sd["bn.weight"] / torch.sqrt(sd["bn.running_var"] + eps)
    return {
        "conv.weight": sd["conv.weight"] * scale[:, None, None, None],
        "conv.bias": sd["bn.bias"] - sd["bn.running_mean"] * scale,
    }


def _fold_agreements(channels: int, size: int, seed: int) -> list[Agreement]:
    found = []
    cases: tuple[tuple[torch.dtype, str, Expectation], ...] = (
        (torch.float64, "float64", "equal"),
        (torch.float32, "float32", "report"),
    )
    for dtype, name, expect in cases:
        modules = build_forms(bn_fold_forms(channels), dtype)
        randomize_(modules["bn"], seed)
        bn = modules["bn"].get_submodule("bn")
        assert isinstance(bn, torch.nn.BatchNorm2d)
        modules["fold"].load_state_dict(fold_bn(modules["bn"].state_dict(), bn.eps))
        outs = outputs(modules, random_input(2, (channels, size, size), dtype, seed))
        found.append(agreement(outs, "bn", "fold", name, expect))
    return found


def prove_bn_fold(channels: int = 64, size: int = 56, seed: int = 0) -> Proof:
    """A 3×3 conv + BN in eval mode, and the single conv with bias it folds into."""
    require_positive(channels=channels, size=size)
    nodes = bn_fold_forms(channels)
    shape = (channels, size, size)
    names = {"bn": "conv + BN", "fold": "conv with bias (BN folded)"}
    forms = tuple(measured_form(k, names[k], n, shape) for k, n in nodes.items())
    bn, fold = forms
    return Proof(
        title="BN folds into the preceding conv at inference",
        ref="README cost conventions; Ioffe & Szegedy 2015 §3.1 (BN is affine at inference)",
        setting=f"3×3 conv, {channels} channels, {size}×{size} input, eval mode",
        forms=forms,
        agreements=tuple(_fold_agreements(channels, min(size, COMPARE_SIZE), seed)),
        claims=(
            Claim(f"equal MACs {bn.macs:,} = {fold.macs:,} (BN counts 0)", bn.macs == fold.macs),
            Claim(
                f"params {bn.params:,} → {fold.params:,}: BN's 2C affine become C biases",
                fold.params == bn.params - channels,
            ),
        ),
        notes=(
            "Eval mode only: in training BN normalises with batch statistics and does not fold.",
        ),
        conclusion="folding BN changes no output and no MAC: counting BN as 0 MACs is exact at "
        "inference, one op and its memory traffic fewer.",
    )


def _projection_identity_(module: torch.nn.Module, cin: int) -> None:
    """Option B's weights set to option A's fixed map: W = [I; 0], identity BN (eval)."""
    conv, bn = module.get_submodule("0"), module.get_submodule("1")
    assert isinstance(conv, torch.nn.Conv2d) and isinstance(bn, torch.nn.BatchNorm2d)
    assert bn.running_mean is not None and bn.running_var is not None
    with torch.no_grad():
        conv.weight.zero_()
        conv.weight[:cin, :, 0, 0].copy_(torch.eye(cin, dtype=conv.weight.dtype))
        bn.weight.fill_(1.0)
        bn.bias.zero_()
        bn.running_mean.zero_()
        bn.running_var.fill_(1.0 - bn.eps)  # √(σ² + ε) = 1


def prove_shortcuts(
    cin: int = 64, cout: int = 128, stride: int = 2, size: int = 56, seed: int = 0
) -> Proof:
    """ResNet option A vs option B where a stage changes shape (64 → 128, stride 2 by default)."""
    if min(cin, cout, stride, size) < 1 or cout < cin:
        raise ArchprobeError("need 1 ≤ cin ≤ cout and stride, size ≥ 1")
    nodes = shortcut_forms(cin, cout, stride)
    shape = (cin, size, size)
    names = {"A": "option A: identity, zero-padded", "B": "option B: 1×1 projection + BN"}
    forms = tuple(measured_form(k, names[k], n, shape) for k, n in nodes.items())
    out_a, out_b = (leaves(n, shape)[-1].out_shape for n in nodes.values())
    modules = build_forms(nodes, torch.float64)
    _projection_identity_(modules["B"], cin)
    side = min(size, COMPARE_SIZE)
    outs = outputs(modules, random_input(2, (cin, side, side), torch.float64, seed))
    a, b = forms
    return Proof(
        title="ResNet shortcut options A and B where the shape changes",
        ref="ResNet §3.3, Table 3 (options A/B/C)",
        setting=f"{cin} → {cout} channels, stride {stride}, {size}×{size} input",
        forms=forms,
        agreements=(agreement(outs, "A", "B", "float64, B = [I; 0]"),),
        claims=(
            Claim(f"same output shape {out_a} = {out_b}", out_a == out_b),
            Claim(
                f"A is parameter-free: {a.params} params, {a.macs} MACs", a.params == a.macs == 0
            ),
            Claim(
                f"B costs {b.params:,} params = {cin}·{cout} + 2·{cout}, {b.macs:,} MACs",
                b.params == cin * cout + 2 * cout,
            ),
        ),
        notes=("Option A is option B with a fixed, untrained projection [I; 0] and identity BN.",),
        conclusion="A and B give the same shapes; A is B's special case at zero cost, B learns "
        "the projection for its params and MACs (ResNet Table 3: ResNet-34 B is 0.5 points "
        "better in top-1 than A).",
    )
