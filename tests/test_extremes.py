"""Accepted extremes (issue 11, item 8): every accepted parameter value gets a correct
verdict and finite output, or is refused with exit code 2 and one line saying why."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from click.testing import CliRunner

from actcheck.activations import CATALOG, ActivationError, get
from actcheck.catalogcheck import gradcheck
from actcheck.cli import cli
from actcheck.errors import InputError

# The reliability battery's lines for this class: (arguments, exit code, what stderr says)
BATTERY = [
    (["gradcheck", "hardtanh:min_val=-1e-300,max_val=1e-300"], 0, ""),
    (["gradcheck", "softplus:beta=1e300"], 2, "beta must be between 0.001 and 1e+03"),
    (["gradcheck", "celu:alpha=1e-300"], 2, "alpha must be at least 0.001"),
    (["gradcheck", "softplus:beta=1e-300", "--dtype", "float32"], 2, "beta must be between"),
    (["gradcheck", "elu:alpha=1e300", "--dtype", "float32"], 2, "too large for float32"),
    (["gradcheck", "--dtype", "float32", "--range", "-1e39", "1e39"], 2, "range must lie within"),
    (["list", "softplus:beta=5e-324", "--json"], 2, "beta must be between"),
    (["list", "celu:alpha=5e-324"], 2, "alpha must be at least"),
    (["plot", "elu:alpha=1e308", "-o", "{tmp}/elu.png"], 2, "too large for float64"),
    (["gradcheck", "softplus:beta=5e-324", "--plot", "{tmp}/g.png"], 2, "beta must be between"),
    (["gradcheck", "softplus:beta=1e3", "celu:alpha=1e-3", "--points", "2000"], 0, ""),
    (["gradcheck", "softplus:beta=0.01,threshold=-1e36", "--dtype", "float32"], 2, "kink"),
    (["gradcheck", "leaky_relu:negative_slope=1e8", "--dtype", "float32"], 2, "at most 3.4e+07"),
]


@pytest.mark.parametrize(
    ("args", "code", "message"), BATTERY, ids=[" ".join(c[0]) for c in BATTERY]
)
def test_battery(args, code, message, tmp_path):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    if args[0] == "gradcheck" and "--points" not in args:
        args += ["--points", "500"]
    r = CliRunner().invoke(cli, args)
    assert r.exit_code == code, r.output
    if code == 2:
        assert message in r.output
        assert "Traceback" not in r.output
        assert not list(tmp_path.iterdir())  # nothing written


def test_refusal_is_one_line_naming_the_reason():
    with pytest.raises(InputError) as info:
        get("softplus", beta=1e300)
    assert "\n" not in str(info.value)
    assert str(info.value).startswith("softplus: beta=1e+300")


def test_float32_refuses_a_value_float64_accepts():
    act = get("elu", alpha=1e300)
    act.check_dtype("float64")
    with pytest.raises(ActivationError, match="too large for float32"):
        act.check_dtype("float32")
    with pytest.raises(InputError, match="too large for float32"):
        gradcheck(act, dtype="float32", points=10)


def test_slope_limit_follows_the_range():
    act = get("leaky_relu", negative_slope=1e7)
    assert gradcheck(act, dtype="float32", points=200).passed
    with pytest.raises(InputError, match="negative_slope"):
        gradcheck(act, dtype="float32", points=200, x_range=(-1e31, 1e31))


def test_positions_may_be_tiny():
    """Clamps only compare with x: subnormal ones, or ones that round to 0 in float32, pass."""
    for spec in ("hardtanh:min_val=-1e-300,max_val=1e-300", "hardtanh:min_val=2.2e-313"):
        for dtype in ("float64", "float32"):
            for order in (1, 2):
                assert gradcheck(spec, dtype=dtype, points=300, order=order).passed


def _values(prm) -> list[float]:
    """Each parameter's bounds and beyond: powers of ten, the dtype limits, ±, 0."""
    mags = [5e-324, 1e-310, 2.2250738585072014e-308, 1e-300, 1e-100, 1e-45, 1e-39, 1e-38]
    mags += [10.0**e for e in range(-30, 31, 3)] + [1e3, 1e-3, 1e2, 1e-2, 3.4e7, 3.5e7]
    mags += [2.1e37, 2.2e37, 3.4e38, 1e39, 1e100, 1e277, 1e278, 1e300, 1.1e307, 1.2e307]
    mags += [1.7976931348623157e308]
    return [0.0, *mags, *(-m for m in mags)]


def _sweep_cases():
    for name, entry in CATALOG.items():
        for prm in entry.params:
            if prm.choices is None:
                yield pytest.param(name, prm.name, id=f"{name}-{prm.name}")


@pytest.mark.parametrize(("name", "param"), list(_sweep_cases()))
def test_sweep_every_parameter_extreme(name, param):
    """Every parameter across its bounds, both dtypes, both orders: pass or refuse, never
    fail a correct built-in, never warn or crash, and list's JSON stays finite."""
    failures = []
    prm = next(p for p in CATALOG[name].params if p.name == param)
    for v in _values(prm):
        try:
            act = get(name, **{param: v})
        except ActivationError:
            continue
        data = act.to_dict()
        assert all(math.isfinite(k["x"]) for k in data["kinks"]), (v, data["kinks"])
        json.dumps(data, allow_nan=False)
        for dtype in ("float64", "float32"):
            try:
                act.check_dtype(dtype)
            except ActivationError:
                continue
            for order in (1, 2):
                r = gradcheck(act, dtype=dtype, points=200, order=order)
                if not r.passed:
                    failures.append(f"{act.spec} {dtype} order {order}: {r.summary()}")
            y = act.forward(np.linspace(-6, 6, 101).astype(dtype))
            assert np.isfinite(y).all(), (act.spec, dtype)
    assert not failures, "\n".join(failures)


def test_list_states_the_accepted_range_per_dtype():
    r = CliRunner().invoke(cli, ["list", "softplus", "--json"])
    assert r.exit_code == 0
    beta = json.loads(r.output)[0]["params"][0]
    assert beta["range"] == "> 0 (float64: 0.001 to 1e+03; float32: 0.01 to 100)"
