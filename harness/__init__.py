"""lc-harness: offline replay and benchmarking of HPO algorithms over recorded learning curves."""

from __future__ import annotations

__version__ = "0.1.0"
