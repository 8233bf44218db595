"""A targeted mutation run: does the suite catch each defect of tests/mutation/mutants.py?

Run from the repository root, after ``bash scripts/test.sh --co -q`` (the virtualenv)::

    .venv/bin/python -m tests.mutation.run                 # every mutant, its own tests
    .venv/bin/python -m tests.mutation.run --witnesses     # also count the tests that catch each
    .venv/bin/python -m tests.mutation.run --full          # the whole suite for every mutant (slow)
    .venv/bin/python -m tests.mutation.run -k cooldown     # mutants whose name contains a word

For each mutant alone: the tracked and new files of the working tree are copied into a
temporary folder, the one snippet is replaced there (src/ of the checkout is never touched),
and pytest runs the mutant's tests in that copy with its src/ first on PYTHONPATH (subprocesses
that the tests start, the CLI and the isolated package run included). A mutant is *killed*
when a test fails and that test passes again on an unmutated copy (otherwise it is *flaky*: a
loaded machine can time out a real-server test), *survived* when all pass, *stale* when its
snippet is no longer in the source (update tests/mutation/mutants.py), *error* when pytest could
not run. The same tests run unmutated first and must pass (one retry, for the same reason). Prints one line per mutant and ``killed N of M``; exits 1 when a
mutant survived or went stale.

Not part of scripts/test.sh: a run takes minutes (each mutant re-runs real-Redis tests).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.mutation.mutants import MUTANTS, Mutant

ROOT = Path(__file__).resolve().parents[2]
FAILED = re.compile(r"^FAILED (.+?)(?: - .*)?$", re.M)  # node ids may hold spaces ("+86 138 ...")


def working_tree_files() -> list[str]:
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, capture_output=True, check=True).stdout.decode()
    return [name for name in listed.split("\0") if name and (ROOT / name).is_file()]


def copy_tree(target: Path) -> None:
    for name in working_tree_files():
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target / name)


def apply(mutant: Mutant, tree: Path) -> bool:
    path = tree / mutant.path
    source = path.read_text(encoding="utf-8")
    if source.count(mutant.old) != 1:
        return False
    path.write_text(source.replace(mutant.old, mutant.new), encoding="utf-8")
    return True


def pytest(tree: Path, tests: tuple[str, ...], *, stop_first: bool, timeout: int) -> tuple[int, list[str]]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tree / "src"), str(tree)]), "PYTHONDONTWRITEBYTECODE": "1"}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=--strict-markers", "-rf",
               *(["-x"] if stop_first else []), *tests]
    try:
        done = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return -1, []
    return done.returncode, FAILED.findall(done.stdout)


def run(mutant: Mutant | None, tests: tuple[str, ...], *, stop_first: bool, timeout: int) -> tuple[str, list[str]]:
    with tempfile.TemporaryDirectory(prefix="smsverify-mutant-") as folder:
        tree = Path(folder)
        copy_tree(tree)
        if mutant is not None and not apply(mutant, tree):
            return "stale", []
        code, failed = pytest(tree, tests, stop_first=stop_first, timeout=timeout)
    if code == 0:
        return "survived", []
    if code != 1 or not failed:
        return "error", failed
    if mutant is not None and run(None, tuple(failed), stop_first=False, timeout=timeout)[0] != "survived":
        return "flaky", failed
    return "killed", failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("-k", dest="word", help="only mutants whose name contains WORD")
    parser.add_argument("--witnesses", action="store_true", help="run every test of a mutant and count those that fail")
    parser.add_argument("--full", action="store_true", help="run the whole suite (tests/) for every mutant")
    parser.add_argument("--timeout", type=int, default=900, help="seconds per pytest run (default 900)")
    options = parser.parse_args(argv)
    mutants = [m for m in MUTANTS if not options.word or options.word.lower() in m.name.lower()]
    selection = {("tests",) if options.full else m.tests for m in mutants}
    for tests in sorted(selection):
        status, failed = run(None, tests, stop_first=True, timeout=options.timeout)
        if status != "survived":
            status, failed = run(None, tests, stop_first=True, timeout=options.timeout)
        if status != "survived":
            print(f"baseline: the unmutated tests fail ({', '.join(tests)}): {failed[:3]}", file=sys.stderr)
            return 2
    counts: dict[str, int] = {}
    for mutant in mutants:
        started = time.monotonic()
        tests = ("tests",) if options.full else mutant.tests
        status, failed = run(mutant, tests, stop_first=not options.witnesses, timeout=options.timeout)
        counts[status] = counts.get(status, 0) + 1
        caught = f"{len(failed)} test(s), e.g. {failed[0]}" if options.witnesses and failed else (failed[0] if failed else "")
        print(f"{status:8} {time.monotonic() - started:6.1f}s  {mutant.name}  {caught}", flush=True)
    print(f"killed {counts.get('killed', 0)} of {len(mutants)}"
          + "".join(f", {counts[s]} {s}" for s in ("survived", "stale", "flaky", "error") if counts.get(s)))
    return 0 if counts.get("killed", 0) == len(mutants) else 1


if __name__ == "__main__":
    sys.exit(main())
