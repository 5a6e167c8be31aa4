"""Checking the user's own layer: backward against forward, with the bug named.

Where things are:

* ``check``: ``check_impl`` / ``assert_impl`` and the order of the run;
* ``detectors``: the contract (exceptions, in-place writes, shapes, dtypes,
  NaN/inf, determinism, linearity in dout), one function per detector;
* ``subject``: the probe inputs and the frozen description of the layer;
* ``derivatives``: analytic against numerical, per point, by the full Jacobian,
  by random projections, for parameters, all through ``compare``;
* ``diagnosis``: the bug classes (sign flip, factor, kink, f for f', output for
  input, another activation's derivative, interval, cross terms, transposed ...);
* ``results``: ``Check`` (one row) and ``ImplResult``;
* ``limits``: thresholds outside the error model (``actcheck.tolerances``).

numpy only; ``actcheck.report`` renders the results.
"""

from __future__ import annotations

from actcheck.implcheck.check import CHECKS, assert_impl, check_impl
from actcheck.implcheck.results import Check, ImplResult
from actcheck.implcheck.subject import probe_points

__all__ = ["CHECKS", "Check", "ImplResult", "assert_impl", "check_impl", "probe_points"]
