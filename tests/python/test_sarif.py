"""`--message-format sarif` of `check` and `verify`, validated against the official SARIF 2.1.0
JSON Schema as the npm package `@microsoft/jest-sarif` (1.0.0-beta.0, pinned by
tests/sarif/package-lock.json, installed by scripts/setup.sh) ships it:
`lib/schemas/sarif-2.1.0-rtm.5.json` (2.1.0-rtm.5 is the text OASIS approved as SARIF 2.1.0).

Every example's logs validate; a refuted property is a result with its code as rule id, the
code's explanation as the rule's help, and a location on the assertion's line; artifact URIs
are relative. Under CI=true a missing schema is a failure, not a skip.
"""

from __future__ import annotations

import json
import subprocess

import jsonschema
import pytest

from test_report import EXAMPLES, ROOT, TODAY, missing, palisade_bin

SCHEMA = ROOT / "tests/sarif/node_modules/@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json"


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft4Validator:
    if not SCHEMA.is_file():
        missing(f"the SARIF 2.1.0 schema ({SCHEMA.relative_to(ROOT)}; scripts/setup.sh runs npm ci in tests/sarif)")
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema)


def sarif(*args: str, cwd=ROOT) -> tuple[int, dict]:
    r = subprocess.run(
        [str(palisade_bin()), *args, "--message-format", "sarif"],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={"PALISADE_TODAY": TODAY, "PATH": "/usr/bin:/bin"},
    )
    assert r.returncode in (0, 1), r.stderr
    return r.returncode, json.loads(r.stdout)


def valid(validator, log: dict) -> None:
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])


def uris(log: dict) -> list[str]:
    out = []
    for run in log["runs"]:
        for r in run["results"]:
            for loc in r.get("locations", []) + r.get("relatedLocations", []):
                out.append(loc["physicalLocation"]["artifactLocation"]["uri"])
    return out


@pytest.mark.parametrize("command", ["check", "verify"])
@pytest.mark.parametrize("name", EXAMPLES)
def test_examples_validate_against_the_sarif_schema(validator, command, name):
    code, log = sarif(command, f"examples/{name}")
    valid(validator, log)
    assert log["version"] == "2.1.0"
    run = log["runs"][0]
    assert run["tool"]["driver"]["name"] == "palisade"
    assert code == (1 if any(r["level"] == "error" for r in run["results"]) else 0)
    for u in uris(log):
        assert not u.startswith("/") and ":" not in u.split("/")[0], u


REFUTED = """site "refuted" { timezone "UTC" }
use std.services
zone a { security_level 1; network 10.1.0.0/24; asset h at 10.1.0.5 { capability 1 } }
zone b { security_level 1; network 10.2.0.0/24; asset p at 10.2.0.5 { capability 1 } }
conduit c: a -> b { allow h -> p : https }
  assert no_path a -> b
firewall fw { target nftables; interface "e0" faces a; interface "e1" faces b }
"""


def test_a_refuted_property_is_a_result_on_its_assertion(validator, tmp_path):
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "site.pal").write_text(REFUTED)
    code, log = sarif("verify", "site", cwd=tmp_path)
    valid(validator, log)
    assert code == 1
    run = log["runs"][0]
    hits = [r for r in run["results"] if r["ruleId"] == "E1001"]
    assert len(hits) == 1, [r["ruleId"] for r in run["results"]]
    hit = hits[0]
    assert hit["level"] == "error" and "no_path a -> b" in hit["message"]["text"]
    loc = hit["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"] == {"uri": "site/site.pal", "uriBaseId": "%SRCROOT%"}
    assert loc["region"]["startLine"] == 6 and loc["region"]["startColumn"] == 3
    # The rule that lets the packet through is a related location, on the conduit's line.
    assert any(r["physicalLocation"]["region"]["startLine"] == 5 for r in hit.get("relatedLocations", []))
    rule = run["tool"]["driver"]["rules"][hit["ruleIndex"]]
    assert rule["id"] == "E1001"
    explain = subprocess.run([str(palisade_bin()), "explain", "E1001"], capture_output=True, text=True, check=True).stdout
    body = explain.split("\n\n", 1)[1].strip()
    assert body and body in rule["help"]["text"]


def test_front_end_errors_are_results_with_regions(validator, tmp_path):
    site = tmp_path / "site dir"
    site.mkdir()
    (site / "site.pal").write_text(
        'site "t" { timezone "UTC" }\nuse std.services\nzone a { security_level 1; network 10.1.0.0/24 }\n'
        "conduit c: a -> nowhere { allow any -> any : https }\n"
    )
    code, log = sarif("check", "site dir/site.pal", cwd=tmp_path)
    valid(validator, log)
    assert code == 1
    results = log["runs"][0]["results"]
    assert results and all(r["ruleId"].startswith(("E", "W")) for r in results)
    loc = results[0]["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"] == "site%20dir/site.pal"
    assert loc["region"]["startLine"] == 4
