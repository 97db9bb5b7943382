"""Datasets as in-memory tensors, and batch augmentation: ``load_dataset(name, data_root)``.

Every dataset becomes float images in [0, 1] shaped (N, C, H, W) plus int64 labels, so one training loop
(and one augmentation, done on whole batches on the training device) serves them all. torchvision is
only needed, and only imported, for the datasets that come from it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from coursemate.errors import CoursemateError
from coursemate.tools.training.config import IMAGEFOLDER_PREFIX

SPLIT_SEED = 0  # a split made here (digits, imagefolder) never changes, so runs with different seeds compare fairly
TEST_FRACTION = 0.2
IMAGEFOLDER_SIZE = 32  # imagefolder images are resized to 32x32 RGB


@dataclass(frozen=True)
class Augmentation:
    """Random affine changes applied per image: rotation (degrees), shift (fraction of the side), mirror."""

    max_rotation: float
    max_shift: float
    flip: bool


@dataclass
class ImageDataset:
    """A train/test split held in memory: images in [0, 1], (N, C, H, W); labels int64."""

    name: str
    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor
    classes: list[str]
    augmentation: Augmentation

    @property
    def channels(self) -> int:
        return int(self.train_images.shape[1])

    @property
    def image_size(self) -> int:
        return int(self.train_images.shape[-1])

    @property
    def mean(self) -> torch.Tensor:
        """Per-channel mean of the training images, shaped (1, C, 1, 1)."""
        return self.train_images.mean(dim=(0, 2, 3)).view(1, -1, 1, 1)

    @property
    def std(self) -> torch.Tensor:
        """Per-channel standard deviation of the training images, shaped (1, C, 1, 1)."""
        return self.train_images.std(dim=(0, 2, 3)).clamp_min(1e-6).view(1, -1, 1, 1)


def load_dataset(name: str, data_root: Path, download: bool = False) -> ImageDataset:
    """The dataset ``name`` (see ``config.DATASETS``); torchvision ones are looked for under ``data_root`` and
    fetched from the internet only when ``download`` (the CLI's ``--download``) is true."""
    if name == "digits":
        return _load_digits()
    if name.startswith(IMAGEFOLDER_PREFIX):
        return _load_imagefolder(Path(name[len(IMAGEFOLDER_PREFIX):]))
    return _load_torchvision(name, data_root, download)


def augment_batch(images: torch.Tensor, augmentation: Augmentation, generator: torch.Generator) -> torch.Tensor:
    """Randomly rotate, shift (and mirror) each image of a batch; random numbers come from ``generator`` (CPU)."""
    n = images.shape[0]
    angles = (torch.rand(n, generator=generator) * 2 - 1) * math.radians(augmentation.max_rotation)
    shifts = (torch.rand(n, 2, generator=generator) * 2 - 1) * 2 * augmentation.max_shift  # grid spans [-1, 1]
    mirror = torch.ones(n)
    if augmentation.flip:
        mirror = torch.where(torch.rand(n, generator=generator) < 0.5, -1.0, 1.0)
    cos, sin = torch.cos(angles), torch.sin(angles)
    theta = torch.stack([
        torch.stack([cos * mirror, -sin, shifts[:, 0]], dim=1),
        torch.stack([sin * mirror, cos, shifts[:, 1]], dim=1),
    ], dim=1).to(images.device)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, padding_mode="zeros", align_corners=False)


def _load_digits() -> ImageDataset:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float32)[:, None, :, :]
    x_train, x_test, y_train, y_test = train_test_split(
        images, digits.target, test_size=TEST_FRACTION, random_state=SPLIT_SEED, stratify=digits.target
    )
    return ImageDataset(
        "digits", torch.from_numpy(x_train), torch.from_numpy(y_train).long(), torch.from_numpy(x_test),
        torch.from_numpy(y_test).long(), [str(d) for d in range(10)], Augmentation(10.0, 1 / 8, False),
    )


_TORCHVISION = {  # name -> (torchvision class name, augmentation)
    "mnist": ("MNIST", Augmentation(7.0, 2 / 28, False)),
    "fashion-mnist": ("FashionMNIST", Augmentation(7.0, 2 / 28, True)),
    "cifar10": ("CIFAR10", Augmentation(0.0, 4 / 32, True)),
}


def _import_torchvision(dataset: str):
    try:
        import torchvision
    except ImportError:
        raise CoursemateError(
            f"dataset {dataset!r} needs torchvision, which is not installed (pip install torchvision); "
            "the offline choice is 'digits'"
        ) from None
    except Exception as exc:  # noqa: BLE001 - e.g. a torchvision build that does not match the installed torch
        raise CoursemateError(
            f"dataset {dataset!r} needs torchvision, which failed to load ({type(exc).__name__}: {exc}); "
            "install the build matching your torch, or use 'digits'"
        ) from None
    return torchvision


def _load_torchvision(name: str, data_root: Path, download: bool) -> ImageDataset:
    torchvision = _import_torchvision(name)
    class_name, augmentation = _TORCHVISION[name]
    dataset_class = getattr(torchvision.datasets, class_name)
    splits = []
    for train in (True, False):
        try:
            split = dataset_class(str(data_root), train=train, download=False)
        except RuntimeError:  # not found locally: fetched only when the user asked for it
            if not download:
                raise CoursemateError(
                    f"dataset {name!r} is not under {data_root}; copy its files there, or fetch it with "
                    f"`coursemate train --dataset {name} --download` (offline, use 'digits')"
                ) from None
            try:
                split = dataset_class(str(data_root), train=train, download=True)
            except Exception as exc:  # noqa: BLE001 - network, checksum or archive errors: one clear message
                raise CoursemateError(
                    f"dataset {name!r} is not under {data_root} and cannot be downloaded "
                    f"({type(exc).__name__}: {exc}); "
                    "offline, use the 'digits' dataset or copy the files there first"
                ) from None
        splits.append(split)
    train_split, test_split = splits
    return ImageDataset(
        name, *_tensors(train_split.data, train_split.targets), *_tensors(test_split.data, test_split.targets),
        list(train_split.classes), augmentation,
    )


def _tensors(data, targets) -> tuple[torch.Tensor, torch.Tensor]:
    """uint8 images (N, H, W) or (N, H, W, C) -> float (N, C, H, W) in [0, 1]; labels -> int64."""
    images = torch.as_tensor(np.asarray(data))
    images = images[:, None] if images.ndim == 3 else images.permute(0, 3, 1, 2)
    return images.float().div_(255.0).contiguous(), torch.as_tensor(np.asarray(targets)).long()


def _load_imagefolder(folder: Path) -> ImageDataset:
    torchvision = _import_torchvision(IMAGEFOLDER_PREFIX + str(folder))
    from torchvision import transforms

    transform = transforms.Compose([
        transforms.Lambda(lambda image: image.convert("RGB")),
        transforms.Resize((IMAGEFOLDER_SIZE, IMAGEFOLDER_SIZE)),
        transforms.ToTensor(),
    ])

    def read(path: Path):
        try:
            return torchvision.datasets.ImageFolder(str(path), transform=transform)
        except (FileNotFoundError, RuntimeError) as exc:
            raise CoursemateError(
                f"imagefolder {str(path)!r}: {exc} (expected PATH/<class name>/<image files>)") from None

    if (folder / "train").is_dir() and (folder / "test").is_dir():
        train, test = read(folder / "train"), read(folder / "test")
        if train.classes != test.classes:
            raise CoursemateError(f"imagefolder {str(folder)!r}: train and test have different class folders")
        x_train, y_train = _stack(train)
        x_test, y_test = _stack(test)
    else:
        train = read(folder)
        images, labels = _stack(train)
        order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(SPLIT_SEED))
        n_test = max(1, int(len(labels) * TEST_FRACTION))
        x_test, y_test = images[order[:n_test]], labels[order[:n_test]]
        x_train, y_train = images[order[n_test:]], labels[order[n_test:]]
    return ImageDataset(
        IMAGEFOLDER_PREFIX + str(folder), x_train, y_train, x_test, y_test, list(train.classes),
        Augmentation(10.0, 0.1, True),
    )


def _stack(dataset) -> tuple[torch.Tensor, torch.Tensor]:
    images, labels = zip(*(dataset[i] for i in range(len(dataset))))
    return torch.stack(images), torch.tensor(labels, dtype=torch.long)
