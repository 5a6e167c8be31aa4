"""Every default a user can see, defined once: the library's signatures and the
CLI's ``--help`` both read them from here. Plain Python, cheap to import
(``actcheck --help`` loads this module and nothing numerical)."""

from __future__ import annotations

DTYPES = ("float64", "float32")
DTYPE = "float64"

# gradcheck --impl: the user's own layer
IMPL_SHAPE = (64, 32)  # the batch x given to the layer: 64 samples of 32 features
IMPL_SEED = 0
