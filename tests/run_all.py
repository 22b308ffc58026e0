#!/usr/bin/env python3
"""Run every wc2sf test suite and print one closing line.

Unit tests are cmocka binaries (one per lib module); integration tests are
Python unittest modules under tests/integration that drive the real
responder behind real web servers. The last line printed is
"N passed, N failed" over all of them; the exit code is 1 if any failed.
"""
import argparse
import os
import re
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
PASSED = re.compile(r"^\[  PASSED  \] (\d+) test")
FAILED = re.compile(r"^\[  FAILED  \] (\d+) test")


def run_unit(binaries):
    passed = failed = 0
    for binary in binaries:
        proc = subprocess.run([binary], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True,
                              timeout=300)
        sys.stdout.write(proc.stdout)
        p = f = 0
        for line in proc.stdout.splitlines():
            m = PASSED.match(line)
            if m:
                p = int(m.group(1))
            m = FAILED.match(line)
            if m:
                f = int(m.group(1))
        if proc.returncode != 0 and f == 0:
            # A crash or an abort before cmocka's summary.
            print(f"{binary}: exited {proc.returncode}")
            f = 1
        passed += p
        failed += f
    return passed, failed


def run_style():
    """The source style check counts as one test."""
    proc = subprocess.run([sys.executable, os.path.join(HERE, "checksrc.py"),
                           "fcgi", "lib", "cli"], cwd=os.path.dirname(HERE),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True)
    sys.stdout.write(proc.stdout)
    return (1, 0) if proc.returncode == 0 else (0, 1)


def run_integration(build, pattern):
    os.environ["WC2SF_BUILD"] = os.path.abspath(build)
    sys.path.insert(0, os.path.join(HERE, "integration"))
    sys.path.insert(0, HERE)
    loader = unittest.TestLoader()
    suite = loader.discover(os.path.join(HERE, "integration"),
                            pattern=pattern, top_level_dir=os.path.join(
                                HERE, "integration"))
    runner = unittest.TextTestRunner(stream=sys.stdout, verbosity=2)
    result = runner.run(suite)
    # A test whose subtests failed counts once, as one failed test.
    failed_ids = set()
    for test, _ in result.failures + result.errors:
        case = getattr(test, "test_case", test)
        failed_ids.add(case.id())
    failed = len(failed_ids)
    return result.testsRun - failed - len(result.skipped), failed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--unit-only", action="store_true")
    ap.add_argument("--integration-only", action="store_true")
    ap.add_argument("--pattern", default="test_*.py")
    ap.add_argument("binaries", nargs="*")
    args = ap.parse_args()

    passed = failed = 0
    if not args.integration_only:
        p, f = run_unit(args.binaries)
        passed += p
        failed += f
        p, f = run_style()
        passed += p
        failed += f
    if not args.unit_only:
        p, f = run_integration(args.build, args.pattern)
        passed += p
        failed += f
    sys.stdout.flush()
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
