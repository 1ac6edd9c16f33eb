from __future__ import annotations

import pytest

from harness import hb


def test_li_table_r81_eta3():
    assert hb.table(81, 3) == (
        "s=4: (81,1)(27,3)(9,9)(3,27)(1,81)\n"
        "s=3: (34,3)(11,9)(3,27)(1,81)\n"
        "s=2: (15,9)(5,27)(1,81)\n"
        "s=1: (8,27)(2,81)\n"
        "s=0: (5,81)"
    )


def test_swift_table_r100_eta2_half_even():
    # 12.5 rounds to 12 (half-even): the published 3213 depends on it
    assert hb.table(100, 2).splitlines()[0] == "s=6: (64,2)(32,3)(16,6)(8,12)(4,25)(2,50)(1,100)"
    assert hb.table(100, 2).splitlines()[-1] == "s=0: (7,100)"


@pytest.mark.parametrize(
    "R,eta,resume,scratch,configs",
    [(100, 2, 3213, 4590, 163), (300, 2, 15380, 23114, 608), (81, 3, 1581, 1902, 143), (35, 2, 872, 1227, 84)],
)
def test_epoch_totals_match_spec(R, eta, resume, scratch, configs):
    assert hb.hyperband_epochs(R, eta, "resume") == resume
    assert hb.hyperband_epochs(R, eta, "scratch") == scratch
    assert hb.hyperband_configs(R, eta) == configs


def test_integer_smax_avoids_float_log():
    assert hb.max_bracket(1000, 10) == 3  # floor(log10(1000)) in floats gives 2
    assert hb.max_bracket(1, 3) == 0


@pytest.mark.parametrize("R,eta,msg", [(100, 1, "eta is 1, but must be"), (0, 3, "R is 0"), (10.5, 3, "R is 10.5")])
def test_bad_params(R, eta, msg):
    with pytest.raises(ValueError, match=msg):
        hb.brackets(R, eta)


def test_quantile_is_numpys_bit_for_bit():
    """hb.quantile replaces np.quantile in Swift's and ASHA's decisions: the same float on random lists with
    ties, infinities (losses of diverged runs), one value, and q at 0, 1 and in between; NaN for a NaN."""
    import math

    import numpy as np

    rng = np.random.default_rng(0)
    for _ in range(20_000):
        n = int(rng.integers(1, 40))
        x = rng.normal(size=n) * 10 ** rng.uniform(-3, 3)
        kind = int(rng.integers(3))
        if kind == 1:
            x = rng.integers(0, 5, n).astype(float)  # ties
        elif kind == 2:
            x[rng.random(n) < 0.3] = np.inf
        q = float(rng.choice([0.0, 0.25, 0.5, 1.0, rng.random()]))
        with np.errstate(invalid="ignore"):
            ref = float(np.quantile(x.tolist(), q))
        got = hb.quantile(x.tolist(), q)
        assert got == ref or (math.isnan(got) and math.isnan(ref)), (x, q, got, ref)
    assert math.isnan(hb.quantile([1.0, float("nan")], 0.5))
    with pytest.raises(ValueError, match="no values"):
        hb.quantile([], 0.5)
