#!/usr/bin/env python3
"""Run every wc2sf test suite and print one closing line.

Unit tests are cmocka binaries (one per lib module); integration tests are
Python unittest modules under tests/integration that drive the real
responder behind real web servers. The last line printed is
"N passed, N failed" over all of them; the exit code is 1 if any failed.

One suite (what make unit and make integration run):

    run_all.py --build B [--unit-only | --integration-only]
               [--sanitized] [--wrap CMD] [--match REGEX] [binaries...]

  --sanitized  the build has AddressSanitizer/UBSan: set their options
               and count any report in a unit test's output as a failure
  --wrap CMD   start wc2sf.fcgi under CMD (valgrind ...): $WC2SF_WRAP
  --match RE   only the integration tests whose id (module.Class.test)
               matches RE

Every suite of make check, side by side, one closing line over all:

    run_all.py --build B [--asan-build A] [--valgrind CMD]
               [--valgrind-match RE] [--lean-build L] [--lean-match RE]
               [--fuzz-build F] [--fuzz-seconds N] [--fuzz-jobs N]
               [--serial] binaries...

runs these suites as child processes, each with its own output shown
whole when it ends:
  plain     unit tests, style check, integration tests on B
  asan      the same unit and integration tests on A (clang ASan+UBSan)
  valgrind  the integration tests matching RE on B, wc2sf.fcgi under
            CMD (memcheck)
  lean      the integration tests matching RE on L, the build linked
            statically but for libc (mk/lean.mk)
  fuzz      fuzz/run.py: regressions and seeds replayed, then each target
            fuzzed N seconds (niced, so the tests keep their CPU)
plain, asan, lean and valgrind-then-fuzz run side by side (--serial: all in
turn).
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
PASSED = re.compile(r"^\[  PASSED  \] (\d+) test")
FAILED = re.compile(r"^\[  FAILED  \] (\d+) test")
SUMMARY = re.compile(r"^(\d+) passed, (\d+) failed$")
# What AddressSanitizer, LeakSanitizer and UBSan print when they find
# something (tests/integration/harness.py looks for the same).
SANITIZER = re.compile(r"ERROR: (Address|Leak)Sanitizer|runtime error: |"
                       r"SUMMARY: UndefinedBehaviorSanitizer")
SANITIZER_ENV = {
    "ASAN_OPTIONS": "detect_leaks=1:detect_stack_use_after_return=1:"
                    "check_initialization_order=1",
    "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1",
}
STYLE_DIRS = ("fcgi", "lib", "cli", "fuzz")


def run_unit(binaries, sanitized=False):
    passed = failed = 0
    for binary in binaries:
        proc = subprocess.run([binary], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True,
                              errors="replace", timeout=300)
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
            # A crash or an abort before cmocka's summary, or a leak
            # report after it.
            print(f"{binary}: exited {proc.returncode}")
            f = 1
        if sanitized and f == 0 and SANITIZER.search(proc.stdout):
            print(f"{binary}: sanitizer report")
            f = 1
        passed += p
        failed += f
    return passed, failed


def run_style():
    """The source style check counts as one test."""
    dirs = [d for d in STYLE_DIRS if os.path.isdir(os.path.join(REPO, d))]
    proc = subprocess.run([sys.executable, os.path.join(HERE, "checksrc.py")]
                          + dirs, cwd=REPO, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    sys.stdout.write(proc.stdout)
    return (1, 0) if proc.returncode == 0 else (0, 1)


def _only_matching(suite, regex):
    """A copy of suite with the tests whose id (module.Class.test)
    matches regex."""
    kept = unittest.TestSuite()
    for item in suite:
        if isinstance(item, unittest.TestSuite):
            sub = _only_matching(item, regex)
            if sub.countTestCases():
                kept.addTest(sub)
        elif re.search(regex, item.id()):
            kept.addTest(item)
    return kept


def run_integration(build, pattern, match=None):
    os.environ["WC2SF_BUILD"] = os.path.abspath(build)
    sys.path.insert(0, os.path.join(HERE, "integration"))
    sys.path.insert(0, HERE)
    loader = unittest.TestLoader()
    suite = loader.discover(os.path.join(HERE, "integration"),
                            pattern=pattern, top_level_dir=os.path.join(
                                HERE, "integration"))
    if match:
        suite = _only_matching(suite, match)
    runner = unittest.TextTestRunner(stream=sys.stdout, verbosity=2)
    result = runner.run(suite)
    # A test whose subtests failed counts once, as one failed test.
    failed_ids = set()
    for test, _ in result.failures + result.errors:
        case = getattr(test, "test_case", test)
        failed_ids.add(case.id())
    # A test marked as an expected failure that passes must be told.
    for test in result.unexpectedSuccesses:
        print(f"unexpected success: {test.id()} (remove its "
              "expectedFailure)")
        failed_ids.add(test.id())
    failed = len(failed_ids)
    return result.testsRun - failed - len(result.skipped), failed


def run_one_suite(args):
    """Unit, style and integration tests of one build, in this process."""
    if args.sanitized:
        for name, value in SANITIZER_ENV.items():
            os.environ.setdefault(name, value)
    if args.wrap:
        os.environ["WC2SF_WRAP"] = args.wrap
    passed = failed = 0
    if not args.integration_only:
        p, f = run_unit(args.binaries, args.sanitized)
        passed += p
        failed += f
        p, f = run_style()
        passed += p
        failed += f
    if not args.unit_only:
        p, f = run_integration(args.build, args.pattern, args.match)
        passed += p
        failed += f
    return passed, failed


class Suite:
    """One child process of make check and what it came to."""

    def __init__(self, name, argv, env=None, nice=0):
        self.name = name
        self.argv = argv
        self.env = env
        self.nice = nice
        self.passed = self.failed = 0
        self.seconds = 0.0
        self.output = ""

    def run(self):
        started = time.monotonic()
        with tempfile.TemporaryFile() as out:
            nice = self.nice
            proc = subprocess.run(
                self.argv, cwd=REPO, env=self.env, stdout=out,
                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                preexec_fn=(lambda: os.nice(nice)) if nice else None)
            out.seek(0)
            self.output = out.read().decode("utf-8", "replace")
        self.seconds = time.monotonic() - started
        lines = self.output.rstrip().splitlines()
        m = SUMMARY.match(lines[-1]) if lines else None
        if m:
            self.passed, self.failed = int(m.group(1)), int(m.group(2))
        if m is None or (proc.returncode != 0 and self.failed == 0):
            # It died before its own count: one failure for the suite.
            self.output += (f"\n{self.name}: exited {proc.returncode} "
                            "without a count\n")
            self.failed += 1


def run_suites(args):
    """The suites of make check, in lanes; returns (passed, failed)."""
    me = [sys.executable, os.path.abspath(__file__)]
    names = [os.path.basename(b) for b in args.binaries]
    # Most of a suite's time is spent waiting (servers starting, polls),
    # so suites share the CPUs well; the fuzzers, time-boxed, run niced
    # after memcheck and take what CPU is left.
    lanes = [[Suite("plain", me + ["--build", args.build] + args.binaries)]]
    if args.asan_build:
        asan_bins = [os.path.join(args.asan_build, "tests", n)
                     for n in names]
        lanes.append([Suite("asan", me + ["--build", args.asan_build,
                                          "--sanitized"] + asan_bins)])
    if args.lean_build:
        lanes.append([Suite("lean", me + [
            "--build", args.lean_build, "--integration-only", "--match",
            args.lean_match])])
    last = []
    if args.valgrind:
        last.append(Suite("valgrind", me + [
            "--build", args.build, "--integration-only", "--wrap",
            args.valgrind, "--match", args.valgrind_match]))
    if args.fuzz_build:
        last.append(Suite("fuzz", [
            sys.executable, os.path.join(REPO, "fuzz", "run.py"),
            "--build", args.fuzz_build, "--seconds",
            str(args.fuzz_seconds), "--jobs", str(args.fuzz_jobs)],
            nice=10))
    if last:
        lanes.append(last)
    if args.serial:
        lanes = [[s for lane in lanes for s in lane]]

    lock = threading.Lock()
    done = []

    def lane_runner(lane):
        for suite in lane:
            suite.run()
            with lock:
                print(f"\n===== {suite.name}: {suite.passed} passed, "
                      f"{suite.failed} failed, {suite.seconds:.0f} s "
                      "=====")
                sys.stdout.write(suite.output)
                sys.stdout.flush()
                done.append(suite)

    threads = [threading.Thread(target=lane_runner, args=(lane,))
               for lane in lanes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("\nsuite       passed  failed  seconds")
    for s in done:
        print(f"{s.name:<10} {s.passed:>7} {s.failed:>7} {s.seconds:>8.0f}")
    return (sum(s.passed for s in done), sum(s.failed for s in done))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--unit-only", action="store_true")
    ap.add_argument("--integration-only", action="store_true")
    ap.add_argument("--pattern", default="test_*.py")
    ap.add_argument("--match", default=None)
    ap.add_argument("--sanitized", action="store_true")
    ap.add_argument("--wrap", default=None)
    ap.add_argument("--asan-build", default=None)
    ap.add_argument("--valgrind", default=None)
    ap.add_argument("--valgrind-match", default=".")
    ap.add_argument("--lean-build", default=None)
    ap.add_argument("--lean-match", default=".")
    ap.add_argument("--fuzz-build", default=None)
    ap.add_argument("--fuzz-seconds", type=int, default=30)
    ap.add_argument("--fuzz-jobs", type=int, default=2)
    ap.add_argument("--serial", action="store_true")
    ap.add_argument("binaries", nargs="*")
    args = ap.parse_args()

    if args.asan_build or args.valgrind or args.fuzz_build:
        passed, failed = run_suites(args)
    else:
        passed, failed = run_one_suite(args)
    sys.stdout.flush()
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
