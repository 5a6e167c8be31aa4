"""The kinds of error actcheck raises, named as a PyTorch user reads them.

* ``InputError`` (a ``ValueError``): the arguments cannot be used: an unknown
  name, a value out of range, a target that cannot be loaded. The CLI turns it
  into exit code 2 and one line.
* ``GradcheckError`` (an ``AssertionError``): a check ran and failed, as
  ``torch.autograd.gradcheck`` raises its ``GradcheckError``. ``assert_gradients``
  and ``assert_impl`` raise it; ``.result`` holds the full result.
* ``Interrupted`` (a ``KeyboardInterrupt``): Ctrl-C (or SIGTERM, where it raises
  KeyboardInterrupt) cut a long ``gradcheck`` short after some of its points
  were checked; ``.result`` holds those. A script stops as on any Ctrl-C.
"""

from __future__ import annotations

from typing import Any


class InputError(ValueError):
    """Bad input or usage: the message is one line that says what is allowed."""


class GradcheckError(AssertionError):
    """A gradient check failed; ``result`` is the failing result, the message its summary."""

    def __init__(self, message: str, result: Any = None):
        super().__init__(message)
        self.result = result


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during a check, after part of it was done; ``result`` is that part (a result
    with ``interrupted`` set), the message its summary."""

    def __init__(self, message: str, result: Any = None):
        super().__init__(message)
        self.result = result


def too_big(what: str, need: float, advice: str) -> InputError:
    """The one message for a run refused up front: ``WHAT would need about N GB of memory,
    over the limit of L GB (actcheck.defaults.MEMORY_LIMIT); ADVICE``."""
    from actcheck.defaults import MEMORY_LIMIT

    return InputError(
        f"{what} would need about {_gigabytes(need)} of memory, over the limit of "
        f"{_gigabytes(MEMORY_LIMIT)} (actcheck.defaults.MEMORY_LIMIT); {advice}"
    )


def _gigabytes(n: float) -> str:
    gb = n / 1e9
    return f"{gb:,.0f} GB" if gb >= 10 else f"{gb:.2g} GB"
