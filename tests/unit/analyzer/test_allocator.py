"""The analyzer's workers keep freed memory: glibc takes the malloc settings."""

from __future__ import annotations

import platform
import subprocess
import sys


def test_glibc_takes_the_settings_in_a_fresh_process() -> None:
    """In a process of its own, so that the test run's allocator keeps its defaults."""
    code = "from ecg_analyzer.worker.allocator import keep_freed_memory; print(keep_freed_memory())"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    expected = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"
    assert result.stdout.strip() == str(expected)
