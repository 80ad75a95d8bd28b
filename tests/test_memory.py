"""Memory model vs what PyTorch allocates: exact saved-tensor bytes, optimizer state, peaks.

Ground truth: autograd's own saved_tensors_hooks (every tensor it keeps, counted by storage),
the state tensors torch.optim creates, a hand-computed tiny network, and the allocator's peak
(CPU profiler here; CUDA max_memory_allocated in the `gpu` tests).
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from typing import ClassVar

import pytest
import torch
import torch.nn.functional as F
from rich.console import Console

from archprobe.analysis.memory.measure import (
    MemoryMeasurement,
    make_optimizer,
    measure_inference,
    measure_training,
    saved_tensor_bytes,
)
from archprobe.analysis.memory.model import (
    MemoryModelError,
    Optimizer,
    predict_inference,
    predict_training,
)
from archprobe.builder.network import build
from archprobe.graph import ops
from archprobe.graph.cost import numel
from archprobe.graph.nodes import Graph, OpNode, Section
from archprobe.report.terminal.memory import memory_layers_table, memory_table
from archprobe.spec import load_spec
from archprobe.spec.expand import expand
from archprobe.spec.schema import ArchSpec


def sized(name: str, size: int) -> ArchSpec:
    """A catalog spec at a smaller input size (tests stay fast)."""
    spec = load_spec(name)
    return spec.model_copy(update={"input": spec.input.model_copy(update={"size": size})})


def tiny() -> Graph:
    """conv 3→4 (3×3) · BN · ReLU · global pool · fc 4→2 on 3×8×8."""
    nodes = (
        OpNode("conv", ops.Conv(3, 4, 3)),
        OpNode("bn", ops.BatchNorm(4)),
        OpNode("relu", ops.ReLU()),
        OpNode("pool", ops.GlobalAvgPool()),
        OpNode("fc", ops.Linear(4, 2)),
    )
    return Graph("tiny", (3, 8, 8), (Section("all", nodes),))


def test_imports_and_runs_with_torch_blocked() -> None:
    code = (
        "import sys; sys.modules['torch'] = None\n"
        "from archprobe.spec.expand import expand\n"
        "from archprobe.analysis.memory.model import predict_inference, predict_training\n"
        "from archprobe.spec import load_spec\n"
        "g = expand(load_spec('resnext50'))\n"
        "assert predict_training(g, 2, 'adam').peak_bytes > predict_inference(g, 2).peak_bytes\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_tiny_network_by_hand() -> None:
    """Closed form, batch 2, fp32: x 1536 B, conv/BN outputs 2048 B each, BN stats 2×16 B."""
    g = tiny()
    train = predict_training(g, 2, "sgd")
    # conv keeps x; BN keeps the conv output + stats; ReLU keeps the BN output (in place); the
    # mean pool keeps nothing; fc keeps the pooled 2×4 floats.
    assert train.saved_bytes == 1536 + 2048 + 32 + 2048 + 32
    assert [r.saved_bytes for r in train.layers] == [1536, 2048 + 32, 2048, 0, 32]
    # no_grad: conv output and BN output are both alive while BN runs; then only small tensors.
    assert predict_inference(g, 2, backend="cpu").step_peak_bytes == 2 * 2048
    # CUDA: the 3×3 conv's cuDNN workspace holds NHWC copies of x, its output and its weight.
    assert predict_inference(g, 2).step_peak_bytes == 2048 + (1536 + 2048 + 4 * 3 * 4 * 9)
    assert saved_tensor_bytes(build(g, "cpu"), (2, 3, 8, 8)) == train.saved_bytes


SAVED_CASES = [("resnet18", 64, 2), ("resnet50", 64, 2), ("resnext50_32x4d", 64, 3),
               ("resnet20", 32, 4), ("plain18", 64, 2), ("seresnet50", 64, 2),
               ("res2net50_26w_4s", 64, 2), ("resnest50", 64, 2), ("resnet50d", 64, 2),
               ("resnest50_fast_2s1x64d", 64, 2), ("mobilenet_v2", 64, 2),
               ("mobilenet_v3_large", 64, 2), ("mnasnet1_0", 64, 2)]  # fmt: skip


@pytest.mark.parametrize(("name", "size", "batch"), SAVED_CASES)
def test_saved_bytes_equal_autograd_hooks(name: str, size: int, batch: int) -> None:
    spec = sized(name, size)
    measured = saved_tensor_bytes(build(spec, "cpu"), (batch, 3, size, size))
    # measured on CPU, so CPU facts: dropout keeps a float noise tensor there (a bool mask on CUDA)
    assert predict_training(expand(spec), batch, "sgd", backend="cpu").saved_bytes == measured


@pytest.mark.parametrize("optimizer", ["sgd", "sgd_momentum", "adam"])
def test_optimizer_state_equals_torch_optim(optimizer: Optimizer) -> None:
    spec = sized("resnet20", 8)
    model = build(spec, "cpu")
    opt = make_optimizer(model.parameters(), optimizer)
    F.cross_entropy(model(torch.randn(2, 3, 8, 8)), torch.tensor([0, 1])).backward()
    opt.step()
    state = [v for s in opt.state.values() for v in s.values() if isinstance(v, torch.Tensor)]
    pred = predict_training(expand(spec), 2, optimizer)
    params = sum(p.numel() for p in model.parameters())
    tensors = len(list(model.parameters()))
    copies = {"sgd": 0, "sgd_momentum": 1, "adam": 2}[optimizer]
    steps = tensors if optimizer == "adam" else 0  # one scalar `step` per parameter tensor
    assert sum(t.numel() for t in state) == copies * params + steps
    assert sum(t.numel() * t.element_size() for t in state) == (
        pred.optimizer_state_bytes + pred.optimizer_host_bytes
    )
    assert pred.weights_bytes == params * 4
    assert pred.buffers_bytes == sum(b.numel() * b.element_size() for b in model.buffers())


def test_rows_add_up_to_totals() -> None:
    g = expand(load_spec("resnext50"))
    p = predict_training(g, 8, "adam")
    assert [r.scope for r in p.layers] == [leaf.scope for leaf in g.leaves]
    assert sum(r.saved_bytes for r in p.layers) == p.saved_bytes
    assert p.grads_bytes == p.weights_bytes == 4 * sum(leaf.cost.params for leaf in g.leaves)
    assert p.optimizer_state_bytes == 2 * p.weights_bytes
    assert p.peak_bytes > p.resident_bytes + p.saved_bytes - p.input_bytes
    inference = predict_inference(g, 8)
    assert inference.grads_bytes == inference.optimizer_state_bytes == inference.saved_bytes == 0
    assert inference.step_peak_bytes < p.step_peak_bytes


def test_unknown_op_is_an_error() -> None:
    @dataclass(frozen=True)
    class Mystery(ops.Op):
        kind: ClassVar[str] = "mystery"

    g = Graph("odd", (3, 4, 4), (Section("all", (OpNode("m", Mystery()),)),))
    with pytest.raises(MemoryModelError, match="Mystery"):
        predict_inference(g, 1)


def _onednn_slack(g: Graph, batch: int) -> int:
    """oneDNN (CPU) copies a conv's input, weight and output into blocked layouts inside the op;
    those copies are freed before it returns, so a measured peak may exceed the prediction by at
    most the largest conv's input + output + weight bytes."""
    convs = [leaf for leaf in g.leaves if isinstance(leaf.op, ops.Conv)]
    return max(
        batch * (numel(c.in_shape) + numel(c.out_shape)) * 4 + c.cost.params * 4 for c in convs
    )


@pytest.mark.parametrize(("name", "size", "batch"), [("resnet20", 32, 8), ("resnet50", 64, 4)])
def test_inference_peak_vs_cpu_profiler(name: str, size: int, batch: int) -> None:
    spec = sized(name, size)
    g = expand(spec)
    m = measure_inference(build(spec, "cpu"), (batch, 3, size, size), "cpu")
    p = predict_inference(g, batch, backend="cpu")
    assert m.resident_bytes == p.resident_bytes
    assert p.step_peak_bytes <= m.step_peak_bytes <= p.step_peak_bytes + _onednn_slack(g, batch)


@pytest.mark.parametrize(
    ("name", "size", "optimizer"),
    [
        ("resnet20", 32, "sgd_momentum"),
        ("resnet20", 32, "adam"),
        ("mobilenet_v2", 64, "sgd_momentum"),
        # every depthwise conv gets a channels-last input (LayerNorm2d, the permutes): oneDNN's
        # NHWC backward scratch (37 MiB for the 768-channel stage) sets the peak here.
        ("convnext_tiny", 32, "sgd_momentum"),
    ],
)
def test_training_peak_vs_cpu_profiler(name: str, size: int, optimizer: Optimizer) -> None:
    spec = sized(name, size)
    g = expand(spec)
    m = measure_training(build(spec, "cpu"), (8, 3, size, size), "cpu", optimizer)
    p = predict_training(g, 8, optimizer, backend="cpu")
    assert p.step_peak_bytes <= m.step_peak_bytes <= p.step_peak_bytes + _onednn_slack(g, 8)


def test_measurement_leaves_the_model_untouched() -> None:
    model = build(sized("resnet20", 16), "cpu")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    measure_training(model, (2, 3, 16, 16), "cpu", "adam")
    saved_tensor_bytes(model, (2, 3, 16, 16))
    assert model.training
    assert all(p.grad is None for p in model.parameters())
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_report_tables_render() -> None:
    g = expand(load_spec("resnet50"))
    p = predict_training(g, 32, "sgd_momentum")
    m = MemoryMeasurement(
        "training", "cuda: test", "cuda max_memory_allocated", 32, "sgd_momentum",
        p.step_peak_bytes + 2**20, p.resident_bytes, "2.x",
    )  # fmt: skip
    console = Console(record=True, width=200)
    console.print(memory_table([(p, m), (predict_inference(g, 32), None)]))
    console.print(memory_layers_table(p))
    text = console.export_text()
    for needle in ("GiB", "MiB", "measured peak", "error", "−0.04%", "layer4", "total"):  # U+2212
        assert needle in text


CUDA_TOLERANCE = 0.05  # the target; H100 + torch 2.11 measured within 0.2% here


@pytest.mark.gpu
@pytest.mark.parametrize("optimizer", ["sgd_momentum", "adam"])
def test_cuda_training_peak_within_5_percent(optimizer: Optimizer) -> None:
    spec = load_spec("resnet50")
    m = measure_training(build(spec, "cpu"), (32, 3, 224, 224), "cuda", optimizer)
    p = predict_training(expand(spec), 32, optimizer)
    assert abs(p.peak_bytes - m.peak_bytes) <= CUDA_TOLERANCE * m.peak_bytes
    assert abs(p.step_peak_bytes - m.step_peak_bytes) <= CUDA_TOLERANCE * m.step_peak_bytes


@pytest.mark.gpu
def test_cuda_inference_peak_within_5_percent() -> None:
    spec = load_spec("resnet50")
    m = measure_inference(build(spec, "cpu"), (32, 3, 224, 224), "cuda")
    p = predict_inference(expand(spec), 32)
    assert abs(p.peak_bytes - m.peak_bytes) <= CUDA_TOLERANCE * m.peak_bytes


@pytest.mark.gpu
def test_cuda_saved_bytes_equal_autograd_hooks() -> None:
    spec = load_spec("resnext50")
    measured = saved_tensor_bytes(build(spec, "cpu"), (8, 3, 224, 224), "cuda")
    assert predict_training(expand(spec), 8, "sgd").saved_bytes == measured
