"""Learning-curve models of the freeze-thaw algorithms (DPL's power-law ensemble), in PyTorch.

Imported only by the algorithms that use them, when a run starts: the replay engine and ``import harness`` stay
free of torch (``pip install -e ".[generate]"`` or ``torch==2.13.0`` brings it).
"""
