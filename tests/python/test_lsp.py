"""The language server, end to end: pytest-lsp drives `target/debug/palisade lsp` over
stdio and checks each feature on a small two-file site."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from test_lsp_support import (
    BIN,
    CONDUITS,
    SITE,
    TODAY,
    apply_edits,
    client,  # noqa: F401  (fixture)
    cli_check,
    diagnostics_for,
    edits_for,
    nvim_client,  # noqa: F401  (fixture)
    open_doc,
    pos_of,
    name_range,
    range_of,
    uri_of,
    utf16_len,
    wait_for,
    write_site,
)

pytestmark = pytest.mark.asyncio


@pytest.fixture
def site(tmp_path: Path) -> dict[str, Path]:
    return write_site(tmp_path / "plant", {"site.pal": SITE, "conduits.pal": CONDUITS})


def change(client, uri: str, version: int, text: str, needle: str, new: str, nth: int = 0) -> str:
    """Replace the nth `needle` by `new` with an incremental edit; returns the new text."""
    rng = range_of(text, needle, nth)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangePartial(range=rng, text=new)],
        )
    )
    at = -1
    for _ in range(nth + 1):
        at = text.index(needle, at + 1)
    return text[:at] + new + text[at + len(needle) :]


def tdpp(uri: str, pos: types.Position) -> dict:
    return {"text_document": types.TextDocumentIdentifier(uri=uri), "position": pos}


async def hover_text(client, uri: str, pos: types.Position) -> str:
    result = await client.text_document_hover_async(types.HoverParams(**tdpp(uri, pos)))
    assert result is not None
    return result.contents.value


# ---------------------------------------------------------------- diagnostics


async def test_diagnostics_on_open_and_on_every_change(client, site):
    uri = open_doc(client, site["conduits.pal"])
    diags = await diagnostics_for(client, uri, version=1)
    assert diags == []
    # The other file of the site is checked too: its unused role is reported there.
    site_uri = uri_of(site["site.pal"])
    others = await diagnostics_for(client, site_uri)
    assert [d.code for d in others] == ["W0901"]

    text = change(client, uri, 2, CONDUITS, "-> control {", "-> contrl {")
    diags = await diagnostics_for(client, uri, version=2)
    assert [d.code for d in diags] == ["E0101"]
    d = diags[0]
    assert d.severity == types.DiagnosticSeverity.Error
    assert "cannot find zone `contrl`" in d.message and "did you mean `control`?" in d.message
    # The range is the name, in UTF-16 columns (an emoji earlier on the line counts twice).
    assert d.range == range_of(text, "contrl")

    change(client, uri, 3, text, "contrl", "control")
    assert await diagnostics_for(client, uri, version=3) == []


async def test_an_edit_in_one_file_is_reported_in_another(client, site):
    uri = open_doc(client, site["site.pal"])
    await diagnostics_for(client, uri, version=1)
    conduits_uri = uri_of(site["conduits.pal"])
    # Renaming the zone in site.pal breaks every use of it in conduits.pal (not open).
    change(client, uri, 2, SITE, "zone control", "zone control_room")
    await wait_for(lambda: any(d.code == "E0101" for d in client.diagnostics.get(conduits_uri, [])), what="E0101 in conduits.pal")
    codes = [d.code for d in client.diagnostics[conduits_uri]]
    assert "E0101" in codes


async def test_syntax_errors_are_reported_and_recovered(client, site):
    uri = open_doc(client, site["site.pal"])
    await diagnostics_for(client, uri, version=1)
    change(client, uri, 2, SITE, "role operator", "role = operator")
    diags = await diagnostics_for(client, uri, version=2)
    assert any(d.code == "E0001" for d in diags)


async def test_closing_the_last_file_clears_the_site(client, site):
    uri = open_doc(client, site["conduits.pal"])
    await diagnostics_for(client, uri, version=1)
    site_uri = uri_of(site["site.pal"])
    await wait_for(lambda: client.diagnostics.get(site_uri), what="site.pal diagnostics")
    client.text_document_did_close(types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    await wait_for(lambda: client.diagnostics.get(site_uri) == [], what="cleared diagnostics")


async def test_files_changed_on_disk_are_reloaded(client, site):
    uri = open_doc(client, site["conduits.pal"])
    await diagnostics_for(client, uri, version=1)
    site_uri = uri_of(site["site.pal"])
    await wait_for(lambda: client.diagnostics.get(site_uri), what="site.pal diagnostics")
    # The unused role is removed outside the editor (say, by `git checkout`).
    site["site.pal"].write_text(SITE.replace('role operator "Operator"\n', ""), encoding="utf-8")
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(changes=[types.FileEvent(uri=site_uri, type=types.FileChangeType.Changed)])
    )
    await wait_for(lambda: client.diagnostics.get(site_uri) == [], what="W0901 gone")
    # A new file in the site's directory joins the site.
    extra = site["site.pal"].parent / "extra.pal"
    extra.write_text("zone spare { security_level 1; network 10.99.0.0/24 }\n", encoding="utf-8")
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(changes=[types.FileEvent(uri=uri_of(extra), type=types.FileChangeType.Created)])
    )
    await wait_for(lambda: any(d.code == "W0903" for d in client.diagnostics.get(uri_of(extra), [])), what="W0903 in extra.pal")


async def test_proofs_after_save_and_discarded_on_change(client, site):
    uri = open_doc(client, site["conduits.pal"])
    diags = await diagnostics_for(client, uri, version=1)
    assert not [d for d in diags if d.code.startswith("E1")]
    site_uri = uri_of(site["site.pal"])

    def proof_codes():
        return {d.code for u in (uri, site_uri) for d in client.diagnostics.get(u, []) if d.code.startswith("E1")}

    client.text_document_did_save(types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    # The verifier refutes the assertion (a Modbus rule crosses) and the SL of `control`.
    await wait_for(lambda: {"E1001", "E1101"} <= proof_codes(), what="proof results")
    refuted = next(d for d in client.diagnostics[uri] if d.code == "E1001")
    assert "packet 10.30.0.5 -> 10.40.0.11" in refuted.message
    assert refuted.range.start.line == pos_of(CONDUITS, "assert no_path").line
    # An edit makes the proofs stale: they disappear until the next save.
    change(client, uri, 2, CONDUITS, "  log\n", "  log\n\n")
    await diagnostics_for(client, uri, version=2)
    await wait_for(lambda: not proof_codes(), what="stale proofs withdrawn")
    client.text_document_did_save(types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    await wait_for(lambda: {"E1001", "E1101"} <= proof_codes(), what="proof results again")


# ---------------------------------------------------------------- hover


async def test_hover_zone_shows_security_levels_networks_and_assets(client, site):
    uri = open_doc(client, site["conduits.pal"])
    # `control` after an emoji on the same line: the column is in UTF-16 units.
    text = await hover_text(client, uri, pos_of(CONDUITS, "-> control", delta=4))
    assert "**zone** `control` — Basic process control" in text
    assert "| SL-T | 3 | 3 | 3 | 2 | 3 | 2 | 3 |" in text
    assert "`10.40.0.0/24`" in text
    assert "`plc_crude` at `10.40.0.11` (plc)" in text and "`dcs_1`" in text


async def test_hover_asset_shows_address_zone_kind_and_gap(client, site):
    uri = open_doc(client, site["conduits.pal"])
    text = await hover_text(client, uri, pos_of(CONDUITS, "plc_crude", delta=2))
    assert "**asset** `plc_crude` — Crude unit PLC" in text
    assert "address: `10.40.0.11`" in text
    assert "zone: `control`" in text
    assert "kind: plc" in text
    assert "below the zone's target on FR1, FR2, FR3, FR5, FR7" in text


async def test_hover_service_shows_ports_and_fields(client, site):
    uri = open_doc(client, site["conduits.pal"])
    text = await hover_text(client, uri, pos_of(CONDUITS, ": modbus", delta=3))
    assert "**service** `modbus`" in text
    assert "`tcp/502`" in text
    assert "(modbus): `function`, `unit`, `register`" in text
    assert "standard library" in text


async def test_hover_rule_explains_what_it_admits(client, site):
    uri = open_doc(client, site["conduits.pal"])
    text = await hover_text(client, uri, pos_of(CONDUITS, "allow mes"))
    assert "**rule 1** of conduit `supervision`" in text
    assert "from `mes`: `10.30.0.5`" in text
    assert "to `plc_crude`: `10.40.0.11`" in text
    assert "`modbus`: tcp/502" in text
    assert "`read_coils` (1), `read_holding_registers` (3)" in text
    assert "unit ids: 1" in text
    # A path through the firewall alone skips the gateway: the fields are not enforced.
    assert "a path crosses no inline gateway (through `fw_l3`): only the ports are enforced" in text
    assert "always open" in text
    text = await hover_text(client, uri, pos_of(CONDUITS, "allow eng_ws"))
    assert "work order `firmware_update`" in text


async def test_hover_function_name_from_the_catalogue(client, site):
    uri = open_doc(client, site["conduits.pal"])
    text = await hover_text(client, uri, pos_of(CONDUITS, "read_coils"))
    assert "**modbus function** `read_coils` = 1" in text
    assert "access: read" in text


# ---------------------------------------------------------------- navigation


async def test_definition_across_files(client, site):
    uri = open_doc(client, site["conduits.pal"])
    result = await client.text_document_definition_async(types.DefinitionParams(**tdpp(uri, pos_of(CONDUITS, "plc_crude"))))
    loc = result if isinstance(result, types.Location) else result[0]
    assert loc.uri == uri_of(site["site.pal"])
    assert loc.range == range_of(SITE, "plc_crude")


async def test_definition_of_a_catalogue_function_in_a_site_file(client, tmp_path):
    files = write_site(
        tmp_path / "own",
        {
            "site.pal": 'site "S" { timezone "UTC" }\nprotocol modbus { function read_coils = 1 { access read } }\n'
            'service mb = tcp/502 { inspect modbus }\nzone a { security_level 1; network 10.1.0.0/24; asset x at 10.1.0.1 }\n'
            "zone b { security_level 1; network 10.2.0.0/24; asset y at 10.2.0.1 }\n"
            "firewall f { target nftables; interface \"e0\" faces a; interface \"e1\" faces b }\n"
            "conduit c: a -> b { allow x -> y : mb { function [read_coils] } }\n"
        },
    )
    text = files["site.pal"].read_text()
    uri = open_doc(client, files["site.pal"])
    result = await client.text_document_definition_async(types.DefinitionParams(**tdpp(uri, pos_of(text, "read_coils", nth=1))))
    loc = result if isinstance(result, types.Location) else result[0]
    assert loc.range == range_of(text, "read_coils", nth=0)


async def test_references_across_files(client, site):
    uri = open_doc(client, site["site.pal"])
    refs = await client.text_document_references_async(
        types.ReferenceParams(**tdpp(uri, pos_of(SITE, "zone control", delta=6)), context=types.ReferenceContext(include_declaration=True))
    )
    by_file = {}
    for r in refs:
        by_file.setdefault(r.uri, []).append(r.range)
    assert by_file[uri] == [name_range(SITE, "zone control", "control")]
    conduits = by_file[uri_of(site["conduits.pal"])]
    # conduit header, gateway's `faces`, firewall's `inline between`, the work order's scope, the assertion.
    assert len(conduits) == 5
    assert range_of(CONDUITS, "-> control", 0).start.line == conduits[0].start.line


# ---------------------------------------------------------------- rename


async def test_rename_across_files(client, site):
    uri = open_doc(client, site["conduits.pal"])
    pos = pos_of(CONDUITS, "plc_crude")
    prep = await client.text_document_prepare_rename_async(types.PrepareRenameParams(**tdpp(uri, pos)))
    assert prep is not None
    edit = await client.text_document_rename_async(types.RenameParams(**tdpp(uri, pos), new_name="plc_main"))
    changes = edits_for(edit)
    assert set(changes) == {uri, uri_of(site["site.pal"])}
    new_conduits = apply_edits(CONDUITS, changes[uri])
    new_site = apply_edits(SITE, changes[uri_of(site["site.pal"])])
    assert "plc_crude" not in new_conduits + new_site
    assert new_conduits.count("plc_main") == 2
    # The renamed site checks as cleanly as before.
    out = write_site(site["site.pal"].parent.parent / "renamed", {"site.pal": new_site, "conduits.pal": new_conduits})
    report = cli_check(out["site.pal"].parent)
    assert report["errors"] == 0


@pytest.mark.parametrize(
    "new_name, reason",
    [
        ("dcs_1", "already defined as a asset"),
        ("modbus", "already defined as a service in the standard library"),
        ("zone", "is a keyword"),
        ("external", "is a keyword"),
        ("9lives", "is not a name"),
    ],
)
async def test_rename_refuses_clashes_and_keywords(client, site, new_name, reason):
    uri = open_doc(client, site["conduits.pal"])
    with pytest.raises(JsonRpcException) as err:
        await client.text_document_rename_async(types.RenameParams(**tdpp(uri, pos_of(CONDUITS, "plc_crude")), new_name=new_name))
    assert reason in str(err.value)


async def test_rename_refuses_standard_library_names(client, site):
    uri = open_doc(client, site["conduits.pal"])
    with pytest.raises(JsonRpcException) as err:
        await client.text_document_prepare_rename_async(types.PrepareRenameParams(**tdpp(uri, pos_of(CONDUITS, ": modbus", delta=3))))
    assert "standard library" in str(err.value)


async def test_rename_with_neovim_capabilities_uses_plain_changes(nvim_client, site):
    uri = open_doc(nvim_client, site["conduits.pal"])
    edit = await nvim_client.text_document_rename_async(types.RenameParams(**tdpp(uri, pos_of(CONDUITS, "gw_l2")), new_name="gw_main"))
    changes = edits_for(edit)
    assert apply_edits(CONDUITS, changes[uri]).count("gw_main") == 1


# ---------------------------------------------------------------- completion


async def complete(client, uri: str, text: str, needle: str, delta: int) -> dict[str, types.CompletionItem]:
    result = await client.text_document_completion_async(types.CompletionParams(**tdpp(uri, pos_of(text, needle, delta=delta))))
    items = result.items if isinstance(result, types.CompletionList) else result
    return {i.label: i for i in items}


async def test_completion_offers_services_after_a_rules_colon(client, site):
    uri = open_doc(client, site["conduits.pal"])
    items = await complete(client, uri, CONDUITS, ": s7comm", 2)
    assert {"modbus", "https", "s7comm", "opcua_sign"} <= set(items)
    assert "plc_crude" not in items and "zone" not in items


async def test_completion_offers_standard_services_with_their_use(client, tmp_path):
    text = SITE.replace("use std.services\n", "") + "conduit c: operations -> control {\n  allow mes -> plc_crude : \n}\n"
    files = write_site(tmp_path / "bare", {"site.pal": text})
    uri = open_doc(client, files["site.pal"])
    items = await complete(client, uri, text, "plc_crude : ", len("plc_crude : "))
    https = items["https"]
    assert "std.services" in https.detail
    assert [e.new_text for e in https.additional_text_edits] == ["use std.services\n"]


async def test_completion_offers_catalogue_functions(client, site):
    uri = open_doc(client, site["conduits.pal"])
    items = await complete(client, uri, CONDUITS, "read_holding_registers", 0)
    assert {"read_coils", "write_single_register", "diagnostics"} <= set(items)
    assert items["read_coils"].detail == "modbus 1 (read)"
    # DNP3 rules get DNP3's catalogue.
    text = CONDUITS.replace("modbus { function [read_holding_registers", "dnp3 { function [read")
    uri = open_doc(client, site["conduits.pal"].parent / "dnp.pal", text=text.replace("supervision", "other"))
    items = await complete(client, uri, text, "function [read", 10)
    assert {"read", "direct_operate"} <= set(items) and "read_coils" not in items


async def test_completion_offers_names_and_keywords_by_position(client, site):
    uri = open_doc(client, site["conduits.pal"])
    zones = await complete(client, uri, CONDUITS, "faces operations", 6)
    assert {"operations", "control", "external"} <= set(zones) and "mes" not in zones
    endpoints = await complete(client, uri, CONDUITS, "-> plc_crude : modbus", 3)
    assert {"plc_crude", "mes", "control", "any"} <= set(endpoints)
    workorders = await complete(client, uri, CONDUITS, "workorder firmware_update\n", 10)
    assert set(workorders) == {"firmware_update"}
    keywords = await complete(client, uri, CONDUITS, "  log", 2)
    assert {"allow", "unidirectional", "security_level"} <= set(keywords)
    assert keywords["allow"].kind == types.CompletionItemKind.Keyword


# ---------------------------------------------------------------- symbols


async def test_document_symbols_outline(client, site):
    uri = open_doc(client, site["site.pal"])
    symbols = await client.text_document_document_symbol_async(types.DocumentSymbolParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    by_name = {s.name: s for s in symbols}
    assert by_name["control"].kind == types.SymbolKind.Namespace
    assert [c.name for c in by_name["control"].children] == ["plc_crude", "dcs_1"]
    assert by_name["control"].selection_range == name_range(SITE, "zone control", "control")
    uri = open_doc(client, site["conduits.pal"])
    symbols = await client.text_document_document_symbol_async(types.DocumentSymbolParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    supervision = next(s for s in symbols if s.name == "supervision")
    assert supervision.detail == "operations -> control"
    assert len(supervision.children) == 2


async def test_workspace_symbols(client, site):
    open_doc(client, site["conduits.pal"])
    result = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="plc"))
    names = {s.name: s for s in result}
    assert "plc_crude" in names
    assert names["plc_crude"].location.uri == uri_of(site["site.pal"])
    assert "modbus" not in names  # the standard library is not the workspace


# ---------------------------------------------------------------- semantic tokens


def decode(data: list[int], legend: types.SemanticTokensLegend):
    line = col = 0
    out = []
    for i in range(0, len(data), 5):
        dl, dc, length, ty, mods = data[i : i + 5]
        line += dl
        col = col + dc if dl == 0 else dc
        out.append((line, col, length, legend.token_types[ty], mods))
    return out


async def test_semantic_tokens(client, site):
    uri = open_doc(client, site["conduits.pal"])
    legend = client.server_capabilities.semantic_tokens_provider.legend
    result = await client.text_document_semantic_tokens_full_async(types.SemanticTokensParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    tokens = {(line, col): (length, ty, mods) for line, col, length, ty, mods in decode(result.data, legend)}

    def at(needle, nth=0):
        p = pos_of(CONDUITS, needle, nth)
        return tokens[(p.line, p.character)]

    assert at("conduit")[1] == "keyword"
    assert at('"Supervisory')[1] == "string"
    assert at('"Supervisory')[0] == utf16_len('"Supervisory 🏭 control"')
    assert at("operations")[1] == "namespace"  # zones
    assert at("plc_crude")[1] == "variable"  # assets
    assert at("modbus {")[1] == "type"  # services
    assert at("modbus {")[2] & 2  # defaultLibrary: from std.services
    assert at("read_coils")[1] == "function"
    assert at("firmware_update")[1] == "event"
    assert at("fw_l3")[1:] == ("interface", 1)  # a declaration


# ---------------------------------------------------------------- formatting, folding


async def test_formatting_matches_palisade_fmt(client, site, tmp_path):
    messy = "zone  z   {security_level 1;network 10.9.0.0/24\n   asset a at 10.9.0.1 {kind plc}}\n"
    path = site["site.pal"].parent / "messy.pal"
    path.write_text(messy, encoding="utf-8")
    uri = open_doc(client, path)
    edits = await client.text_document_formatting_async(
        types.DocumentFormattingParams(text_document=types.TextDocumentIdentifier(uri=uri), options=types.FormattingOptions(tab_size=2, insert_spaces=True))
    )
    formatted = apply_edits(messy, edits)
    alone = tmp_path / "alone.pal"
    alone.write_text(messy, encoding="utf-8")
    subprocess.run([str(BIN), "fmt", str(alone)], check=True)
    assert formatted == alone.read_text(encoding="utf-8")
    # Formatting again changes nothing.
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=formatted)],
        )
    )
    again = await client.text_document_formatting_async(
        types.DocumentFormattingParams(text_document=types.TextDocumentIdentifier(uri=uri), options=types.FormattingOptions(tab_size=2, insert_spaces=True))
    )
    assert list(again) == []


async def test_folding_ranges(client, site):
    uri = open_doc(client, site["site.pal"])
    ranges = await client.text_document_folding_range_async(types.FoldingRangeParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    spans = {(r.start_line, r.end_line) for r in ranges}
    zone = pos_of(SITE, "zone control").line
    close = SITE.split("\n").index("}", zone)
    assert (zone, close - 1) in spans
    plc = pos_of(SITE, "asset plc_crude").line
    assert (plc, plc + 2) in spans


# ---------------------------------------------------------------- code actions


async def test_did_you_mean_fix(client, site):
    uri = open_doc(client, site["conduits.pal"])
    await diagnostics_for(client, uri, version=1)
    text = change(client, uri, 2, CONDUITS, "-> plc_crude : modbus", "-> plc_crud : modbus")
    diags = await diagnostics_for(client, uri, version=2)
    assert [d.code for d in diags] == ["E0101"]
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(text_document=types.TextDocumentIdentifier(uri=uri), range=diags[0].range, context=types.CodeActionContext(diagnostics=diags))
    )
    fix = next(a for a in actions if a.title == "replace with `plc_crude`")
    assert fix.kind == types.CodeActionKind.QuickFix
    fixed = apply_edits(text, edits_for(fix.edit)[uri])
    assert fixed == CONDUITS


async def test_compensating_justification_template(client, site):
    uri = open_doc(client, site["site.pal"])
    await diagnostics_for(client, uri, version=1)
    rng = range_of(SITE, "plc_crude")
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(text_document=types.TextDocumentIdentifier(uri=uri), range=rng, context=types.CodeActionContext(diagnostics=[]))
    )
    action = next(a for a in actions if a.title.startswith("add a compensating justification for `plc_crude`"))
    assert "(FR1, FR2, FR3, FR5, FR7)" in action.title
    new_site = apply_edits(SITE, edits_for(action.edit)[uri])
    assert "    compensating {\n      covers [FR1, FR2, FR3, FR5, FR7]\n      relies_on gateway gw_l2\n" in new_site
    assert f"expires {int(TODAY[:4]) + 1}{TODAY[4:]}" in new_site
    # The result is a valid site and the justification is complete.
    out = write_site(site["site.pal"].parent.parent / "justified", {"site.pal": new_site, "conduits.pal": CONDUITS})
    report = cli_check(out["site.pal"].parent)
    assert report["errors"] == 0, report
    # An asset that meets its zone's target gets no such action.
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri), range=range_of(SITE, "dcs_1"), context=types.CodeActionContext(diagnostics=[])
        )
    )
    assert not [a for a in actions or [] if "compensating" in a.title]


async def test_paths_with_spaces_and_non_ascii(client, tmp_path):
    files = write_site(tmp_path / "Anlage Süd #1", {"site.pal": SITE, "conduits.pal": CONDUITS})
    uri = open_doc(client, files["conduits.pal"])
    assert "%20" in uri and "%C3%BC" in uri
    await diagnostics_for(client, uri, version=1)
    await wait_for(lambda: client.diagnostics.get(uri_of(files["site.pal"])), what="site.pal diagnostics")
    result = await client.text_document_definition_async(types.DefinitionParams(**tdpp(uri, pos_of(CONDUITS, "plc_crude"))))
    loc = result if isinstance(result, types.Location) else result[0]
    assert loc.uri == uri_of(files["site.pal"])
