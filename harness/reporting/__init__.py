"""Tables, figures and the papers' reference numbers.

* :mod:`.replay`: replay summary tables (with legends), JSON-lines run records, anytime plots;
* :mod:`.predict`: the prediction experiments' tables and Fig. 3;
* :mod:`.results`: the per-experiment writers of ``harness reproduce`` (results/*.md, *.csv, *.png);
* :mod:`.paper`: the papers' numbers and results/README.md, which sets ours beside them.
"""
