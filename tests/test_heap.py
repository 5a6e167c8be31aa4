"""The malloc settings that keep a check's freed blocks for reuse (actcheck.heap)."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

import actcheck
from actcheck import catalogcheck, heap

GLIBC = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"


def _in_child(code: str, **env: str) -> str:
    environ = {k: v for k, v in os.environ.items() if k != heap.ENV} | env
    out = subprocess.run([sys.executable, "-c", code], env=environ, capture_output=True,
                         text=True, check=True)  # fmt: skip
    return out.stdout.strip()


@pytest.mark.skipif(not GLIBC, reason="glibc's mallopt only")
def test_the_settings_apply_once_per_process():
    code = "from actcheck import heap; print(heap.keep_freed_memory(), heap.keep_freed_memory())"
    assert _in_child(code) == "True True"


def test_the_environment_keeps_the_system_allocator():
    code = "from actcheck import heap; print(heap.keep_freed_memory())"
    assert _in_child(code, ACTCHECK_MALLOC="system") == "False"


@pytest.mark.skipif(not GLIBC, reason="glibc's mallopt only")
def test_a_1mb_block_comes_from_the_heap_once_applied():
    # glibc serves 1 MiB from mmap by default (threshold 128 KiB) and from the heap, next
    # to small allocations, once the threshold is raised: compare with the brk heap's end
    code = (
        "import ctypes, numpy as np; from actcheck import heap\n"
        "libc = ctypes.CDLL(None); libc.sbrk.restype = ctypes.c_void_p\n"
        "before = np.empty(1 << 17); heap.keep_freed_memory(); after = np.empty(1 << 17)\n"
        "end = libc.sbrk(0)\n"
        "print(before.ctypes.data > end, after.ctypes.data < end)"
    )
    assert _in_child(code) == "True True"


def test_gradcheck_applies_them(monkeypatch):
    calls = []
    monkeypatch.setattr(catalogcheck, "keep_freed_memory", lambda: calls.append(1))
    actcheck.gradcheck("relu", points=100)
    assert calls == [1]
