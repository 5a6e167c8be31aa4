"""What ``check_impl`` returns: one row (``Check``) per detector or comparison."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

STATUSES = ("pass", "fail", "warn", "skip")


@dataclass(frozen=True)
class Check:
    """One row of the report: a detector or a comparison, its status and what it found.

    ``fatal``: later checks make no sense after this row (the run stops there).
    ``worst``: the failing points, worst first (analytic, numerical, error, bound ...).
    """

    name: str
    status: str  # one of STATUSES
    details: str
    where: str = ""
    bug: str | None = None
    worst: tuple[dict[str, Any], ...] = ()
    stats: dict[str, Any] = field(default_factory=dict)
    fatal: bool = False

    @property
    def passed(self) -> bool:
        return self.status != "fail"

    def summary(self) -> str:
        return f"{self.name}: {self.status}, {self.details}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "details": self.details,
            "where": self.where,
            "bug": self.bug,
            "worst": [dict(w) for w in self.worst],
            "stats": dict(self.stats),
        }


@dataclass(frozen=True)
class ImplResult:
    """Everything ``check_impl`` found about one layer."""

    target: str
    kind: str
    shape: tuple[int, ...]
    dtype: str
    seed: int
    elementwise: bool | None = None
    method: str = ""  # how the derivative was compared (per point, full Jacobian, projections)
    params: tuple[str, ...] = ()
    checks: tuple[Check, ...] = ()
    inputs: tuple[str, ...] = ("x",)  # the inputs whose gradient was checked (none for a model)

    @property
    def checked(self) -> tuple[str, ...]:
        """Every input, parameter and layer whose gradient was checked."""
        layers = tuple(c.name.split(":")[0][6:] for c in self.checks if c.name.startswith("layer "))
        return self.inputs + self.params + tuple(dict.fromkeys(layers))

    printed: str = ""  # what the user's code printed during the check (kept out of stdout)
    # Ctrl-C cut the check short: ``checks`` are those done before it, the last row says where
    interrupted: bool = False

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if c.status == "fail"]

    @property
    def warnings(self) -> list[Check]:
        return [c for c in self.checks if c.status == "warn"]

    def summary(self) -> str:
        """One line: target, verdict and the failed checks."""
        head = f"{self.target} ({self.kind}), shape {self.shape}, {self.dtype}: "
        if self.interrupted:
            head += "interrupted, the checks before it: "
        if self.passed:
            return head + "pass"
        return head + "fail (" + ", ".join(c.name for c in self.failures) + ")"

    def to_dict(self) -> dict[str, Any]:
        """Plain data (floats may be NaN: ``actcheck.jsonout`` writes them as null)."""
        return {
            "target": self.target,
            "kind": self.kind,
            "shape": list(self.shape),
            "dtype": self.dtype,
            "seed": self.seed,
            "elementwise": self.elementwise,
            "method": self.method,
            "params": list(self.params),
            "inputs": list(self.inputs),
            "checked": list(self.checked),
            "checks": [c.to_dict() for c in self.checks],
            "printed": self.printed,
            "passed": self.passed,
            "interrupted": self.interrupted,
        }
