"""Every BPMN workflow Palisade emits, loaded and run in a real BPMN engine (SpiffWorkflow 3.2,
its XSD validator on): access opens only after every approval, prerequisite and the window;
a rejection never opens it; one person approving twice, a requester approving their own
request and an approver without the role are refused; the timers close access; break-glass
orders are reviewed after the fact.

"Open access" is observed through the connector that runs the service tasks' commands (see
bpmn_engine.py), so the tests also check the exact command lines."""

from __future__ import annotations

import itertools
import json
import subprocess
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from lxml import etree

from bpmn_engine import NS, ROOT, Clock, Run, build_workflows, missing, palisade_bin, parse, vote
from bpmn_sites import PLANT, write

try:
    import SpiffWorkflow  # noqa: F401  (tests/python-requirements.txt)
except ImportError:
    missing("SpiffWorkflow (pip install -r tests/python-requirements.txt)")

AMS = ZoneInfo("Europe/Amsterdam")
OPEN_FW = ["palisade", "workorder", "open", "firmware_update", "--scope", "plc_a", "--duration", "4h", "--apply"]
CLOSE_FW = ["palisade", "workorder", "close", "firmware_update", "--scope", "plc_a", "--apply"]


@pytest.fixture(scope="module")
def plant_files(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("plant")
    files = build_workflows(write(tmp, "site", PLANT), tmp / "out")
    assert set(files) == {"firmware_update", "vendor_session", "break_glass"}
    return tmp / "site", files


@pytest.fixture(scope="module")
def plant(plant_files):
    return {name: parse(path) for name, path in plant_files[1].items()}


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)


def next_saturday_10h() -> datetime:
    """A Saturday 10:00 in Amsterdam, at least a week in the real future (scripts in the
    workflow read the real clock; only the engine's timers read the test clock)."""
    day = datetime.now(AMS).date() + timedelta(days=8)
    while day.weekday() != 5:
        day += timedelta(days=1)
    return datetime(day.year, day.month, day.day, 10, 0, tzinfo=AMS)


def request_firmware(run: Run, start: datetime, requester: str = "emp-1", assets=("plc_a",)) -> None:
    run.complete("request", requester=requester, assets=list(assets), planned_start=start.isoformat(), instance_id="WO-1")


def test_every_example_and_test_workflow_parses(tmp_path):
    """The XSD accepts every workflow of the examples, and each has lanes and DI."""
    built = 0
    for example in sorted((ROOT / "examples").iterdir()):
        if not any(example.glob("*.pal")):
            continue
        files = build_workflows(example, tmp_path / example.name)
        for path in files.values():
            spec = parse(path)
            lanes = {t.lane for t in spec.task_specs.values() if getattr(t, "lane", None)}
            assert "Palisade (automated)" in lanes and len(lanes) >= 3, (path, lanes)
            built += 1
    assert built > 0


def test_opens_only_after_every_approval_prerequisite_and_window(plant, clock):
    start = next_saturday_10h()
    run = Run(plant["firmware_update"], clock)
    assert run.ready() == ["request"]
    request_firmware(run, start)
    # All-of approvals run in parallel, each in its role's lane.
    assert run.ready() == ["approval_1", "approval_2"]
    assert run.task("approval_1").task_spec.lane == "Control engineer"
    assert run.task("approval_2").task_spec.lane == "Safety engineer"
    run.complete("approval_1", approval_1=vote("emp-2"))
    assert run.ready() == ["approval_2"] and run.commands == []
    run.complete("approval_2", approval_2=vote("emp-3"))
    assert run.data()["approval_status"] == "approved"
    assert run.ready() == ["prerequisite_backup_taken"] and run.commands == []
    run.complete("prerequisite_backup_taken", prerequisite_backup_taken=True)
    run.complete("prerequisite_production_notified", prerequisite_production_notified=True)
    # Approved on a weekend: the opening waits for Monday 06:00 in the site's time zone.
    monday = start + timedelta(days=2)
    window_start = datetime.fromisoformat(run.data()["window_start"])
    assert window_start == monday.replace(hour=6)
    assert datetime.fromisoformat(run.data()["close_at"]) == monday.replace(hour=10)
    clock.set(monday.replace(hour=5, minute=59))
    run.tick()
    assert run.commands == [] and run.ready() == []
    clock.set(monday.replace(hour=6, second=30))
    run.tick()
    assert run.commands == [("open", OPEN_FW)]
    assert run.ready() == ["work"]
    # The work ends early: access closes at once.
    run.complete("work")
    assert run.commands == [("open", OPEN_FW), ("close", CLOSE_FW)]
    assert run.wf.is_completed() and run.completed("closed")


def test_timer_closes_access_at_the_maximum_duration(plant, clock):
    run = Run(plant["vendor_session"], clock)
    run.complete("request", requester="emp-1", assets=["plc_a"])
    run.complete("approval_1", approval_1=vote("emp-2"))
    run.complete("approval_2", approval_2=vote("emp-4"))
    assert run.actions() == ["open"] and run.ready() == ["work"]
    clock.advance(timedelta(hours=1, minutes=59))
    run.tick()
    assert run.actions() == ["open"]
    clock.advance(timedelta(minutes=2))
    run.tick()
    assert run.actions() == ["open", "close"]
    assert run.commands[1][1] == ["palisade", "workorder", "close", "vendor_session", "--scope", "plc_a", "--apply"]
    assert run.wf.is_completed() and run.completed("time_up") and not run.completed("work")


def test_window_end_closes_access_before_the_maximum_duration(plant, clock):
    # Planned at Monday 16:00: the window ends at 18:00, before 4h are up.
    monday = next_saturday_10h() + timedelta(days=2)
    run = Run(plant["firmware_update"], clock)
    request_firmware(run, monday.replace(hour=16))
    run.complete("approval_1", approval_1=vote("emp-3"))
    run.complete("approval_2", approval_2=vote("emp-5"))
    run.complete("prerequisite_backup_taken", prerequisite_backup_taken=True)
    run.complete("prerequisite_production_notified", prerequisite_production_notified=True)
    assert datetime.fromisoformat(run.data()["close_at"]) == monday.replace(hour=18)
    clock.set(monday.replace(hour=16, minute=1))
    run.tick()
    assert run.actions() == ["open"]
    clock.set(monday.replace(hour=17, minute=59))
    run.tick()
    assert run.actions() == ["open"]
    clock.set(monday.replace(hour=18, minute=0, second=1))
    run.tick()
    assert run.actions() == ["open", "close"] and run.wf.is_completed()


@pytest.mark.parametrize("who", ["approval_1", "approval_2"])
def test_a_rejection_never_opens(plant, clock, who):
    run = Run(plant["firmware_update"], clock)
    request_firmware(run, next_saturday_10h())
    votes = {"approval_1": vote("emp-2"), "approval_2": vote("emp-3")}
    votes[who] = {**votes[who], "decision": "reject"}
    for k, v in votes.items():
        run.complete(k, **{k: v})
    assert run.data()["approval_status"] == "rejected"
    assert run.wf.is_completed() and run.completed("rejected")
    assert run.commands == []


def test_one_person_approving_twice_is_refused(plant, clock):
    run = Run(plant["vendor_session"], clock)
    run.complete("request", requester="emp-1", assets=["plc_a"])
    # emp-3 holds both control_engineer and safety_engineer: one person, not two.
    run.complete("approval_1", approval_1=vote("emp-3"))
    run.complete("approval_2", approval_2=vote("emp-3"))
    data = run.data()
    assert data["approval_status"] == "invalid" and "emp-3 votes twice" in data["approval_problems"]
    # The votes are discarded and collected again; nothing opened.
    assert run.ready() == ["approval_1", "approval_2"] and run.commands == []
    assert "approval_1" not in run.task("approval_1").data
    run.complete("approval_1", approval_1=vote("emp-3"))
    run.complete("approval_2", approval_2=vote("emp-2"))
    assert run.actions() == ["open"]


@pytest.mark.parametrize(
    ("requester", "votes", "problem"),
    [
        ("emp-5", ("emp-2", "emp-5"), "emp-5 approves their own request"),
        ("emp-1", ("emp-2", "emp-4"), "emp-4 lacks the role of approval_2"),
        ("emp-1", ("emp-2", "nobody"), "nobody is not declared staff"),
        ("emp-1", ("emp-2", None), "approval_2: no vote (person and decision approve or reject)"),
    ],
)
def test_invalid_approvals_are_refused(plant, clock, requester, votes, problem):
    run = Run(plant["firmware_update"], clock)
    request_firmware(run, next_saturday_10h(), requester=requester)
    run.complete("approval_1", approval_1=vote(votes[0]))
    second = vote(votes[1]) if votes[1] else {"person": "emp-3", "decision": "maybe"}
    run.complete("approval_2", approval_2=second)
    assert run.data()["approval_status"] == "invalid"
    assert problem in run.data()["approval_problems"]
    assert run.ready() == ["approval_1", "approval_2"] and run.commands == []


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"requester": "emp-2", "assets": ["plc_a"]}, "requester emp-2 holds none of the requesting roles"),
        ({"requester": "emp-1", "assets": ["eng_ws"]}, "eng_ws is outside the work order's scope"),
        ({"requester": "emp-1", "assets": []}, "assets must be a non-empty list of names"),
        ({"requester": "emp-1", "assets": ["plc_a"], "planned_start": "next week"}, "planned_start is not an ISO 8601 date-time"),
    ],
)
def test_invalid_requests_are_refused(plant, clock, data, problem):
    run = Run(plant["firmware_update"], clock)
    run.complete("request", **data)
    assert problem in run.data()["request_problems"]
    assert run.wf.is_completed() and run.completed("request_refused") and run.commands == []


def test_a_missing_prerequisite_cancels(plant, clock):
    run = Run(plant["firmware_update"], clock)
    request_firmware(run, next_saturday_10h())
    run.complete("approval_1", approval_1=vote("emp-2"))
    run.complete("approval_2", approval_2=vote("emp-3"))
    run.complete("prerequisite_backup_taken", prerequisite_backup_taken=True)
    run.complete("prerequisite_production_notified", prerequisite_production_notified=False)
    assert run.wf.is_completed() and run.completed("cancelled") and run.commands == []


def test_concurrent_instances_open_only_their_own_assets(plant, clock):
    runs = {}
    for asset in ("plc_a", "plc_b"):
        run = Run(plant["break_glass"], clock)
        run.complete("request", requester="emp-2", assets=[asset])
        runs[asset] = run
    for run in runs.values():
        run.complete("approval_1", approval_1=vote("emp-3"))
    for asset, run in runs.items():
        (action, argv), = run.commands
        assert action == "open" and argv[argv.index("--scope") + 1 : argv.index("--duration")] == [asset]
    runs["plc_a"].complete("work")
    assert runs["plc_a"].commands[-1] == ("close", ["palisade", "workorder", "close", "break_glass", "--scope", "plc_a", "--apply"])
    assert runs["plc_b"].actions() == ["open"]


def test_the_carried_commands_are_what_palisade_workorder_runs(plant, plant_files, clock):
    """The connector's argv, run by the real `palisade workorder` (without --apply, which
    would touch this machine's firewall) in the site's directory, prints exactly the nft
    statements the service tasks carry for the instance's target."""
    site, files = plant_files
    doc = etree.parse(str(files["vendor_session"]))
    carried = {
        (e.getparent().getparent().get("id"), e.get("device"), e.get("target")): e.text
        for e in doc.iterfind(".//palisade:nft", NS)
    }
    run = Run(plant["vendor_session"], clock)
    run.complete("request", requester="emp-1", assets=["plc_a"])
    run.complete("approval_1", approval_1=vote("emp-2"))
    run.complete("approval_2", approval_2=vote("emp-4"))
    run.complete("work")
    for (action, argv), task in zip(run.commands, ["open_access", "close_access"]):
        assert argv[0] == "palisade" and argv[-1] == "--apply"
        r = subprocess.run([str(palisade_bin())] + argv[1:-1], cwd=site, capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        printed = [line for line in r.stdout.splitlines() if line.startswith(("add element", "delete element"))]
        assert printed == [carried[(task, "fw", "plc_a")]], (action, r.stdout)


def test_break_glass_opens_at_once_and_is_reviewed_after_the_fact(plant, clock):
    run = Run(plant["break_glass"], clock)
    run.complete("request", requester="emp-2", assets=["plc_a", "plc_b"])
    assert run.ready() == ["approval_1"]
    run.complete("approval_1", approval_1=vote("emp-3"))
    (action, argv), = run.commands
    assert argv == ["palisade", "workorder", "open", "break_glass", "--scope", "plc_a", "plc_b", "--duration", "1h", "--apply"]
    clock.advance(timedelta(hours=1, seconds=1))
    run.tick()
    assert run.actions() == ["open", "close"]
    # The review is mandatory; a day later it is overdue and escalated, and still open.
    assert run.ready() == ["review"] and not run.wf.is_completed()
    clock.advance(timedelta(hours=24, seconds=1))
    run.tick()
    assert run.ready() == ["escalate", "review"]
    run.complete("escalate")
    assert not run.wf.is_completed()
    run.complete("review", review={"person": "emp-3", "findings": "valve stuck; access used 40 minutes"})
    assert run.wf.is_completed() and run.completed("reviewed")


def oracle(order: dict, requester: str, approvers: tuple[str, ...]) -> str:
    """The approval rule as docs/workflows.md states it, from the JSON definition alone."""
    approvals = order["approvals"]
    staff = {p["id"]: set(p["roles"]) for p in order["staff"]}
    if not staff[requester] & set(order["requested_by"]):
        return "request_refused"
    if len(set(approvers)) != len(approvers):
        return "invalid"
    if approvals["separation_of_duties"] and requester in approvers:
        return "invalid"
    for person, slot in zip(approvers, approvals["slots"]):
        if not staff[person] & set(slot["roles"]):
            return "invalid"
    return "approved"


@pytest.mark.parametrize("order", ["firmware_update", "vendor_session", "break_glass"])
def test_every_assignment_of_people(plant, clock, order, tmp_path):
    """For every requester and every assignment of the declared people to the approval
    places, the engine opens access exactly when the rule allows it: distinct persons,
    holding the places' roles, never the requester under separation of duties."""
    definition = json.loads((build_workflows(write(tmp_path, "site", PLANT), tmp_path / "out", "workflow-json")[order]).read_text())
    wo = definition["workflow"]["workorder"]
    people = [p["id"] for p in wo["staff"]]
    start = next_saturday_10h()
    seen = set()
    for requester in people:
        for approvers in itertools.product(people, repeat=len(wo["approvals"]["slots"])):
            expected = oracle(wo, requester, approvers)
            run = Run(plant[order], clock)
            data = {"requester": requester, "assets": ["plc_a"]}
            if wo["windows"]:
                data["planned_start"] = start.isoformat()
            run.complete("request", **data)
            if expected == "request_refused":
                assert run.completed("request_refused"), (requester, approvers)
                seen.add(expected)
                continue
            for i, person in enumerate(approvers, 1):
                run.complete(f"approval_{i}", **{f"approval_{i}": vote(person)})
            got = run.data()["approval_status"]
            assert got == expected, (requester, approvers, run.data()["approval_problems"])
            opened = run.actions() == ["open"]
            # Windowed orders wait for the window; the others open at once when approved.
            assert opened == (expected == "approved" and not wo["prerequisites"]), (requester, approvers)
            seen.add(expected)
    assert {"approved", "invalid"} <= seen
