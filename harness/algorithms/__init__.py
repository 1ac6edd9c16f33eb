"""HPO algorithms, each a :class:`harness.sim.Scheduler`."""

from __future__ import annotations
