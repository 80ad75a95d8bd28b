"""Analytic memory of inference and of one training step, from the op graph alone (torch-free).

``replay.Replay`` replays what eager PyTorch allocates, tensor by tensor, with reference counts,
following the builder's forward code (``nn.Sequential`` and the structural modules of
``builder/modules.py``, replayed by ``walk.py``) and autograd; each op's ``memory`` fact says what
the op itself allocates and keeps. This module turns the replay into a prediction.

- A module's input stays alive for the whole call: the caller's frame still refers to it
  (``nn.Sequential.forward`` rebinds only its own local). So a stage's input lives until the last
  block of the stage returns, and a block's input until its add (it is the identity).
- ``out = f(out)`` frees the old ``out`` only after ``f`` has allocated its result. Under
  ``no_grad`` nothing else is kept; ``ReLU(inplace=True)`` allocates nothing.
- Training: each op keeps what autograd saves for backward (its ``memory`` fact: conv its input,
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
- CUDA (``backend="cuda"``, the ops' ``memory_cuda`` facts): cuDNN's conv workspaces, which the
  caching allocator hands out and ``max_memory_allocated`` counts, as seen with cuDNN 9.19 on an
  H100: a k×k forward conv and every conv backward hold NHWC copies of input, output and weight.

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
    Optimizer,
    Replay,
)
from archprobe.analysis.memory.walk import chain
from archprobe.errors import ArchprobeError
from archprobe.graph.nodes import Graph

__all__ = [
    "OPTIMIZERS",
    "Backend",
    "LayerMemory",
    "MemoryModelError",
    "MemoryPrediction",
    "Optimizer",
    "predict_inference",
    "predict_training",
]

OPTIMIZERS: tuple[Optimizer, ...] = ("sgd", "sgd_momentum", "adam")
COUNTER_BYTES = 8  # BN num_batches_tracked is an int64 buffer


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
    run = Replay(batch, dtype_bytes, False, backend)
    chain(run, graph.nodes, run.start(graph.input_shape), "")  # the output stays referenced
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
    run = Replay(batch, dtype_bytes, True, backend)
    logits = chain(run, graph.nodes, run.start(graph.input_shape), "")
    loss = run.cross_entropy(logits)
    run.pool.drop(logits.sid)  # `F.cross_entropy(model(x), y)`: the logits are a temporary
    run.backward(loss)
    run.step(optimizer)
    return _prediction(graph, run, optimizer)
