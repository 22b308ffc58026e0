#!/usr/bin/env python3
"""Run wc2sf's libFuzzer targets: replay the regressions, then fuzz.

    python3 fuzz/run.py --build build/fuzz [--seconds 30] [--jobs 2]
                        [--replay-only] [fuzz_text ...]

For each target (every fuzz/fuzz_*.c unless named):
1. replay: every input in fuzz/regressions/<target>/ and the seeds in
   fuzz/corpus/<target>/ runs once; any crash or failed check fails it;
2. fuzz: the target runs --seconds, starting from the seeds, growing a
   working corpus in <build>/corpus/<target>/ (never in the repository),
   and stops at the first finding, which libFuzzer writes to
   <build>/artifacts/<target>/.

An input that crashes is a finding: copy it into fuzz/regressions/
<target>/ once the bug is understood, named for what it shows, so that
every later run replays it. tests/run_all.py calls fuzz_all() for make
check and counts each replay and each run as one test. Exit status 1
when anything was found.
"""
import argparse
import concurrent.futures
import glob
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")
REGRESSIONS = os.path.join(HERE, "regressions")

# Per target: the dictionary and the largest input worth trying.
SETTINGS = {
    "fuzz_webhook": ("json.dict", 16384),
    "fuzz_map": ("json.dict", 16384),
    "fuzz_text": ("text.dict", 4096),
    "fuzz_sf_response": ("sf_response.dict", 8192),
    "fuzz_config": ("config.dict", 4096),
}
# One input taking longer than this (seconds) is a finding: a hang.
INPUT_TIMEOUT = 10
# A working corpus that grew past this many inputs is merged down to
# the ones that each add coverage before the next run.
MERGE_ABOVE = 3000
RSS_LIMIT_MB = 2048
# Sanitizer settings for the targets; a leak is a finding too.
ENV = {
    "ASAN_OPTIONS": "detect_leaks=1:allocator_may_return_null=1",
    "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1",
}
REPORT = re.compile(r"(ERROR: \w+Sanitizer|runtime error:|fuzz check "
                    r"failed|ERROR: libFuzzer|SUMMARY: )")


class Outcome:
    """What one step did: ok, a one-line summary, and detail lines."""

    def __init__(self, name, ok, summary, detail=""):
        self.name = name
        self.ok = ok
        self.summary = summary
        self.detail = detail

    def __str__(self):
        mark = "ok" if self.ok else "FAILED"
        text = f"{self.name}: {mark}: {self.summary}"
        if self.detail and not self.ok:
            text += "\n" + self.detail
        return text


def targets_in(build):
    """Every target built in build, by name."""
    return sorted(os.path.basename(p) for p in
                  glob.glob(os.path.join(build, "fuzz_*"))
                  if os.access(p, os.X_OK) and os.path.isfile(p))


def _env():
    return dict(os.environ, **ENV)


def _report_lines(text, limit=25):
    """The sanitizer's or the check's own words from a target's output."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if REPORT.search(line):
            return "\n".join("    " + x for x in lines[i:i + limit])
    return "\n".join("    " + x for x in lines[-limit:])


def _inputs(directory):
    if not os.path.isdir(directory):
        return []
    return sorted(os.path.join(directory, n) for n in os.listdir(directory)
                  if not n.startswith(".") and n != "README.md"
                  and os.path.isfile(os.path.join(directory, n)))


def replay(build, target):
    """Run every regression input and seed of target once."""
    binary = os.path.join(build, target)
    regressions = _inputs(os.path.join(REGRESSIONS, target))
    seeds = _inputs(os.path.join(CORPUS, target))
    inputs = regressions + seeds
    name = f"{target} replay"
    if not inputs:
        return Outcome(name, True, "nothing to replay")
    failed = []
    detail = ""
    # One process per input: a finding names its input, and one crash
    # does not hide the next.
    for path in inputs:
        proc = subprocess.run(
            [binary, f"-timeout={INPUT_TIMEOUT}",
             f"-rss_limit_mb={RSS_LIMIT_MB}", path],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, env=_env(), timeout=120)
        if proc.returncode != 0:
            rel = os.path.relpath(path, os.path.dirname(HERE))
            failed.append(rel)
            if not detail:
                detail = (f"  {rel}: exit {proc.returncode}\n"
                          + _report_lines(proc.stdout.decode(
                              "utf-8", "replace")))
    if failed:
        return Outcome(name, False, f"{len(failed)} of {len(inputs)} "
                       f"inputs fail: {', '.join(failed)}", detail)
    return Outcome(name, True, f"{len(regressions)} regressions, "
                   f"{len(seeds)} seeds")


def merge(binary, work):
    """Keep only the inputs of work that add coverage (libFuzzer -merge)."""
    fresh = work + ".merged"
    shutil.rmtree(fresh, ignore_errors=True)
    os.makedirs(fresh)
    proc = subprocess.run([binary, "-merge=1", f"-timeout={INPUT_TIMEOUT}",
                           fresh, work], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                          env=_env(), timeout=600)
    if proc.returncode == 0:
        shutil.rmtree(work)
        os.rename(fresh, work)
    else:
        shutil.rmtree(fresh, ignore_errors=True)


def fuzz(build, target, seconds):
    """Fuzz target for seconds from its seeds; stop at a finding."""
    binary = os.path.join(build, target)
    work = os.path.join(build, "corpus", target)
    artifacts = os.path.join(build, "artifacts", target)
    os.makedirs(work, exist_ok=True)
    os.makedirs(artifacts, exist_ok=True)
    if len(os.listdir(work)) > MERGE_ABOVE:
        merge(binary, work)
    dict_name, max_len = SETTINGS.get(target, (None, 4096))
    argv = [binary, f"-max_total_time={seconds}",
            f"-timeout={INPUT_TIMEOUT}", f"-rss_limit_mb={RSS_LIMIT_MB}",
            f"-max_len={max_len}", "-print_final_stats=1",
            f"-artifact_prefix={artifacts}/"]
    if dict_name and os.path.exists(os.path.join(HERE, dict_name)):
        argv.append(f"-dict={os.path.join(HERE, dict_name)}")
    argv.append(work)
    seeds = os.path.join(CORPUS, target)
    if os.path.isdir(seeds):
        argv.append(seeds)
    log_path = os.path.join(build, f"{target}.log")
    started = time.monotonic()
    with open(log_path, "wb") as log:
        proc = subprocess.run(argv, stdout=log, stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL, env=_env(),
                              timeout=seconds + 300)
    took = time.monotonic() - started
    with open(log_path, "rb") as f:
        text = f.read().decode("utf-8", "replace")
    runs = re.search(r"stat::number_of_executed_units: (\d+)", text)
    cov = re.findall(r"\bcov: (\d+)", text)
    stats = (f"{took:.0f} s, {runs.group(1) if runs else '?'} inputs, "
             f"coverage {cov[-1] if cov else '?'}, corpus "
             f"{len(os.listdir(work))}")
    name = f"{target} fuzz"
    if proc.returncode == 0:
        return Outcome(name, True, stats)
    found = re.findall(r"Test unit written to (\S+)", text)
    where = found[-1] if found else f"(see {log_path})"
    return Outcome(name, False, f"finding after {stats}: {where}; replay "
                   f"with {binary} {where}",
                   _report_lines(text))


def fuzz_all(build, seconds, jobs=1, targets=None, replay_only=False,
             out=sys.stdout):
    """Replay then fuzz every target; a list of Outcome, printed too."""
    targets = targets or targets_in(build)
    outcomes = []
    if not targets:
        outcomes.append(Outcome("fuzz", False, f"no targets built in "
                                f"{build} (make fuzz-build)"))
    for t in targets:
        outcomes.append(replay(build, t))
        print(outcomes[-1], file=out, flush=True)
    if replay_only or seconds <= 0:
        return outcomes
    with concurrent.futures.ThreadPoolExecutor(max(1, jobs)) as pool:
        for result in pool.map(lambda t: fuzz(build, t, seconds), targets):
            outcomes.append(result)
            print(result, file=out, flush=True)
    return outcomes


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", required=True,
                    help="where make fuzz-build put the targets")
    ap.add_argument("--seconds", type=int, default=30)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--replay-only", action="store_true")
    ap.add_argument("targets", nargs="*")
    args = ap.parse_args()
    outcomes = fuzz_all(args.build, args.seconds, args.jobs,
                        args.targets, args.replay_only)
    bad = [o for o in outcomes if not o.ok]
    print(f"{len(outcomes) - len(bad)} passed, {len(bad)} failed")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
