"""The JSON gateway allowlist (`--target allowlist-json`, the Suricata rules' sibling for
DPI gateways and integrations) against its JSON Schema, schemas/allowlist.schema.json."""

import copy
import hashlib
import json

import pytest
from jsonschema import Draft202012Validator, ValidationError

from suricata_support import EXAMPLES, ROOT, build

SCHEMA = json.loads((ROOT / "schemas" / "allowlist.schema.json").read_text())


def validator():
    Draft202012Validator.check_schema(SCHEMA)
    return Draft202012Validator(SCHEMA)


def allowlists(tmp_path, site):
    out = tmp_path / "out"
    build(site, out, "--target", "allowlist-json")
    files = sorted(out.glob("*.allowlist.json"))
    assert files, "no allowlist written"
    return [json.loads(f.read_text()) for f in files]


def content_sha256(doc):
    body = {k: v for k, v in doc.items() if k != "header"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@pytest.mark.parametrize("name", EXAMPLES)
def test_examples_match_the_schema_and_their_hash(tmp_path, name):
    v = validator()
    for doc in allowlists(tmp_path, ROOT / "examples" / name):
        v.validate(doc)
        assert doc["header"]["content_sha256"] == content_sha256(doc)
        assert all(f"examples/{name}/" in s["path"] for s in doc["header"]["sources"])
        # Every constrained flow lists its operations; the others are port-level only.
        flows = [f for c in doc["conduits"] for f in c["flows"]]
        assert any(f["operations"] is not None for f in flows)


def test_the_schema_rejects_what_the_format_does_not_allow(tmp_path):
    v = validator()
    doc = allowlists(tmp_path, ROOT / "examples" / "refinery")[0]
    bad = []
    d = copy.deepcopy(doc)
    d["format_version"] = 3
    bad.append(d)
    d = copy.deepcopy(doc)
    d["conduits"][0]["flows"][0]["operations"]["protocol"] = "profinet"
    bad.append(d)
    d = copy.deepcopy(doc)
    d["conduits"][0]["flows"][0]["extra"] = True
    bad.append(d)
    d = copy.deepcopy(doc)
    d["conduits"][0]["flows"][0]["operations"]["units"] = [{"from": 1}]
    bad.append(d)
    d = copy.deepcopy(doc)
    del d["header"]["content_sha256"]
    bad.append(d)
    for d in bad:
        with pytest.raises(ValidationError):
            v.validate(d)


def test_hostile_text_is_data(tmp_path):
    hostile = '"}, "default_action": "allow", "x": {"\\'
    pal = hostile.replace("\\", "\\\\").replace('"', '\\"')
    site = tmp_path / "site.pal"
    site.write_text(f'''site "{pal}" {{ timezone "UTC" }}
use std.services
zone a {{ security_level 2; network 10.1.0.0/24; asset hmi "{pal}" at 10.1.0.10 {{ capability 2 }} }}
zone b {{ security_level 2; network 10.2.0.0/24; asset plc at 10.2.0.5 {{ capability 2 }} }}
conduit c "{pal}": a -> b {{ allow hmi -> plc : modbus {{ function [read_coils] }} }}
gateway gw {{ target allowlist_json; inline between a and b }}
''')
    [doc] = allowlists(tmp_path, site)
    validator().validate(doc)
    assert doc["default_action"] == "deny"
    assert doc["conduits"][0]["title"] == hostile
    assert doc["site"]["name"] == doc["header"]["site"] == hostile
