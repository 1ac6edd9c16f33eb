"""Training data: offline sources for tests (sklearn digits, the shared CIFAR-10 subset, PTB / tiny-
shakespeare text) and downloaders for users with internet (torchvision CIFAR-10 / SVHN, TinyImageNet
folder). Every loader returns tensors that the engine moves to the device once."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

IMAGE_SOURCES = ("digits", "cifar10_subset", "cifar10", "svhn", "tinyimagenet")
TEXT_SOURCES = ("shakespeare", "ptb")


@dataclass
class ImageData:
    x_train: torch.Tensor  # float32 (N, C, H, W), normalised
    y_train: torch.Tensor  # int64
    x_val: torch.Tensor
    y_val: torch.Tensor
    classes: int

    @property
    def shape(self) -> dict[str, int]:
        return {"channels": self.x_train.shape[1], "side": self.x_train.shape[2], "classes": self.classes}


@dataclass
class TextData:
    train: torch.Tensor  # int64 token ids (L,)
    val: torch.Tensor
    vocab: int
    seq_len: int

    @property
    def shape(self) -> dict[str, int]:
        return {"vocab": self.vocab}


def _normalise(x: np.ndarray, mean: np.ndarray, std: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(((x - mean) / std).astype(np.float32))


def _split(x: np.ndarray, y: np.ndarray, n_val: int, seed: int) -> tuple[np.ndarray, ...]:
    idx = np.random.default_rng(seed).permutation(len(x))
    return x[idx[n_val:]], y[idx[n_val:]], x[idx[:n_val]], y[idx[:n_val]]


def load_images(source: str, root: str | Path | None = None, *, n_train: int | None = None,
                n_val: int | None = None, seed: int = 0, downsample: int = 1) -> ImageData:
    """Images as normalised tensors. ``downsample`` f > 1 averages f x f pixel blocks (CIFAR-10 at 16 x 16 for
    f = 2, as the down-sampled ImageNet variants do): a convolution then costs 1/f^2, how a CPU-sized population
    of deep networks fits its budget."""
    if not isinstance(downsample, int) or isinstance(downsample, bool) or downsample < 1:
        raise ValueError(f"data.downsample is {downsample!r}, but must be an integer >= 1")
    if source == "digits":
        from sklearn.datasets import load_digits

        d = load_digits()
        x = (d.images[:, None] / 16.0).astype(np.float32)
        xtr, ytr, xva, yva = _split(x, d.target, n_val or 540, seed)
    elif source == "cifar10_subset":
        path = Path(root or "") / "cifar10_subset_10k_2k.npz"
        if not path.is_file():
            raise FileNotFoundError(f"{path}: CIFAR-10 subset not found (set data.root to ../shared/data/train)")
        z = np.load(path, allow_pickle=False)
        xtr = z["x_train"].transpose(0, 3, 1, 2) / 255.0
        xva = z["x_test"].transpose(0, 3, 1, 2) / 255.0
        ytr, yva = z["y_train"].astype(np.int64), z["y_test"].astype(np.int64)
    elif source in ("cifar10", "svhn"):
        import torchvision  # optional: users with internet

        root = Path(root or "~/.cache/lc-harness/data").expanduser()
        if source == "cifar10":
            tr = torchvision.datasets.CIFAR10(root, train=True, download=True)
            va = torchvision.datasets.CIFAR10(root, train=False, download=True)
            xtr, ytr = tr.data.transpose(0, 3, 1, 2) / 255.0, np.array(tr.targets)
            xva, yva = va.data.transpose(0, 3, 1, 2) / 255.0, np.array(va.targets)
        else:
            tr = torchvision.datasets.SVHN(root, split="train", download=True)
            va = torchvision.datasets.SVHN(root, split="test", download=True)
            xtr, ytr, xva, yva = tr.data / 255.0, tr.labels, va.data / 255.0, va.labels
    elif source == "tinyimagenet":
        xtr, ytr, xva, yva = _tinyimagenet(Path(root or "tiny-imagenet-200"))
    else:
        raise ValueError(f"image source is {source!r}, but must be one of {IMAGE_SOURCES}")
    classes = int(max(np.max(ytr), np.max(yva)) + 1)
    # files are often sorted by class: take seeded random subsets, never the first rows
    rng = np.random.default_rng(seed)
    if n_train and n_train < len(xtr):
        keep = np.sort(rng.choice(len(xtr), n_train, replace=False))
        xtr, ytr = xtr[keep], np.asarray(ytr)[keep]
    if n_val and n_val < len(xva) and source != "digits":
        keep = np.sort(rng.choice(len(xva), n_val, replace=False))
        xva, yva = xva[keep], np.asarray(yva)[keep]
    if downsample > 1:
        xtr, xva = _pool(xtr, downsample), _pool(xva, downsample)
    mean = xtr.mean(axis=(0, 2, 3), keepdims=True)
    std = xtr.std(axis=(0, 2, 3), keepdims=True) + 1e-6
    return ImageData(_normalise(xtr, mean, std), torch.as_tensor(np.asarray(ytr), dtype=torch.long),
                     _normalise(xva, mean, std), torch.as_tensor(np.asarray(yva), dtype=torch.long), classes)


def _pool(x: np.ndarray, f: int) -> np.ndarray:
    """Average of f x f pixel blocks of (N, C, H, W) images (H and W cropped to multiples of f)."""
    n, c, h, w = x.shape
    if h < f or w < f:
        raise ValueError(f"data.downsample is {f}, but the images are only {h} x {w}")
    x = x[:, :, : h - h % f, : w - w % f]
    return x.reshape(n, c, h // f, f, w // f, f).mean(axis=(3, 5))


def _tinyimagenet(root: Path) -> tuple[np.ndarray, ...]:
    """TinyImageNet-200 folder layout (train/<wnid>/images/*.JPEG, val/images + val_annotations.txt)."""
    from PIL import Image

    if not (root / "train").is_dir():
        raise FileNotFoundError(f"{root}/train: TinyImageNet folder not found (download tiny-imagenet-200.zip)")
    wnids = sorted(p.name for p in (root / "train").iterdir())
    cls = {w: i for i, w in enumerate(wnids)}
    xs, ys = [], []
    for w in wnids:
        for f in sorted((root / "train" / w / "images").glob("*.JPEG")):
            xs.append(np.asarray(Image.open(f).convert("RGB")))
            ys.append(cls[w])
    xv, yv = [], []
    for line in (root / "val" / "val_annotations.txt").read_text().splitlines():
        name, w = line.split("\t")[:2]
        xv.append(np.asarray(Image.open(root / "val" / "images" / name).convert("RGB")))
        yv.append(cls[w])
    tr = np.stack(xs).transpose(0, 3, 1, 2) / 255.0
    va = np.stack(xv).transpose(0, 3, 1, 2) / 255.0
    return tr, np.array(ys), va, np.array(yv)


def load_text(source: str, root: str | Path | None = None, *, n_train: int = 200_000, n_val: int = 20_000,
              seq_len: int = 64, level: str = "char", max_vocab: int | None = None) -> TextData:
    """Character- (or word-) level corpus. ``ptb`` uses ptb.valid.txt for training and ptb.test.txt for
    validation when ptb.train.txt is absent (the shared snapshot lacks it). ``max_vocab`` keeps the
    ``max_vocab - 1`` most frequent training tokens (ties by token) and maps the rest to ``<unk>``:
    the output softmax dominates a small LSTM's cost, so this is how a CPU-sized population shrinks it."""
    root = Path(root or "")
    if source == "shakespeare":
        path = root / "tinyshakespeare" / "input.txt"
        if not path.is_file():
            raise FileNotFoundError(f"{path}: tiny-shakespeare not found (set data.root to ../shared/data/train)")
        text = path.read_text()
        train_text, val_text = text[:-n_val], text[-n_val:]
    elif source == "ptb":
        d = root / "ptb"
        tr = d / "ptb.train.txt" if (d / "ptb.train.txt").is_file() else d / "ptb.valid.txt"
        if not tr.is_file():
            raise FileNotFoundError(f"{tr}: Penn Treebank text not found (set data.root to ../shared/data/train)")
        train_text, val_text = tr.read_text(), (d / "ptb.test.txt").read_text()
    else:
        raise ValueError(f"text source is {source!r}, but must be one of {TEXT_SOURCES}")
    if level == "word":
        train_tok, val_tok = train_text.split()[:n_train], val_text.split()[:n_val]
    else:
        train_tok, val_tok = list(train_text[:n_train]), list(val_text[:n_val])
    if max_vocab is not None:
        if max_vocab < 2:
            raise ValueError(f"max_vocab is {max_vocab}, but must be >= 2 (one token plus <unk>)")
        from collections import Counter

        counts = Counter(train_tok)
        counts.pop("<unk>", None)
        keep = {t for t, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:max_vocab - 1]}
        train_tok = [t if t in keep else "<unk>" for t in train_tok]
        val_tok = [t if t in keep else "<unk>" for t in val_tok]
    vocab = {t: i for i, t in enumerate(sorted(set(train_tok) | set(val_tok)))}
    enc = lambda toks: torch.tensor([vocab[t] for t in toks], dtype=torch.long)  # noqa: E731
    return TextData(enc(train_tok), enc(val_tok), len(vocab), seq_len)
