"""Hand-written modules for the profile tests, with their costs computable by hand."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class FunctionalCNN(nn.Module):
    """conv (functional) -> relu -> + x -> mean -> matmul -> * 2: every category, small numbers.

    Input (1, 2, 4, 4). Hand counts: conv 3×3, 2->2, padding 1: 2·2·9·16 = 576 MACs, 32 acts;
    matmul (1, 2) @ (2, 3): 6 MACs, 3 acts; relu 32, add 32, mul 3 element ops; mean reads 32.
    Params: weight 36 + proj 6 = 42.
    """

    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(2, 2, 3, 3))
        self.head = Head()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(F.conv2d(x, self.weight, padding=1))
        y = y + x  # elementwise add, written functionally
        return self.head(y.mean(dim=(2, 3)))


class Head(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.proj = nn.Parameter(torch.ones(2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.matmul(x, self.proj) * 2


class DataDependent(nn.Module):
    """Branches on a tensor's value: meta tensors cannot say whether ``x.sum() > 0``."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.sum() > 0:
            return self.fc(x)
        return self.fc(-x)


def functional_cnn() -> nn.Module:
    return FunctionalCNN()


def data_dependent() -> nn.Module:
    return DataDependent()


def resnet50() -> nn.Module:
    """A module equivalent to torchvision's resnet50 (same names and shapes), built by archprobe."""
    from archprobe.builder.network import build
    from archprobe.spec import load_spec

    return build(load_spec("resnet50"), device="cpu")


def raising(num_classes: int = 10) -> nn.Module:
    raise ValueError(f"no weights for num_classes={num_classes}")


def not_a_module() -> int:
    return 3


def cifar_resnet20() -> nn.Module:
    """archprobe's resnet20 built as a plain module (what a user's own CIFAR ResNet would be)."""
    from archprobe.builder.network import build
    from archprobe.spec import load_spec

    return build(load_spec("resnet20"), device="cpu")
