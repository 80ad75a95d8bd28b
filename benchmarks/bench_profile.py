"""``archprobe.profile(model)`` against what a user would write by hand, and against fvcore,
measured interleaved in one run (rounds of A B C, the order rotated each round; medians).

Sides, on the same CPU-built model each (weights in memory, as a user's model is):
  profile   ``archprobe.profile(model)``: forward counts, catalog match included
  naive     ``copy.deepcopy(model).to("meta").eval()``, then one forward on a meta input under
            ``torch.no_grad()`` and ``FlopCounterMode`` (the fastest way to write it by hand)
  fvcore    ``FlopCountAnalysis(model, x).total()`` on a real CPU input (jit trace + run)
and, for information, ``profile(model, backward=True)`` against the naive forward + backward,
and naive's forward alone (its model already on meta: what naive would cost if its copy were
free, the floor of counting with FlopCounterMode on a copy). naive and fvcore are measured with
torch's default intra-op threads and with one thread, and each is credited with its better
median (``one_thread``): on a shared machine the thread pool's waits would otherwise flatter
profile.

Models: resnet50, convnext_tiny and mobilenet_v3_large built from archprobe's catalog specs,
a VGG-16 (torchvision's layout, written here) and a DenseNet-121-like module written here.
Targets (issue 16): profile <= 0.6x naive and faster than fvcore on every model.
Run: python benchmarks/bench_profile.py [--rounds N] [--models a,b]
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time
from collections.abc import Callable

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

# torchvision vgg.py cfgs["D"]: output channels of each 3x3 conv, "M" a 2x2 max pool.
VGG16 = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M")


def vgg16() -> nn.Module:
    """torchvision's vgg16 (configuration "D"): 138,357,544 parameters, 553 MB of fp32."""
    layers: list[nn.Module] = []
    cin = 3
    for v in VGG16:
        if isinstance(v, str):
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(cin, v, 3, padding=1), nn.ReLU(inplace=True)]
            cin = v
    model = nn.Sequential()
    model.features = nn.Sequential(*layers)
    model.avgpool = nn.AdaptiveAvgPool2d((7, 7))
    model.flatten = nn.Flatten()
    model.classifier = nn.Sequential(
        nn.Linear(512 * 7 * 7, 4096), nn.ReLU(True), nn.Dropout(),
        nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(), nn.Linear(4096, 1000),
    )  # fmt: skip
    return model


class DenseLayer(nn.Module):
    """BN-ReLU-conv1x1 (4k channels) - BN-ReLU-conv3x3 (k), concatenated to its input."""

    def __init__(self, cin: int, growth: int) -> None:
        super().__init__()
        self.norm1, self.conv1 = nn.BatchNorm2d(cin), nn.Conv2d(cin, 4 * growth, 1, bias=False)
        self.norm2 = nn.BatchNorm2d(4 * growth)
        self.conv2 = nn.Conv2d(4 * growth, growth, 3, padding=1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv1(torch.relu(self.norm1(x)))
        return torch.cat([x, self.conv2(torch.relu(self.norm2(y)))], 1)


def densenet121_like(growth: int = 32, blocks: tuple[int, ...] = (6, 12, 24, 16)) -> nn.Module:
    """DenseNet-121's shape (Huang et al. 2017, Table 1): dense blocks with halving transitions."""
    layers: list[nn.Module] = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64),
                               nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1)]  # fmt: skip
    c = 64
    for i, n in enumerate(blocks):
        for _ in range(n):
            layers.append(DenseLayer(c, growth))
            c += growth
        if i < len(blocks) - 1:
            layers += [nn.BatchNorm2d(c), nn.ReLU(inplace=True), nn.Conv2d(c, c // 2, 1),
                       nn.AvgPool2d(2, 2)]  # fmt: skip
            c //= 2
    layers += [nn.BatchNorm2d(c), nn.ReLU(inplace=True), nn.AdaptiveAvgPool2d(1), nn.Flatten()]
    return nn.Sequential(*layers, nn.Linear(c, 1000))


def catalog_model(name: str) -> nn.Module:
    from archprobe.builder.network import build
    from archprobe.spec import load_spec

    return build(load_spec(name), device="cpu")


MODELS: dict[str, Callable[[], nn.Module]] = {
    "resnet50": lambda: catalog_model("resnet50"),
    "convnext_tiny": lambda: catalog_model("convnext_tiny"),
    "mobilenet_v3_large": lambda: catalog_model("mobilenet_v3_large"),
    "vgg16 (hand-written)": vgg16,
    "densenet121-like": densenet121_like,
}
SHAPE = (1, 3, 224, 224)


def naive(model: nn.Module, backward: bool = False) -> int:
    private = copy.deepcopy(model).to("meta").eval()
    return counted(private, backward)


def counted(private: nn.Module, backward: bool = False) -> int:
    """The hand-written count's forward (and backward) under FlopCounterMode, on meta."""
    x = torch.zeros(SHAPE, device="meta", requires_grad=backward)
    with torch.set_grad_enabled(backward), FlopCounterMode(display=False) as counter:
        out = private(x)
        if backward:
            out.sum().backward()
    return int(counter.get_total_flops())


def fvcore(model: nn.Module) -> int:
    from fvcore.nn import FlopCountAnalysis

    with torch.no_grad():
        analysis = FlopCountAnalysis(model.eval(), torch.zeros(SHAPE))
        analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
        return int(analysis.total())


def one_thread(side: Callable[[], object]) -> Callable[[], object]:
    """``side`` run with one intra-op thread. The competitors get the better of the two: on a
    loaded machine torch's thread pool waits for a busy core, and naive's weight copy took 3.7x
    the CPU time with two threads than with one (ConvNeXt-T, load 5 on 2 cores), which would
    flatter profile (meta tensors run no parallel kernel either way)."""

    def run() -> object:
        before = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return side()
        finally:
            torch.set_num_threads(before)

    return run


def interleaved(
    sides: dict[str, Callable[[], object]], rounds: int
) -> tuple[dict[str, float], dict[str, float]]:
    """Median wall and CPU seconds per side; each round runs every side once, the order rotated
    (CPU time is less inflated than wall time when other processes share the cores)."""
    names = list(sides)
    wall: dict[str, list[float]] = {n: [] for n in names}
    cpu: dict[str, list[float]] = {n: [] for n in names}
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            start, start_cpu = time.perf_counter(), time.process_time()
            sides[name]()
            wall[name].append(time.perf_counter() - start)
            cpu[name].append(time.process_time() - start_cpu)
    med = statistics.median
    return {n: med(v) for n, v in wall.items()}, {n: med(v) for n, v in cpu.items()}


def sides_of(model: nn.Module) -> dict[str, Callable[[], object]]:
    import archprobe

    on_meta = copy.deepcopy(model).to("meta").eval()
    sides: dict[str, Callable[[], object]] = {
        "profile": lambda: archprobe.profile(model),
        "naive": lambda: naive(model),
        "fvcore": lambda: fvcore(model),
        "forward": lambda: counted(on_meta),  # naive without its copy: its floor
        "profile+bwd": lambda: archprobe.profile(model, backward=True),
        "naive+bwd": lambda: naive(model, backward=True),
    }
    for name in ("naive", "fvcore", "naive+bwd"):
        sides[name + "/1"] = one_thread(sides[name])
    return sides


def best(times: dict[str, float]) -> dict[str, float]:
    """Each competitor's time at its better thread count (``one_thread``)."""
    out = {k: v for k, v in times.items() if not k.endswith("/1")}
    for name in ("naive", "fvcore", "naive+bwd"):
        out[name] = min(times[name], times[name + "/1"])
    return out


def bench(label: str, model: nn.Module, rounds: int) -> tuple[float, float]:
    import archprobe

    start = time.perf_counter()
    p = archprobe.profile(model)  # the first call of the process builds the catalog index
    first = time.perf_counter() - start
    assert p.total("flops") == naive(model), "profile and FlopCounterMode disagree"
    sides = sides_of(model)
    for side in sides.values():
        side()  # warm-up
    wall, cpu = interleaved(sides, rounds)
    t, c = best(wall), best(cpu)
    ms = {k: v * 1e3 for k, v in t.items()}
    threads = {k: "1" if wall[k + "/1"] < wall[k] else str(torch.get_num_threads())
               for k in ("naive", "fvcore")}  # fmt: skip
    print(f"\n{label}: {p.total('params'):,.0f} params, {p.total('macs'):,.0f} MACs, match "
          f"{p.match or 'none'} (first call {first * 1e3:.0f} ms)")  # fmt: skip
    print(f"  profile {ms['profile']:7.1f} ms | naive {ms['naive']:7.1f} ms "
          f"({threads['naive']}t) | fvcore {ms['fvcore']:7.1f} ms ({threads['fvcore']}t) | "
          f"profile/naive {t['profile'] / t['naive']:.2f}x (<= 0.6) | profile/fvcore "
          f"{t['profile'] / t['fvcore']:.2f}x (< 1)")  # fmt: skip
    print(f"  CPU time: profile {c['profile'] * 1e3:7.1f} ms | naive {c['naive'] * 1e3:7.1f} ms | "
          f"fvcore {c['fvcore'] * 1e3:7.1f} ms | profile/naive {c['profile'] / c['naive']:.2f}x | "
          f"profile/fvcore {c['profile'] / c['fvcore']:.2f}x")  # fmt: skip
    print(f"  naive's forward alone (its copy left out) {ms['forward']:7.1f} ms, "
          f"{c['forward'] * 1e3:.1f} ms CPU: profile/forward {t['profile'] / t['forward']:.2f}x, "
          f"{c['profile'] / c['forward']:.2f}x CPU")  # fmt: skip
    print(f"  with backward: profile {ms['profile+bwd']:7.1f} ms | naive {ms['naive+bwd']:7.1f} "
          f"ms | {t['profile+bwd'] / t['naive+bwd']:.2f}x")  # fmt: skip
    return t["profile"] / t["naive"], t["profile"] / t["fvcore"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--models", default=",".join(MODELS), help="comma-separated labels")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, {args.rounds} rounds")
    ratios = {}
    for label in args.models.split(","):
        ratios[label] = bench(label, MODELS[label](), args.rounds)
    ok = all(a <= 0.6 and b < 1 for a, b in ratios.values())
    worst_naive = max(a for a, _ in ratios.values())
    worst_fvcore = max(b for _, b in ratios.values())
    print(f"\nworst profile/naive {worst_naive:.2f}x, worst profile/fvcore {worst_fvcore:.2f}x: "
          f"{'targets met' if ok else 'TARGET MISSED'}")  # fmt: skip


if __name__ == "__main__":
    main()
