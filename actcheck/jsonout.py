"""One way to turn any result into strict JSON: NaN and infinities become null.

Results expose ``to_dict()`` (plain Python, floats may be non-finite); ``dumps``
is the only place that serialises, so every command's ``--json`` agrees.
"""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any


def jsonable(obj: Any) -> Any:
    """``obj`` as JSON-ready Python: dicts, lists, str, int, finite float, bool, None."""
    if obj is None or isinstance(obj, bool | str | int):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set | frozenset):
        return [jsonable(v) for v in obj]
    to_dict = getattr(obj, "to_dict", None)
    if callable(to_dict):
        return jsonable(to_dict())
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return jsonable(dataclasses.asdict(obj))
    tolist = getattr(obj, "tolist", None)  # numpy arrays and scalars, without importing numpy
    if callable(tolist):
        return jsonable(tolist())
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def dumps(obj: Any, indent: int | None = 2) -> str:
    """Strict JSON text of ``obj`` (any parser accepts it: no NaN, no Infinity)."""
    return json.dumps(jsonable(obj), indent=indent, allow_nan=False)
