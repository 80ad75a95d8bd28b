"""Measured memory of a forward and of a training step: the torch counterpart of memory_model.

Baseline. Every measurement is the peak of allocated bytes *above the baseline*: the bytes
allocated just before the measured call, when the weights, buffers, the optimizer state and the
input batch (and targets) are resident. Training measures the 2nd step, so the optimizer state
exists, after ``zero_grad(set_to_none=True)`` has freed the 1st step's gradients. ``resident``
counts those tensors themselves (unique storages), so ``peak_bytes`` is comparable with
``MemoryPrediction.peak_bytes`` whatever else the process holds.

- CUDA: ``torch.cuda.reset_peak_memory_stats`` then ``max_memory_allocated`` minus
  ``memory_allocated`` at the baseline. These are the caching allocator's allocated blocks (512-B
  rounded), not the cached-but-free ones and not the CUDA context.
- CPU: ``torch.profiler`` with ``profile_memory=True``; the peak of the running sum of the
  allocation events (+bytes when allocated, -bytes when freed) in time order.

Measurements run on a deep copy of the model, so the caller's weights, BN statistics, gradients
and train/eval mode are untouched and no hook stays behind. torch is imported lazily.
"""

from __future__ import annotations

import copy
import gc
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from archprobe.analysis.memory.model import OPTIMIZERS, Optimizer

if TYPE_CHECKING:
    import torch
    from torch import nn

Shape4 = tuple[int, int, int, int]
LR = 0.01  # any positive rate: the step's memory does not depend on it


@dataclass(frozen=True)
class MemoryMeasurement:
    """One measured peak, with what is needed to compare and to reproduce it.

    Attributes:
        step_peak_bytes: peak allocated bytes above the baseline (module docstring).
        resident_bytes: weights + buffers + optimizer state on the device + input batch, counted
            from the tensors (unique storages).
        method: how the peak was read ("cuda max_memory_allocated", "torch.profiler memory").
    """

    mode: Literal["inference", "training"]
    device: str
    method: str
    batch: int
    optimizer: Optimizer | None
    step_peak_bytes: int
    resident_bytes: int
    torch_version: str

    @property
    def peak_bytes(self) -> int:
        """Peak of the step with the resident state added back (no other process tensors)."""
        return self.resident_bytes + self.step_peak_bytes


def device_name(device: torch.device) -> str:
    """``cuda: NVIDIA H100 80GB HBM3`` or ``cpu``."""
    import torch

    if device.type == "cuda":
        return f"cuda: {torch.cuda.get_device_name(device)}"
    return device.type


def storage_bytes(tensors: Iterable[torch.Tensor]) -> int:
    """Bytes of the distinct storages behind ``tensors`` (views and aliases counted once)."""
    seen: dict[tuple[str, int], int] = {}
    for t in tensors:
        st = t.untyped_storage()
        seen[(str(t.device), st.data_ptr())] = st.nbytes()
    return sum(seen.values())


def make_optimizer(params: Iterable[nn.Parameter], name: Optimizer) -> torch.optim.Optimizer:
    """torch.optim defaults for ``name``: SGD, SGD(momentum=0.9) or Adam (weight decay 0)."""
    import torch

    if name == "adam":
        return torch.optim.Adam(params, lr=LR)
    if name in ("sgd", "sgd_momentum"):
        return torch.optim.SGD(params, lr=LR, momentum=0.9 if name == "sgd_momentum" else 0.0)
    raise ValueError(f"optimizer {name!r} is not one of {', '.join(OPTIMIZERS)}")


def optimizer_state(opt: torch.optim.Optimizer) -> tuple[int, int]:
    """(bytes on the parameters' device, bytes elsewhere) of the optimizer's state tensors.

    Adam keeps its per-tensor ``step`` counter on the CPU even for CUDA parameters.
    """
    import torch

    params = [p for g in opt.param_groups for p in g["params"]]
    home = params[0].device if params else None
    tensors = [v for s in opt.state.values() for v in s.values() if isinstance(v, torch.Tensor)]
    here = storage_bytes(t for t in tensors if t.device == home)
    return here, storage_bytes(t for t in tensors if t.device != home)


def _cuda_peak(device: torch.device, run: Callable[[], object]) -> int:
    import torch

    gc.collect()
    torch.cuda.synchronize(device)
    base = torch.cuda.memory_allocated(device)
    torch.cuda.reset_peak_memory_stats(device)
    run()
    torch.cuda.synchronize(device)
    return int(torch.cuda.max_memory_allocated(device)) - int(base)


def _cpu_peak(run: Callable[[], object]) -> int:
    from torch._C._autograd import DeviceType
    from torch.profiler import ProfilerActivity, profile

    from archprobe.analysis.quiet import quiet_stderr

    gc.collect()
    with quiet_stderr(), profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        run()
    # Allocation events are merged into their ops in prof.events(); the raw kineto events keep
    # each allocation and free with its own time stamp, which the running sum needs.
    events = [
        e
        for e in prof.profiler.kineto_results.events()
        if e.name() == "[memory]" and e.device_type() == DeviceType.CPU
    ]
    live = peak = 0
    for e in sorted(events, key=lambda e: e.start_ns()):
        live += e.nbytes()
        peak = max(peak, live)
    return peak


def peak_above_baseline(device: torch.device, run: Callable[[], object]) -> tuple[int, str]:
    """Peak allocated bytes above those allocated before ``run()``, and how it was read."""
    if device.type == "cuda":
        return _cuda_peak(device, run), "cuda max_memory_allocated"
    if device.type == "cpu":
        return _cpu_peak(run), "torch.profiler memory events"
    raise ValueError(f"memory measurement supports cuda and cpu devices, not {device.type!r}")


def _prepared(model: nn.Module, device: str | torch.device) -> tuple[nn.Module, torch.device]:
    import torch

    dev = torch.device(device)
    return copy.deepcopy(model).to(dev), dev


def measure_inference(
    model: nn.Module, input_shape: Shape4, device: str | torch.device
) -> MemoryMeasurement:
    """Peak of ``model.eval()`` forward under ``torch.no_grad()`` (the output is kept).

    Args:
        model: any module; measured on a copy moved to ``device``.
        input_shape: (batch, channels, height, width).
        device: "cuda", "cuda:1" or "cpu".
    """
    import torch

    net, dev = _prepared(model, device)
    net.eval()
    x = torch.randn(input_shape, device=dev)
    outputs: list[torch.Tensor] = []

    def forward() -> None:
        with torch.no_grad():
            outputs.append(net(x))

    forward()  # warm-up: cuDNN/cuBLAS handles and workspaces are created once
    outputs.clear()
    peak, method = peak_above_baseline(dev, forward)
    resident = storage_bytes([*net.parameters(), *net.buffers(), x])
    return MemoryMeasurement(
        "inference", device_name(dev), method, input_shape[0], None, peak, resident,
        torch.__version__,
    )  # fmt: skip


def measure_training(
    model: nn.Module, input_shape: Shape4, device: str | torch.device, optimizer: Optimizer
) -> MemoryMeasurement:
    """Peak of the 2nd training step: ``zero_grad``; cross-entropy forward; backward; ``step``.

    Args:
        model: any classifier returning (batch, classes) logits; measured on a copy.
        input_shape: (batch, channels, height, width).
        device: "cuda", "cuda:1" or "cpu".
        optimizer: "sgd", "sgd_momentum" (momentum 0.9) or "adam" (torch defaults otherwise).
    """
    import torch
    import torch.nn.functional as F

    net, dev = _prepared(model, device)
    opt = make_optimizer(net.parameters(), optimizer)
    x = torch.randn(input_shape, device=dev)
    with torch.no_grad():  # eval: a forward to learn the class count, BN statistics untouched
        classes = int(net.eval()(x).shape[1])
    net.train()
    y = torch.randint(0, classes, (input_shape[0],), device=dev)

    def step() -> None:
        loss = F.cross_entropy(net(x), y)
        loss.backward()  # type: ignore[no-untyped-call]
        opt.step()

    opt.zero_grad(set_to_none=True)
    step()  # the 1st step creates the optimizer state and the cuDNN/cuBLAS workspaces
    opt.zero_grad(set_to_none=True)
    peak, method = peak_above_baseline(dev, step)
    state, _host = optimizer_state(opt)
    resident = storage_bytes([*net.parameters(), *net.buffers(), x]) + state
    return MemoryMeasurement(
        "training", device_name(dev), method, input_shape[0], optimizer, peak, resident,
        torch.__version__,
    )  # fmt: skip


def saved_tensor_bytes(
    model: nn.Module, input_shape: Shape4, device: str | torch.device = "cpu"
) -> int:
    """Unique storage bytes autograd saves during one train-mode forward, weights excluded.

    Counts every tensor handed to the ``saved_tensors_hooks`` pack hook, by storage (an in-place
    ReLU's result and the next conv's input are one storage); parameters and buffers, which
    autograd also saves (conv weight, BN running stats), are left out. The hook is a context
    manager around one forward of a copy: nothing stays registered.
    """
    import torch

    net, dev = _prepared(model, device)
    net.train()
    state = {t.untyped_storage().data_ptr() for t in [*net.parameters(), *net.buffers()]}
    saved: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        st = t.untyped_storage()
        if st.data_ptr() not in state:  # every saved storage is alive until forward ends
            saved[st.data_ptr()] = st.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = net(torch.randn(input_shape, device=dev))
    del out
    return sum(saved.values())
