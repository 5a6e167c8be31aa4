"""The two kinds of error actcheck raises, named as a PyTorch user reads them.

* ``InputError`` (a ``ValueError``): the arguments cannot be used: an unknown
  name, a value out of range, a target that cannot be loaded. The CLI turns it
  into exit code 2 and one line.
* ``GradcheckError`` (an ``AssertionError``): a check ran and failed, as
  ``torch.autograd.gradcheck`` raises its ``GradcheckError``. ``assert_gradients``
  and ``assert_impl`` raise it; ``.result`` holds the full result.
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
