"""Analytic memory of inference and of one training step, from the op graph alone (torch-free).

``memory_replay.Replay`` replays what eager PyTorch allocates, tensor by tensor, with reference
counts, following ``builder.py``'s forward code (``nn.Sequential``, ``ResidualBlock.forward``,
``ParallelBranches.forward``) and autograd; this module turns the replay into a prediction.

- A module's input stays alive for the whole call: the caller's frame still refers to it
  (``nn.Sequential.forward`` rebinds only its own local). So a stage's input lives until the last
  block of the stage returns, and a block's input until its add (it is the identity).
- ``out = f(out)`` frees the old ``out`` only after ``f`` has allocated its result. Under
  ``no_grad`` nothing else is kept; ``ReLU(inplace=True)`` allocates nothing.
- Training: each op keeps what autograd saves for backward (``RULES`` below: conv its input,
  BN its input and fp32 save_mean/save_invstd, in-place ReLU its result, max pool its input and
  int64 indices, linear its flattened input; add, the global mean pool and the option-A shortcut
  nothing; BN running statistics are buffers, updated in place). A storage is counted once
  however many ops save it: ``ReLU(inplace=True)`` saves its result, which is its input's
  storage, and the next conv saves that storage again.
- Backward nodes run in reverse creation order (autograd runs the ready node with the highest
  sequence number, and the most recent node is always ready). A node allocates its input
  gradient and its parameter gradients, then frees the incoming gradient and its saved tensors.
  The first gradient of a parameter is the fresh tensor itself (``AccumulateGrad`` steals it);
  it stays until the next step's ``zero_grad(set_to_none=True)``, so the step's baseline has none.
- The step: SGD (with or without momentum) updates in place; foreach Adam (the CUDA default)
  allocates ``sqrt(exp_avg_sq)`` for every parameter at once, single-tensor Adam (CPU) two
  parameter-sized temporaries at a time.
- CUDA (``backend="cuda"``, ``CUDA_RULES``): cuDNN's conv workspaces, which the caching allocator
  hands out and ``max_memory_allocated`` counts, as seen with cuDNN 9.19 on an H100: a k×k
  forward conv and every conv backward hold NHWC copies of input, output and weight.

Measured on that H100 (torch 2.11, fp32, batch 32; CIFAR nets batch 128): the peak of every
ImageNet catalog model within 1.3% in training and 2.2% in inference. Not modelled, so a measured
peak may exceed the prediction by them: other cuDNN engines' workspaces (ResNet-20/32 at batch
128 get backward-filter workspaces of 72 and 140 MiB: -27% and -9%), oneDNN's
layout copies on CPU, the caching allocator's 512-byte rounding and unsplit block tails (the
last ~0.2%), and the CUDA context. Byte counts are for ``batch`` samples at ``dtype_bytes`` per
element.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from archprobe.analysis.memory.replay import (
    Backend,
    LayerMemory,
    MemoryModelError,
    OpRule,
    Optimizer,
    Replay,
)
from archprobe.errors import ArchprobeError
from archprobe.graph import composite, ops
from archprobe.graph.cost import Shape, numel
from archprobe.graph.nodes import Graph

__all__ = [
    "CUDA_RULES",
    "OPTIMIZERS",
    "RULES",
    "Backend",
    "LayerMemory",
    "MemoryModelError",
    "MemoryPrediction",
    "OpRule",
    "Optimizer",
    "predict_inference",
    "predict_training",
]

OPTIMIZERS: tuple[Optimizer, ...] = ("sgd", "sgd_momentum", "adam")
COUNTER_BYTES = 8  # BN num_batches_tracked is an int64 buffer
STAT_BYTES = 4  # BN save_mean/save_invstd are fp32 whatever the input dtype (float accumulation)
INDEX_BYTES = 8  # max-pool indices are int64


def _bn_stats(op: ops.Op, x: Shape, y: Shape, batch: int, db: int) -> tuple[int, ...]:
    # Training BN keeps the batch mean and 1/std per channel for its backward (save_mean,
    # save_invstd); the running statistics are buffers, updated in place.
    return (x[0] * STAT_BYTES, x[0] * STAT_BYTES)


def _pool_indices(op: ops.Op, x: Shape, y: Shape, batch: int, db: int) -> tuple[int, ...]:
    # max_pool2d_with_indices returns the argmax of every output element as int64.
    return (batch * numel(y) * INDEX_BYTES,)


def _pad_grads(op: ops.Op, x: Shape, y: Shape, batch: int, db: int) -> tuple[int, ...]:
    # Option A shortcut = two strided slices + constant_pad_nd. Backward: pad's backward copies
    # the first cin channels (cin, ho, wo), then each slice's backward scatters into zeros of its
    # input shape: (cin, ho, w), then the input gradient itself (allocated by the node).
    assert isinstance(op, ops.IdentityPad)
    narrowed = batch * op.cin * y[1] * y[2] * db
    if op.stride == 1:  # x[:, :, ::1, ::1] is x itself: no slice nodes
        return (narrowed,)
    return (narrowed, batch * op.cin * y[1] * x[2] * db)


def _se_saved(op: ops.Op, x: Shape, y: Shape, batch: int, db: int) -> tuple[int, ...]:
    # fc1 input (C), relu output = fc2 input (Cr), sigmoid output = mul operand (C).
    assert isinstance(op, composite.SqueezeExcite)
    return (batch * (2 * op.channels + op.reduced) * db,)


def _splat_saved(op: ops.Op, x: Shape, y: Shape, batch: int, db: int) -> tuple[int, ...]:
    # conv output (saved by bn0), bn0 output (relu_, then the splits of the weighted sum), the
    # pooled sum (fc1), fc1 and relu outputs (bn1, fc2), softmax output (mul), bn1 statistics.
    assert isinstance(op, composite.SplitAttention)
    wide = op.cout * op.radix
    acts = 2 * wide * y[1] * y[2] + op.cout + 2 * op.inter + wide
    return (batch * acts * db, (wide + op.inter) * 2 * STAT_BYTES)


def _res2net_saved(op: ops.Op, x: Shape, y: Shape, batch: int, db: int) -> tuple[int, ...]:
    # Per split conv: its output (saved by BN) and the BN output (relu_); the 'normal' form also
    # keeps the sums split + carry that feed convs 2..s-1; BN statistics.
    assert isinstance(op, composite.Res2NetSplits)
    n, w = op.scale - 1, op.width
    sums = 0 if op.stage else (n - 1) * w * x[1] * x[2]
    return (batch * (2 * n * w * y[1] * y[2] + sums) * db, n * 2 * w * STAT_BYTES)


RULES: dict[type[ops.Op], OpRule] = {
    # conv backward needs the input for grad_weight (the weight is a parameter, counted there).
    ops.Conv: OpRule(saves_input=True),
    ops.BatchNorm: OpRule(saves_input=True, saved_extra=_bn_stats),
    # relu_ backward uses its result (threshold_backward(grad, result)), which is the input's
    # storage: no new bytes, and the next conv saves that same storage.
    ops.ReLU: OpRule(inplace=True, saves_output=True),
    # max_pool2d runs max_pool2d_with_indices even under no_grad (seen on CPU and CUDA), so
    # inference allocates the indices and drops them when the op returns.
    ops.MaxPool: OpRule(saves_input=True, saved_extra=_pool_indices, no_grad_extra=_pool_indices),
    ops.AvgPool: OpRule(saves_input=True),
    # adaptive_avg_pool2d to 1×1 is `mean` over H, W, whose backward needs only the input shape.
    ops.GlobalAvgPool: OpRule(),
    # addmm saves mat1 (the flattened input, a view of the pool output's storage) and weight.t().
    ops.Linear: OpRule(saves_input=True),
    # AddBackward returns the incoming gradient for both operands (alpha = 1): no copy, no save.
    ops.Add: OpRule(grad_pass=True),
    # Slicing is a view and constant_pad_nd saves only the pad widths.
    ops.IdentityPad: OpRule(bwd_transient=_pad_grads),
    # Composites (approximate, not checked against autograd hooks): the input, plus what their
    # inner layers keep (builder.py forward code).
    composite.SqueezeExcite: OpRule(saves_input=True, saved_extra=_se_saved),
    composite.SplitAttention: OpRule(saves_input=True, saved_extra=_splat_saved),
    composite.Res2NetSplits: OpRule(saves_input=True, saved_extra=_res2net_saved),
}
"""What autograd keeps, per op kind: the same on every device."""


def _nhwc_copies(op: ops.Op, x: Shape, y: Shape, batch: int, db: int) -> tuple[int, ...]:
    # cuDNN 9 runs these convs in NHWC and takes a workspace holding transformed copies of the
    # input, the output and the weight (H100, torch 2.11: in + out + weight + at most 147 B).
    return (batch * (numel(x) + numel(y)) * db + op.cost_at(x, y).params * db,)


def _nhwc_spatial(op: ops.Op, x: Shape, y: Shape, batch: int, db: int) -> tuple[int, ...]:
    # 1×1 forward convs ask for a few hundred bytes; k×k ones for the NHWC copies.
    assert isinstance(op, ops.Conv)
    return _nhwc_copies(op, x, y, batch, db) if op.kernel > 1 else ()


CUDA_RULES: dict[type[ops.Op], OpRule] = {
    **RULES,
    # cuDNN workspaces come from the caching allocator, so they count in max_memory_allocated:
    # forward k×k convs, and every backward (data and filter passes, each about in + out,
    # plus the weight for k×k: modelled as one in + out + weight workspace alive across both).
    ops.Conv: OpRule(saves_input=True, workspace=_nhwc_spatial, bwd_transient=_nhwc_copies),
}
"""``RULES`` plus cuDNN's workspaces as seen on an H100 with cuDNN 9.19 (torch 2.11)."""


@dataclass(frozen=True)
class MemoryPrediction:
    """Predicted memory of one model for one batch.

    ``step_peak_bytes`` is the peak above the step's baseline: what ``memory_measure`` measures,
    with weights, buffers, optimizer state and the input batch already resident. ``peak_bytes``
    adds that resident state back.
    """

    model: str
    mode: Literal["inference", "training"]
    batch: int
    dtype_bytes: int
    optimizer: Optimizer | None
    layers: tuple[LayerMemory, ...]
    weights_bytes: int
    buffers_bytes: int
    grads_bytes: int
    optimizer_state_bytes: int  # on the model's device
    optimizer_host_bytes: int  # Adam's step counters, kept on the host
    saved_bytes: int
    input_bytes: int
    step_peak_bytes: int
    peak_at: str  # "forward layer1.0.bn3", "backward fc", "optimizer step"

    @property
    def resident_bytes(self) -> int:
        """Weights, buffers, optimizer state and the input batch: the step's baseline."""
        state = self.weights_bytes + self.buffers_bytes + self.optimizer_state_bytes
        return state + self.input_bytes

    @property
    def peak_bytes(self) -> int:
        """Predicted peak of the device's allocated bytes, resident state included."""
        return self.resident_bytes + self.step_peak_bytes


_STATE_COPIES: dict[Optimizer | None, int] = {None: 0, "sgd": 0, "sgd_momentum": 1, "adam": 2}
"""Parameter-sized state tensors per parameter: momentum_buffer; Adam's exp_avg, exp_avg_sq."""


def _buffer_bytes(graph: Graph, dtype_bytes: int) -> int:
    # BN: running mean and var at the model's dtype, plus the int64 num_batches_tracked.
    return sum(
        (leaf.cost.buffers - 1) * dtype_bytes + COUNTER_BYTES
        for leaf in graph.leaves
        if leaf.cost.buffers
    )


def _prediction(graph: Graph, run: Replay, optimizer: Optimizer | None) -> MemoryPrediction:
    copies = _STATE_COPIES[optimizer]
    rows = tuple(replace(r, optimizer_bytes=copies * r.params_bytes) for r in run.rows)
    weights = sum(r.params_bytes for r in rows)
    return MemoryPrediction(
        model=graph.name,
        mode="training" if run.training else "inference",
        batch=run.batch,
        dtype_bytes=run.db,
        optimizer=optimizer,
        layers=rows,
        weights_bytes=weights,
        buffers_bytes=_buffer_bytes(graph, run.db),
        grads_bytes=sum(r.grads_bytes for r in rows),
        optimizer_state_bytes=copies * weights,
        optimizer_host_bytes=run.host_state if optimizer == "adam" else 0,
        saved_bytes=sum(r.saved_bytes for r in rows),
        input_bytes=run.bytes_of(graph.input_shape),
        step_peak_bytes=run.pool.peak,
        peak_at=run.pool.peak_at,
    )


def predict_inference(
    graph: Graph, batch: int, dtype_bytes: int = 4, *, backend: Backend = "cuda"
) -> MemoryPrediction:
    """Peak memory of ``model.eval()`` under ``torch.no_grad()`` for one batch.

    Args:
        graph: the expanded model.
        batch: samples per forward.
        dtype_bytes: bytes per activation and parameter element (4 = fp32).
        backend: "cuda" also counts the max-pool indices CUDA allocates even without grad.
    """
    run = Replay(CUDA_RULES if backend == "cuda" else RULES, batch, dtype_bytes, False, backend)
    run.chain(graph.nodes, run.start(graph.input_shape), "")  # the output stays referenced
    return _prediction(graph, run, None)


def predict_training(
    graph: Graph,
    batch: int,
    optimizer: Optimizer,
    dtype_bytes: int = 4,
    *,
    backend: Backend = "cuda",
) -> MemoryPrediction:
    """Peak memory of one training step after the first (optimizer state exists).

    The step is ``zero_grad(set_to_none=True)``, ``loss = F.cross_entropy(model(x), y)``,
    ``loss.backward()``, ``optimizer.step()``; the model is in train mode (batch statistics).

    Args:
        graph: the expanded model.
        batch: samples per step.
        optimizer: "sgd" (no state), "sgd_momentum" (one buffer per parameter) or "adam"
            (exp_avg and exp_avg_sq on the device, a float32 step counter per tensor on the host).
        dtype_bytes: bytes per element (4 = fp32).
        backend: "cuda" or "cpu" (the training rules are the same on both).
    """
    if optimizer not in OPTIMIZERS:
        raise ArchprobeError(f"optimizer {optimizer!r} is not one of {', '.join(OPTIMIZERS)}")
    run = Replay(CUDA_RULES if backend == "cuda" else RULES, batch, dtype_bytes, True, backend)
    logits = run.chain(graph.nodes, run.start(graph.input_shape), "")
    loss = run.cross_entropy(logits)
    run.pool.drop(logits.sid)  # `F.cross_entropy(model(x), y)`: the logits are a temporary
    run.backward(loss)
    run.step(optimizer)
    return _prediction(graph, run, optimizer)
