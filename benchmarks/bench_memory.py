"""Predicted vs measured peak memory of ResNet-50 and ResNeXt-50: inference and a training step.

Usage: python benchmarks/bench_memory.py [BATCH ...] [--optimizers sgd_momentum,adam]
                                         [--models resnet50,resnext50] [--size 224]

On CUDA (default batches 32 and 128) the measurement is torch.cuda.max_memory_allocated above the
step's baseline; on CPU (default batch 4) it is the torch.profiler allocation events. Peaks
include the resident weights, buffers, optimizer state and input batch (see memory_measure);
"step" columns are the part above that baseline. MiB = 2**20 bytes.
"""

from __future__ import annotations

import argparse
import time

import torch

from archprobe.analysis.memory.measure import MemoryMeasurement, measure_inference, measure_training
from archprobe.analysis.memory.model import (
    OPTIMIZERS,
    MemoryPrediction,
    Optimizer,
    predict_inference,
    predict_training,
)
from archprobe.builder.network import build
from archprobe.spec import load_spec
from archprobe.spec.expand import expand

MIB = 2**20


def _error(pred: float, meas: float) -> str:
    return f"{(pred - meas) / meas * 100:+6.2f}%" if meas else "   n/a"


def _line(label: str, p: MemoryPrediction, m: MemoryMeasurement) -> str:
    return (
        f"{label:<34} {p.peak_bytes / MIB:10.1f} {m.peak_bytes / MIB:10.1f} "
        f"{_error(p.peak_bytes, m.peak_bytes)}   {p.step_peak_bytes / MIB:10.1f} "
        f"{m.step_peak_bytes / MIB:10.1f} {_error(p.step_peak_bytes, m.step_peak_bytes)}   "
        f"{p.peak_at}"
    )


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("batches", nargs="*", type=int, help="batch sizes")
    parser.add_argument("--models", default="resnet50,resnext50")
    parser.add_argument("--optimizers", default="sgd_momentum,adam")
    parser.add_argument("--size", type=int, default=224, help="input height and width")
    return parser.parse_args()


def main() -> None:
    args = _args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    batches = args.batches or ([32, 128] if device.type == "cuda" else [4])
    optimizers: list[Optimizer] = [o for o in OPTIMIZERS if o in args.optimizers.split(",")]
    backend = "cuda" if device.type == "cuda" else "cpu"
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    bench = torch.backends.cudnn.benchmark
    print(f"device: {name} · torch {torch.__version__} · cudnn.benchmark={bench} · fp32")
    print(f"{'':<34} {'pred MiB':>10} {'meas MiB':>10} {'error':>7}   {'step pred':>10} "
          f"{'step meas':>10} {'error':>7}   predicted peak at")  # fmt: skip
    for ref in args.models.split(","):
        spec = load_spec(ref)
        spec = spec.model_copy(update={"input": spec.input.model_copy(update={"size": args.size})})
        graph, model = expand(spec), build(spec, "cpu")
        shape = (spec.input.channels, args.size, args.size)
        for batch in batches:
            t0 = time.perf_counter()
            p = predict_inference(graph, batch, backend=backend)
            m = measure_inference(model, (batch, *shape), device)
            print(_line(f"{graph.name} b{batch} inference", p, m))
            for opt in optimizers:
                p = predict_training(graph, batch, opt, backend=backend)
                m = measure_training(model, (batch, *shape), device, opt)
                print(_line(f"{graph.name} b{batch} train {opt}", p, m))
            print(f"{'':<34} ({time.perf_counter() - t0:.1f} s)")


if __name__ == "__main__":
    main()
