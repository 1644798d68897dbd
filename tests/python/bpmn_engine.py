"""Helpers for the workflow tests: build a site's workflows with the real `palisade`, and run
the BPMN in SpiffWorkflow with a controllable clock and a connector for the service tasks.

The connector is how a CMMS would run the workflows: the "open access" and "close access"
service tasks carry their command in `palisade:command` (one `palisade:arg` per argument,
`each="assets"` standing for the instance's targets); the connector turns it into an argv from
the task data and hands it to a runner (here: a recorder, or the real `palisade` in a dry run).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL", "palisade": "urn:palisade:bpmn:1"}
IN_CI = os.environ.get("CI") == "true"


def missing(what: str) -> None:
    """A tool the test needs is absent: a failure under CI, a loud skip elsewhere."""
    if IN_CI:
        pytest.fail(f"{what} is missing (CI=true: a missing tool is a failure)")
    print(f"\n*** SKIPPED: {what} is missing ***", file=sys.stderr)
    pytest.skip(f"{what} is missing", allow_module_level=True)


def palisade_bin() -> Path:
    """The `palisade` binary: $PALISADE_BIN, or target/debug/palisade (built if absent)."""
    env = os.environ.get("PALISADE_BIN")
    if env:
        return Path(env)
    path = ROOT / "target" / "debug" / "palisade"
    if not path.exists():
        if shutil.which("cargo") is None:
            missing("cargo (to build palisade)")
        subprocess.run(["cargo", "build", "-q", "--bin", "palisade"], cwd=ROOT, check=True)
    return path


def build(site: Path, out: Path, target: str | None = None) -> subprocess.CompletedProcess:
    cmd = [str(palisade_bin()), "build", str(site), "-o", str(out)]
    if target:
        cmd += ["--target", target]
    if site.is_relative_to(ROOT / "examples"):
        # The examples' proofs are tested with the examples; here only their workflows matter.
        cmd += ["--no-verify"]
    return subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "PALISADE_TODAY": "2026-01-15"})


def build_workflows(site: Path, out: Path, target: str = "bpmn") -> dict[str, Path]:
    """Build `target` for `site` into `out`; the workflow files by work-order name."""
    r = build(site, out, target)
    assert r.returncode == 0, r.stderr
    ext = ".bpmn" if target == "bpmn" else ".json"
    return {p.stem: p for p in sorted((out / "workflows").glob("*" + ext))}


# --- the clock ------------------------------------------------------------------------

class Clock:
    """The time SpiffWorkflow's timers see. `datetime.now()` in the timer module is patched
    to `real start + offset`; scripts in the workflow keep the real clock, so tests give
    them dates in the real future."""

    def __init__(self, monkeypatch):
        from SpiffWorkflow.bpmn.specs.event_definitions import timer

        self.now = datetime.now(timezone.utc)
        clock = self

        class FakeDatetime(datetime):
            @classmethod
            def now(cls, tz=None):
                return clock.now if tz is None else clock.now.astimezone(tz)

        monkeypatch.setattr(timer, "datetime", FakeDatetime)

    def set(self, when: datetime) -> None:
        self.now = when

    def advance(self, delta: timedelta) -> None:
        self.now += delta


# --- the engine -----------------------------------------------------------------------

def _parser_class():
    from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnParser
    from SpiffWorkflow.bpmn.parser.TaskParser import TaskParser
    from SpiffWorkflow.bpmn.parser.util import full_tag
    from SpiffWorkflow.bpmn.specs.defaults import ServiceTask

    class CommandServiceTask(ServiceTask):
        """Runs the command of `palisade:command` through `workflow.connector`."""

        def _run_hook(self, task):
            command = self.extensions.get("palisade_command")
            if command is None:
                return True
            argv: list[str] = []
            for arg in command["argv"]:
                if isinstance(arg, dict):
                    argv.extend(task.data[arg["each"]])
                else:
                    argv.append(arg)
            task.workflow.top_workflow.connector(command["action"], argv, dict(task.data))
            return True

    class CommandParser(TaskParser):
        def parse_extensions(self, node=None):
            ext = super().parse_extensions(node) or {}
            for cmd in self.xpath("./bpmn:extensionElements/palisade:command"):
                argv = []
                for arg in cmd.findall("{urn:palisade:bpmn:1}arg"):
                    argv.append({"each": arg.get("each")} if arg.get("each") else (arg.text or ""))
                ext["palisade_command"] = {"action": cmd.get("action"), "argv": argv}
            return ext

    class Parser(BpmnParser):
        OVERRIDE_PARSER_CLASSES = {full_tag("serviceTask"): (CommandParser, CommandServiceTask)}

    return Parser


def parse(path: Path):
    """Parse and XSD-validate one BPMN file; its one process spec."""
    from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
    from SpiffWorkflow.bpmn.parser.node_parser import DEFAULT_NSMAP

    parser = _parser_class()(namespaces={**DEFAULT_NSMAP, "palisade": NS["palisade"]}, validator=BpmnValidator())
    parser.add_bpmn_file(str(path))
    ids = parser.get_process_ids()
    assert len(ids) == 1, ids
    return parser.get_spec(ids[0])


class Run:
    """One work-order instance in SpiffWorkflow."""

    def __init__(self, spec, clock: Clock | None = None):
        from SpiffWorkflow.bpmn.workflow import BpmnWorkflow

        self.wf = BpmnWorkflow(spec)
        self.wf.connector = self._record
        self.commands: list[tuple[str, list[str]]] = []
        self.clock = clock
        self.wf.do_engine_steps()

    def _record(self, action: str, argv: list[str], data: dict) -> None:
        self.commands.append((action, argv))

    def ready(self) -> list[str]:
        from SpiffWorkflow.util.task import TaskState

        return sorted(t.task_spec.bpmn_id for t in self.wf.get_tasks(state=TaskState.READY, manual=True))

    def task(self, bpmn_id: str):
        from SpiffWorkflow.util.task import TaskState

        tasks = [t for t in self.wf.get_tasks(state=TaskState.READY, manual=True) if t.task_spec.bpmn_id == bpmn_id]
        assert tasks, f"{bpmn_id} is not ready; ready: {self.ready()}"
        return tasks[0]

    def complete(self, bpmn_id: str, **data) -> None:
        t = self.task(bpmn_id)
        t.data.update(data)
        t.run()
        self.wf.do_engine_steps()

    def tick(self) -> None:
        """Let waiting timers look at the clock again."""
        self.wf.refresh_timers()
        self.wf.do_engine_steps()

    def completed(self, bpmn_id: str) -> bool:
        from SpiffWorkflow.util.task import TaskState

        return any(t.task_spec.bpmn_id == bpmn_id for t in self.wf.get_tasks(state=TaskState.COMPLETED))

    def data(self) -> dict:
        return self.wf.last_task.data if self.wf.last_task else {}

    def actions(self) -> list[str]:
        return [a for a, _ in self.commands]


def vote(person: str, decision: str = "approve") -> dict:
    return {"person": person, "decision": decision}
