"""Under the sanitized build (tests/run --sanitize), the leak check of Python processes is scoped to libsscma
(tests/sanitize/run-host): a context deliberately left alive must still be reported, a released one must not."""
import os
import subprocess
import sys

import pytest

HOST = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "sanitize", "run-host")
SCRIPT = """
import ctypes, sys
lib = ctypes.CDLL(sys.argv[1])
ctx = ctypes.c_void_p()
assert lib.sscma_context_create(None, ctypes.byref(ctx)) == 0
if sys.argv[2] == "release":
    lib.sscma_context_destroy(ctx)
"""

pytestmark = pytest.mark.skipif(not os.environ.get("SSCMA_SANITIZER_PRELOAD"), reason="not a sanitized build")


def run_child(mode):
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=23")
    env.pop("LD_PRELOAD", None)  # run-host puts the runtime first again
    return subprocess.run([HOST, sys.executable, "-c", SCRIPT, os.environ["SSCMA_LIBRARY"], mode], env=env,
                          capture_output=True, text=True, timeout=120)


def test_a_context_left_alive_is_reported():
    r = run_child("leak")
    assert r.returncode == 23, r.stderr[-2000:]
    assert "LeakSanitizer: detected memory leaks" in r.stderr
    assert "sscma_context_create" in r.stderr


def test_a_released_context_is_clean():
    r = run_child("release")
    assert r.returncode == 0, r.stderr[-2000:]
    assert "LeakSanitizer" not in r.stderr
