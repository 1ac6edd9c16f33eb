"""Generate stage: train real CNN / ResNet / LSTM populations with PyTorch and record their curves."""

from __future__ import annotations
