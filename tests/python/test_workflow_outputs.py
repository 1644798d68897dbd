"""The workflow outputs as files: bpmnlint (npm, recommended rules) passes on every BPMN; every
JSON definition validates against schemas/workflow.schema.json and carries a content hash
that matches; BPMN and JSON describe the same process; hostile source strings cannot break
either; builds are deterministic, and a failed build leaves the previous workflows alone."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from lxml import etree

from bpmn_engine import NS, ROOT, Run, build, build_workflows, missing, parse
from bpmn_sites import HOSTILE, HOSTILE_TITLE, PLANT, write

LINT = ROOT / "tests" / "bpmnlint"
SCHEMA = ROOT / "schemas" / "workflow.schema.json"


def sites(tmp: Path) -> list[Path]:
    out = [write(tmp, "plant", PLANT), write(tmp, "hostile", HOSTILE)]
    out += [d for d in sorted((ROOT / "examples").iterdir()) if any(d.glob("*.pal"))]
    return out


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> list[Path]:
    """Every site's workflows, in both formats."""
    tmp = tmp_path_factory.mktemp("outputs")
    dirs = []
    for site in sites(tmp / "sites"):
        out = tmp / "out" / site.name
        for target in ("bpmn", "workflow-json"):
            r = build(site, out, target)
            assert r.returncode == 0, (site, r.stderr)
        dirs.append(out / "workflows")
    return dirs


def bpmnlint() -> list[str]:
    npx = shutil.which("npx")
    if npx is None:
        missing("npx (Node.js)")
    if not (LINT / "node_modules" / ".bin" / "bpmnlint").exists():
        if shutil.which("npm") is None:
            missing("npm")
        r = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=LINT, capture_output=True, text=True)
        if r.returncode != 0:
            missing(f"bpmnlint (npm ci in tests/bpmnlint failed: {r.stderr.strip()[-400:]})")
    return [npx, "--no-install", "bpmnlint"]


def test_bpmnlint_recommended_rules_pass(outputs):
    cmd = bpmnlint()
    files = [str(p) for d in outputs for p in sorted(d.glob("*.bpmn"))]
    assert len(files) >= 4
    r = subprocess.run(cmd + files, cwd=LINT, capture_output=True, text=True)
    # Clean means no errors and no warnings: bpmnlint prints nothing at all.
    assert r.returncode == 0 and r.stdout.strip() == "", r.stdout + r.stderr


def test_bpmnlint_catches_a_broken_file(outputs, tmp_path):
    """The lint run is real: the same file without its diagram or a label fails."""
    cmd = bpmnlint()
    src = next(p for d in outputs for p in sorted(d.glob("*.bpmn")))
    text = src.read_text()
    no_label = tmp_path / "no_label.bpmn"
    no_label.write_text(text.replace('name="Check request"', 'name=""'))
    no_di = tmp_path / "no_di.bpmn"
    no_di.write_text(text[: text.index("  <bpmndi:BPMNDiagram")] + "</bpmn:definitions>\n")
    for broken, rule in [(no_label, "label-required"), (no_di, "no-bpmndi")]:
        r = subprocess.run(cmd + [str(broken)], cwd=LINT, capture_output=True, text=True)
        assert r.returncode != 0 and rule in r.stdout, r.stdout


def test_every_flow_node_has_a_shape_and_every_flow_an_edge(outputs):
    for path in (p for d in outputs for p in sorted(d.glob("*.bpmn"))):
        doc = etree.parse(str(path))
        process = doc.find("bpmn:process", NS)
        ids = {e.get("id") for e in process if e.get("id") and etree.QName(e).localname not in ("laneSet", "documentation")}
        di = {e.get("bpmnElement") for e in doc.iterfind(".//{http://www.omg.org/spec/BPMN/20100524/DI}BPMNShape")}
        di |= {e.get("bpmnElement") for e in doc.iterfind(".//{http://www.omg.org/spec/BPMN/20100524/DI}BPMNEdge")}
        lanes = {e.get("id") for e in process.iterfind(".//bpmn:lane", NS)}
        assert ids <= di and lanes <= di, (path, ids - di, lanes - di)


def test_json_validates_against_the_schema(outputs):
    import jsonschema

    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    files = [p for d in outputs for p in sorted(d.glob("*.json"))]
    assert len(files) >= 4
    for path in files:
        doc = json.loads(path.read_text())
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
        assert not errors, (path, [f"{list(e.path)}: {e.message}" for e in errors[:5]])
        compact = json.dumps(doc["workflow"], separators=(",", ":"), sort_keys=True, ensure_ascii=False)
        assert hashlib.sha256(compact.encode()).hexdigest() == doc["provenance"]["content_sha256"], path


def test_bpmn_and_json_describe_the_same_process(outputs):
    for d in outputs:
        for bpmn in sorted(d.glob("*.bpmn")):
            process = json.loads(bpmn.with_suffix(".json").read_text())["workflow"]["process"]
            doc = etree.parse(str(bpmn))
            flows = {(f.get("id"), f.get("sourceRef"), f.get("targetRef")) for f in doc.iterfind(".//bpmn:sequenceFlow", NS)}
            assert flows == {(f["id"], f["from"], f["to"]) for f in process["flows"]}, bpmn
            lanes = {l.get("name"): {r.text for r in l.iterfind("bpmn:flowNodeRef", NS)} for l in doc.iterfind(".//bpmn:lane", NS)}
            by_lane = {l["name"]: {n["id"] for n in process["nodes"] if n["lane"] == l["id"]} for l in process["lanes"]}
            assert lanes == by_lane, bpmn


def test_bpmn_header_names_the_source_and_hashes_the_body(outputs):
    for path in (p for d in outputs for p in sorted(d.glob("*.bpmn"))):
        text = path.read_text()
        head, body = text.split("-->\n", 1)
        assert head.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<!--\n  Generated by Palisade ')
        assert "  Work order: " in head and "  Source: " in head
        assert f"  Content sha256: {hashlib.sha256(body.encode()).hexdigest()}" in head
        comment = head.split("<!--", 1)[1]
        assert "--" not in comment.replace("- -", ""), "a comment may not contain --"


def test_hostile_strings_stay_data(outputs):
    d = next(d for d in outputs if d.parent.name == "hostile")
    doc = etree.parse(str(d / "w.bpmn"))  # well-formed, or this raises
    process = doc.find("bpmn:process", NS)
    assert process.get("name") == HOSTILE_TITLE
    assert process.find("bpmn:documentation", NS).text == 'line one --> <!-- & \\ " end'
    names = {e.get("id"): e.get("name") for e in process if e.get("name") is not None}
    assert names["request"] == "Request: " + HOSTILE_TITLE
    assert names["prerequisite_check"] == 'Confirm: Check "this" & <that> -->'
    assert doc.find(".//bpmn:lane", NS).get("name") == 'Tech <b>"boss"</b> --'
    assert len(doc.getroot()) == 3  # collaboration, process, diagram: nothing injected
    wf = json.loads((d / "w.json").read_text())["workflow"]
    assert wf["workorder"]["title"] == HOSTILE_TITLE
    # The scripts built from these strings still run: the engine loads and starts it.
    run = Run(parse(d / "w.bpmn"))
    run.complete("request", requester="x", assets=["p"])
    assert run.ready() == ["approval_1"]


def test_builds_are_deterministic(tmp_path):
    site = write(tmp_path, "plant", PLANT)
    a = build_workflows(site, tmp_path / "a", "bpmn") | {k + ".json": v for k, v in build_workflows(site, tmp_path / "a", "workflow-json").items()}
    b = build_workflows(site, tmp_path / "b", "bpmn") | {k + ".json": v for k, v in build_workflows(site, tmp_path / "b", "workflow-json").items()}
    assert a.keys() == b.keys()
    for k in a:
        assert a[k].read_bytes() == b[k].read_bytes(), k


def test_a_plain_build_writes_both_formats_beside_the_rulesets(tmp_path):
    site = write(tmp_path, "plant", PLANT)
    r = build(site, tmp_path / "out")
    assert r.returncode == 0, r.stderr
    written = sorted(str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").rglob("*") if p.is_file())
    orders = ["break_glass", "firmware_update", "vendor_session"]
    assert [w for w in written if w.startswith("workflows/")] == sorted(f"workflows/{o}.{e}" for o in orders for e in ("bpmn", "json"))
    assert "fw.nft" in written


def test_target_bpmn_writes_only_workflows_and_a_failed_build_keeps_them(tmp_path):
    site = write(tmp_path, "plant", PLANT)
    out = tmp_path / "out"
    files = build_workflows(site, out, "bpmn")
    assert sorted(p.name for p in out.rglob("*") if p.is_file()) == sorted(p.name for p in files.values())
    before = {p: p.read_bytes() for p in files.values()}
    (site / "site.pal").write_text(PLANT.replace("approved_by safety_engineer", "approved_by nobody_at_all"))
    r = build(site, out, "bpmn")
    assert r.returncode == 1 and "nothing was written" in r.stderr
    assert {p: p.read_bytes() for p in files.values()} == before
