import os

import pytest
from hypothesis import HealthCheck, settings

# Deterministic and bounded, so the suite stays fast and reproducible in CI.
settings.register_profile(
    "actcheck",
    deadline=None,
    max_examples=int(os.environ.get("ACTCHECK_HYPOTHESIS_EXAMPLES", "60")),
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("actcheck")


@pytest.fixture
def terminal(monkeypatch):
    """``terminal(after)``: stderr (every console of ``actcheck.cli.output``) as a terminal
    that records what is drawn, progress appearing after ``after`` seconds; the record."""
    import io

    from rich.console import Console

    from actcheck.cli import output

    def make(after: float = 0.0) -> io.StringIO:
        screen = io.StringIO()
        monkeypatch.setattr(output, "PROGRESS_AFTER", after)
        monkeypatch.setattr(
            output, "console", lambda **kw: Console(file=screen, force_terminal=True, width=100)
        )
        return screen

    return make
