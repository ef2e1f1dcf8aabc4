#!/usr/bin/env python3
"""Prints "N passed, N failed[, N skipped]" for a meson test log (build/meson-logs/testlog.json).

TAP tests (recognised by their "1..N" plan) count one per test case ("ok"/"not ok" lines); a TAP test that crashed or timed out counts one more
failure. Other tests count one each. Exits 1 if anything failed or the log is missing.
"""
import json
import re
import sys

TAP_LINE = re.compile(r"^(not ok|ok)\b(.*)$")
TAP_PLAN = re.compile(r"^1\.\.[0-9]+", re.MULTILINE)


def count(path):
    passed = failed = skipped = 0
    with open(path, encoding="utf-8") as log:
        for line in log:
            line = line.strip()
            if not line:
                continue
            entry = json.loads(line)
            result = entry.get("result", "")
            if TAP_PLAN.search(entry.get("stdout") or ""):  # the log does not name the protocol
                cases_failed = 0
                cases = 0
                for out in entry["stdout"].splitlines():
                    m = TAP_LINE.match(out)
                    if not m:
                        continue
                    cases += 1
                    if "# SKIP" in m.group(2).upper():
                        skipped += 1
                    elif m.group(1) == "ok":
                        passed += 1
                    else:
                        cases_failed += 1
                failed += cases_failed
                if result not in ("OK", "SKIP", "EXPECTEDFAIL") and cases_failed == 0:
                    failed += 1  # crashed, timed out or exited non-zero without a failing case
                if cases == 0 and result == "SKIP":
                    skipped += 1
            elif result in ("OK", "EXPECTEDFAIL"):
                passed += 1
            elif result == "SKIP":
                skipped += 1
            else:
                failed += 1
    return passed, failed, skipped


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "build/meson-logs/testlog.json"
    try:
        passed, failed, skipped = count(path)
    except (OSError, ValueError) as err:
        print(f"summary: cannot read {path}: {err}", file=sys.stderr)
        print("0 passed, 1 failed")
        return 1
    line = f"{passed} passed, {failed} failed"
    if skipped:
        line += f", {skipped} skipped"
    print(line)
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
