"""``--arg NAME=VALUE``: constructor and call parameters for the user's code.

``parse_arg("W=randn:20,10")`` -> ``("W", ArgValue("randn", (20, 10)))``. A VALUE is
one of ``randn:D1,D2,...``, ``rand:...``, ``zeros:...``, ``ones:...`` (an array of
that shape in the checked dtype), ``labels:K`` (integer labels in [0, K), one per
sample of the batch), ``onehot:K``, an int or float literal, ``true``/``false``/``none``
or JSON (object, list or quoted string). Parsed, never evaluated.
``ArgValue.make(dtype, batch, rng)`` builds the Python value. numpy only.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from actcheck.errors import InputError

ARRAY_KINDS = ("randn", "rand", "zeros", "ones")
LABEL_KINDS = ("labels", "onehot")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_EXAMPLE = "e.g. --arg W=randn:20,10, --arg t=labels:10, --arg p=0.5 or --arg 'cfg={\"pad\": 1}'"


@dataclass(frozen=True)
class ArgValue:
    """One parsed VALUE: ``kind`` is an array kind, a label kind, or "value" (plain data)."""

    kind: str
    shape: tuple[int, ...] = ()  # arrays: the shape; labels/onehot: (K,)
    value: Any = None  # "value": the int, float, bool, None, str, list or dict

    @property
    def is_array(self) -> bool:
        return self.kind in ARRAY_KINDS

    def make(self, dtype: np.dtype, batch: int, rng: np.random.Generator) -> Any:
        """The value handed to the user's code (a fresh copy each call)."""
        if self.kind == "randn":
            return rng.normal(0, 1, self.shape).astype(dtype)
        if self.kind == "rand":
            return rng.uniform(0, 1, self.shape).astype(dtype)
        if self.kind in ("zeros", "ones"):
            return getattr(np, self.kind)(self.shape, dtype=dtype)
        if self.kind in LABEL_KINDS:
            k = self.shape[0]
            labels = rng.integers(0, k, batch)
            return labels if self.kind == "labels" else np.eye(k, dtype=dtype)[labels]
        return json.loads(json.dumps(self.value))  # a private copy of lists and dicts

    def text(self) -> str:
        """The VALUE as typed (for messages)."""
        if self.kind == "value":
            return json.dumps(self.value)
        return f"{self.kind}:{','.join(map(str, self.shape))}"


def parse_value(name: str, text: str) -> ArgValue:
    """VALUE -> ArgValue; InputError naming the argument when it is not one of the forms."""
    kind, sep, rest = text.partition(":")
    if sep and kind in ARRAY_KINDS + LABEL_KINDS:
        try:
            dims = tuple(int(d) for d in rest.replace("x", ",").split(",") if d.strip())
        except ValueError:
            dims = ()
        if not dims or any(d <= 0 for d in dims) or (kind in LABEL_KINDS and len(dims) != 1):
            want = "K, a number of classes" if kind in LABEL_KINDS else "sizes like 20,10"
            raise InputError(f"--arg {name}={text}: after '{kind}:' give {want}")
        if math.prod(dims) > 10**8:
            raise InputError(f"--arg {name}={text}: {math.prod(dims)} entries is too large")
        return ArgValue(kind, dims)
    low = text.strip().lower()
    if low in ("true", "false", "none", "null"):
        return ArgValue("value", value={"true": True, "false": False}.get(low))
    try:
        value = json.loads(text)
    except ValueError:
        raise InputError(
            f"--arg {name}={text}: not a value actcheck reads ({_EXAMPLE}; a string is quoted "
            f"JSON: --arg {name}='\"{text}\"')"
        ) from None
    if isinstance(value, float) and not math.isfinite(value):
        raise InputError(f"--arg {name}={text}: not a finite number")
    return ArgValue("value", value=value)


def parse_arg(text: str) -> tuple[str, ArgValue]:
    """``NAME=VALUE`` -> (NAME, ArgValue)."""
    name, sep, value = text.partition("=")
    name = name.strip()
    if not sep or not _NAME.match(name):
        raise InputError(f"--arg {text}: expected NAME=VALUE ({_EXAMPLE})")
    return name, parse_value(name, value.strip())


def parse_args(items: list[str] | tuple[str, ...]) -> dict[str, ArgValue]:
    """Every ``--arg``; a name given twice is refused."""
    out: dict[str, ArgValue] = {}
    for item in items:
        name, value = parse_arg(item)
        if name in out:
            raise InputError(f"--arg {name} is given twice")
        out[name] = value
    return out


def as_arg_values(args: dict[str, Any] | None) -> dict[str, ArgValue]:
    """The Python API's ``args={...}``: ArgValue, a VALUE string, or the value itself."""
    out: dict[str, ArgValue] = {}
    for name, v in (args or {}).items():
        if isinstance(v, ArgValue):
            out[name] = v
        elif isinstance(v, str) and v.partition(":")[0] in ARRAY_KINDS + LABEL_KINDS:
            out[name] = parse_value(name, v)
        else:
            out[name] = ArgValue("given", value=v)
    return out


def materialize(
    args: dict[str, ArgValue], dtype: np.dtype, batch: int, rng: np.random.Generator
) -> dict[str, Any]:
    """Every argument's value ("given" Python objects are passed as they are)."""
    return {
        n: (a.value if a.kind == "given" else a.make(dtype, batch, rng)) for n, a in args.items()
    }
