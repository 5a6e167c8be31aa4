"""actcheck: check, plot and train with activation functions.

The public API is imported lazily so that ``actcheck --help`` (and shell
completion) starts without loading numpy or scipy.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it
_LAZY = {
    "names": "activations",
    "get": "activations",
    "parse_spec": "activations",
    "Activation": "activations",
    "ActivationError": "activations",
    "Kink": "activations",
    "Param": "activations",
    "CATALOG": "activations",
    "Convention": "activations",
    "Entry": "activations",
    "register": "activations",
    "unregister": "activations",
    "gradcheck": "catalogcheck",
    "assert_gradients": "catalogcheck",
    "GradcheckResult": "catalogcheck",
    "GradcheckError": "errors",
    "InputError": "errors",
    "Interrupted": "errors",
    "ElementwiseResult": "numdiff",
    "KinkReport": "numdiff",
    "WorstPoint": "numdiff",
    "check_elementwise": "numdiff",
    "Tolerances": "tolerances",
    "activation_figure": "plotting",
    "save_figure": "plotting",
    "PlotSpec": "plotting",
    "train_xor": "xor",
    "XorResult": "xor",
    "XorConfig": "xor",
    # gradcheck --impl: the user's own layer code
    "check_impl": "implcheck",
    "assert_impl": "implcheck",
    "ImplResult": "implcheck",
    "load_layer": "userimpl",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'actcheck' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"actcheck.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
