"""The CI workflows and checks (.github/workflows, scripts/test.sh) do what the README says.

Proven here:

- both workflow files parse;
- test.yml runs the README's test command (its second ``sh`` block) on push and pull
  request, with redis-server and node installed and Python 3.10 (SCF's, for the package
  test) set up in every matrix job, the matrix Python the default;
- deploy.yml runs on a ``v*`` tag or by hand, deploys only after a test job that calls
  test.yml (the same README test command) passed, builds the package (``make package``)
  before it deploys, references only secrets and variables that the "Deploying from CI" table of
  docs/deploy.md documents (and the table documents no other; docs/generate.py generates it from
  deploy.yml and its descriptions, and tests/docs checks the committed table), passes secrets only through
  ``env`` (never in a command line), and provides every ``${env:X}`` of serverless.yml to
  the deploy step;
- the Python 3.10 check that scripts/test.sh runs (vermin, with the exact options of the
  script) fails on code that needs 3.11 (``except*``, ``tomllib``, ``datetime.UTC``),
  accepts 3.10 syntax (``match``), and passes on the deployed code.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.support import ROOT
from tests.docs import generator

WORKFLOWS = ROOT / ".github" / "workflows"
README = (ROOT / "README.md").read_text(encoding="utf-8")
ENV_REF = re.compile(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}")
EXPRESSION_REF = r"\b{kind}\.([A-Za-z_][A-Za-z0-9_]*)"


def workflow(name: str) -> dict:
    return yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))


def triggers(flow: dict) -> dict:
    """The ``on:`` mapping (YAML 1.1 reads the bare key ``on`` as True)."""
    on = flow.get("on", flow.get(True))
    return {name: None for name in on} if isinstance(on, list) else on


def steps(flow: dict, job: str) -> list[dict]:
    return flow["jobs"][job]["steps"]


def step_running(flow: dict, job: str, pattern: str) -> tuple[int, dict]:
    found = [(i, s) for i, s in enumerate(steps(flow, job)) if re.search(pattern, s.get("run", ""))]
    assert len(found) == 1, f"{job}: expected one step running {pattern!r}, found {len(found)}"
    return found[0]


def uses(flow: dict, job: str, action: str) -> dict:
    found = [s for s in steps(flow, job) if s.get("uses", "").startswith(action + "@")]
    assert len(found) == 1, f"{job} does not use {action}"
    return found[0].get("with", {})


def readme_test_command() -> str:
    blocks = re.findall(r"^```sh\n(.*?)^```", README, re.S | re.M)
    command = blocks[1].strip()
    assert "\n" not in command, command
    return command


def documented_in_ci_section() -> dict[str, set[str]]:
    """Names of the generated "Deploying from CI" table (docs/deploy.md), by kind (``secret`` / ``variable``)."""
    documented: dict[str, set[str]] = {"secret": set(), "variable": set()}
    for name, kind, what in generator().ci_settings():
        assert what, name
        documented[kind].add(name)
    return documented


def strings(node) -> list[str]:
    """Every string value in a parsed YAML document (comments are not values)."""
    if isinstance(node, dict):
        return [s for value in node.values() for s in strings(value)]
    if isinstance(node, list):
        return [s for value in node for s in strings(value)]
    return [node] if isinstance(node, str) else []


def referenced(text: str, kind: str) -> set[str]:
    return set(re.findall(EXPRESSION_REF.format(kind=kind), text))


DEPLOY_TEXT = (WORKFLOWS / "deploy.yml").read_text(encoding="utf-8")


# -- both parse -----------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["test.yml", "deploy.yml"])
def test_the_workflow_parses(name):
    flow = workflow(name)
    assert flow["name"] and triggers(flow) and flow["jobs"]


# -- test.yml -------------------------------------------------------------------------------

def test_the_test_workflow_runs_the_readme_test_command_on_push_and_pull_request():
    flow = workflow("test.yml")
    assert set(triggers(flow)) == {"push", "pull_request", "workflow_call"}
    assert flow["jobs"]["test"]["runs-on"] == "ubuntu-latest"
    assert readme_test_command() == "bash scripts/test.sh"
    step_running(flow, "test", rf"^{re.escape(readme_test_command())}$")


def test_the_test_workflow_has_the_scf_python_redis_and_node():
    flow = workflow("test.yml")
    runtime = yaml.safe_load((ROOT / "serverless.yml").read_text(encoding="utf-8"))["inputs"]["runtime"]
    versions = uses(flow, "test", "actions/setup-python")["python-version"].strip().splitlines()
    # SCF's Python first, in every job (the package test runs under it); the matrix one last, the default.
    assert versions == [runtime.removeprefix("Python"), "${{ matrix.python }}"]
    assert runtime.removeprefix("Python") in flow["jobs"]["test"]["strategy"]["matrix"]["python"]
    assert str(uses(flow, "test", "actions/setup-node")["node-version"]) == "20"
    install, _ = step_running(flow, "test", r"apt-get install -y redis-server")
    tests, _ = step_running(flow, "test", rf"^{re.escape(readme_test_command())}$")
    assert install < tests


# -- deploy.yml -----------------------------------------------------------------------------

def test_the_deploy_workflow_runs_on_a_version_tag_or_by_hand():
    on = triggers(workflow("deploy.yml"))
    assert on["push"] == {"tags": ["v*"]}
    assert "workflow_dispatch" in on


def test_the_deploy_workflow_deploys_only_after_the_test_workflow_passed():
    flow = workflow("deploy.yml")
    assert flow["jobs"]["test"] == {"uses": "./.github/workflows/test.yml"}
    assert flow["jobs"]["deploy"]["needs"] in ("test", ["test"])
    assert set(flow["jobs"]) == {"test", "deploy"}
    # The called workflow runs the README's test command (test_the_test_workflow_runs_the_readme_test_command...).
    assert "workflow_call" in triggers(workflow("test.yml"))


def test_the_deploy_workflow_builds_the_package_then_deploys_it():
    flow = workflow("deploy.yml")
    build, _ = step_running(flow, "deploy", r"^make package$")
    install, _ = step_running(flow, "deploy", r"^npm install -g serverless-cloud-framework@")
    deploy, step = step_running(flow, "deploy", r"^scf deploy --stage \"\$STAGE\"$")
    assert build < install < deploy
    assert step["env"]["STAGE"]
    assert uses(flow, "deploy", "actions/setup-python")["python-version"] == "3.10"


def test_the_deploy_step_gets_the_deploying_key_from_secrets():
    _, step = step_running(workflow("deploy.yml"), "deploy", r"^scf deploy")
    assert step["env"]["TENCENT_SECRET_ID"] == "${{ secrets.TENCENT_SECRET_ID }}"
    assert step["env"]["TENCENT_SECRET_KEY"] == "${{ secrets.TENCENT_SECRET_KEY }}"


def test_the_deploy_step_provides_every_variable_serverless_yml_reads():
    flow = workflow("deploy.yml")
    _, step = step_running(flow, "deploy", r"^scf deploy")
    provided = set(flow.get("env", {})) | set(flow["jobs"]["deploy"].get("env", {})) | set(step["env"])
    needed = set(ENV_REF.findall(" ".join(strings(yaml.safe_load((ROOT / "serverless.yml").read_text(encoding="utf-8"))))))
    assert {"STAGE", "REGION", "CODE_SECRET", "REDIS_HOST"} <= needed
    assert needed - provided == set()


def test_secrets_reach_commands_only_through_the_environment():
    for job in workflow("deploy.yml")["jobs"]:
        for step in workflow("deploy.yml")["jobs"][job].get("steps", []):
            assert not re.search(r"\b(secrets|vars)\.", step.get("run", "")), step["run"]


def test_the_deploy_workflow_references_only_secrets_and_variables_the_readme_documents():
    documented = documented_in_ci_section()
    assert referenced(DEPLOY_TEXT, "secrets") - documented["secret"] == set()
    assert referenced(DEPLOY_TEXT, "vars") - documented["variable"] == set()


def test_the_readme_documents_no_secret_or_variable_the_deploy_workflow_ignores():
    documented = documented_in_ci_section()
    assert documented["secret"] == referenced(DEPLOY_TEXT, "secrets")
    assert documented["variable"] == referenced(DEPLOY_TEXT, "vars")


# -- the Python 3.10 check of scripts/test.sh -----------------------------------------------

def vermin_check() -> tuple[list[str], list[str]]:
    """The options and targets of the vermin line of scripts/test.sh."""
    (line,) = [l for l in (ROOT / "scripts/test.sh").read_text().splitlines() if l.startswith(".venv/bin/vermin ")]
    words = shlex.split(line)[1:]
    return [w for w in words if w.startswith("-")], [w for w in words if not w.startswith("-")]


def vermin(*paths: str | Path) -> subprocess.CompletedProcess:
    options, _ = vermin_check()
    return subprocess.run([str(Path(sys.executable).parent / "vermin"), *options, *map(str, paths)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_the_check_covers_the_deployed_code_and_targets_python_3_10():
    options, targets = vermin_check()
    assert targets == ["src", "handler.py"]
    assert "-t=3.10-" in options


@pytest.mark.parametrize("source, reported", [
    ("try:\n    pass\nexcept* ValueError:\n    pass\n", "`except*` requires !2, 3.11"),
    ("import tomllib\n", "'tomllib' module requires !2, 3.11"),
    ("from datetime import UTC\n", "'datetime.UTC' member requires !2, 3.11"),
])
def test_the_check_fails_on_code_that_needs_python_3_11(tmp_path, source, reported):
    (tmp_path / "newer.py").write_text(source)
    done = vermin(tmp_path / "newer.py")
    assert done.returncode != 0
    assert reported in done.stdout


def test_the_check_accepts_python_3_10_syntax(tmp_path):
    (tmp_path / "match.py").write_text("def f(x):\n    match x:\n        case 1:\n            return 'one'\n")
    done = vermin(tmp_path / "match.py")
    assert done.returncode == 0, done.stdout


def test_the_deployed_code_passes_the_check():
    _, targets = vermin_check()
    done = vermin(*targets)
    assert done.returncode == 0, done.stdout


def test_ci_runs_the_test_script_with_ci_true():
    run = (ROOT / ".ci" / "run").read_text()
    assert 'export CI="${CI:-true}"' in run and re.search(r"^bash scripts/test\.sh -q$", run, re.M)
