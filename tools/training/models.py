"""The course's models, built for any input size and channel count: ``build_model(name, ...)``."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from coursemate.tools.training.config import MODELS


def _conv_block(in_channels: int, out_channels: int, dropout: float) -> nn.Sequential:
    """3x3 convolution (padding 1, no bias) -> batch norm -> ReLU -> dropout."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
        nn.Dropout2d(dropout),
    )


class MnistCNN(nn.Module):
    """The course's small MNIST CNN: conv blocks with batch norm and dropout, max pooling at a receptive
    field of 5, a 1x1 transition, global average pooling and a 1x1 classifier (about 8k parameters).

    Padded convolutions keep it usable from 8x8 images (digits) up to 32x32 (CIFAR) and beyond.
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10, dropout: float = 0.05) -> None:
        super().__init__()
        self.features = nn.Sequential(
            _conv_block(in_channels, 8, dropout),
            _conv_block(8, 12, dropout),
            nn.MaxPool2d(2),  # receptive field 5 -> edges and gradients are formed
            _conv_block(12, 16, dropout),
            _conv_block(16, 16, dropout),
            nn.MaxPool2d(2),
            _conv_block(16, 20, dropout),
        )
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(20, num_classes, 1), nn.Flatten())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class BasicBlock(nn.Module):
    """ResNet basic block: two 3x3 conv+BN, with a 1x1 projection shortcut when the shape changes."""

    def __init__(self, in_channels: int, out_channels: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False), nn.BatchNorm2d(out_channels)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return torch.relu(out + self.shortcut(x))


class ResNet18(nn.Module):
    """The standard CIFAR ResNet18: 3x3 stem, four stages of two basic blocks (64-128-256-512), GAP, linear."""

    def __init__(self, in_channels: int = 3, num_classes: int = 10) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(in_channels, 64, 3, padding=1, bias=False), nn.BatchNorm2d(64),
                                  nn.ReLU(inplace=True))
        stages, channels = [], 64
        for width, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
            stages += [BasicBlock(channels, width, stride), BasicBlock(width, width, 1)]
            channels = width
        self.stages = nn.Sequential(*stages)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.stages(self.stem(x)))


class MLP(nn.Module):
    """Fully connected baseline: flatten -> 256 -> 128 -> classes, ReLU and dropout between layers."""

    def __init__(self, in_channels: int, image_size: int, num_classes: int = 10, dropout: float = 0.1) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            nn.Flatten(),
            nn.Linear(in_channels * image_size * image_size, 256), nn.ReLU(inplace=True), nn.Dropout(dropout),
            nn.Linear(256, 128), nn.ReLU(inplace=True), nn.Dropout(dropout),
            nn.Linear(128, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


_BUILDERS: dict[str, Callable[[int, int, int], nn.Module]] = {
    "mnist_cnn": lambda channels, size, classes: MnistCNN(channels, classes),
    "resnet18": lambda channels, size, classes: ResNet18(channels, classes),
    "mlp": lambda channels, size, classes: MLP(channels, size, classes),
}
assert set(_BUILDERS) == set(MODELS), "every model named in config.MODELS needs a builder"


def build_model(name: str, in_channels: int, image_size: int, num_classes: int) -> nn.Module:
    """The model ``name`` (a key of ``MODELS``) for square images of ``image_size`` with ``in_channels``."""
    return _BUILDERS[name](in_channels, image_size, num_classes)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
