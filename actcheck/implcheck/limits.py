"""The user-code checker's thresholds that are not part of the derivative error model.

The error model itself (steps, round-off, the analytic side's rounding, the
safety factor) is ``actcheck.tolerances``; what is here decides how the layer
is probed and when a bug pattern is named.
"""

from __future__ import annotations

import numpy as np

# backward(2d) = 2 backward(d) and additivity hold up to rounding, which cancellation
# inside backward can amplify; the bugs this catches (dout ignored, squared, used in a
# condition) break them at O(1). Doubling dout is exact in binary floating point, so
# that half is held tighter.
LINEARITY_RTOL = {np.dtype(np.float64): 1e-7, np.dtype(np.float32): 1e-4}
ADDITIVITY_RTOL = {np.dtype(np.float64): 1e-5, np.dtype(np.float32): 1e-2}
ELEMENTWISE_ULPS = 4.0  # outputs outside the perturbed set may move by this much and no more

FULL_JACOBIAN_MAX = 256  # inputs per sample (or in all) up to which the full Jacobian is built
PROJECTIONS = 12  # random projections u^T J v for larger inputs (and for large parameters)
PARAM_ENTRIES_MAX = 64
# the analytic side's rounding seen through projections is taken as at most this many
# sqrt(eps) of the projection's size (beyond it, backward is not linear: a bug)
NOISE_CAP_ULPS = 1.0  # parameters up to this size are checked entry by entry

PROBE_BATCHES = 4  # elementwise: batches of the user's shape checked point by point
GRID_LIMIT = 10.0  # the grid spans [-GRID_LIMIT, GRID_LIMIT]
# elementwise layers are also probed at these |x| (and their negatives): float32's exp
# overflows at 88.7, float64's at 709.8, where an unguarded exp(x) gives inf or NaN
TAIL_POINTS = (30.0, 50.0, 88.5, 90.0, 100.0, 200.0, 500.0, 700.0, 709.5, 711.0, 750.0, 1000.0)
WORST_SHOWN = 5
JUMPS_CHECKED = 16  # kink positions tested for a jump in the function itself

# naming a bug class
LABEL_RTOL = 1e-6  # a factor within this of a simple number is named by it (2, 1/64)
FIT_RTOL = 1e-4  # a fitted factor must explain every value to this (float32 least squares)
REGION_OK_SHARE = 0.05  # "wrong only in [a, b]" needs this share of correct points elsewhere
CLASSIFY_SHARE = 0.95  # a bug pattern must explain this share of the failing points,
MIN_CLASSIFY_POINTS = 20  # ... testable at this many
FLOAT32_REL = (3e-9, 1e-6)  # median relative error of float32 rounding seen in a float64 check
SMALL_REL = 1e-2  # failing errors all below this relative size: "small errors", an approximation
KINK_APART = 4.0  # one-sided slopes this many error bounds apart: a kink, not curvature
