//! `report.html`: the model as one self-contained page. No script at all, and a
//! Content-Security-Policy that forbids any, so a hostile name in the site can at worst
//! show up as text: every string from the source passes through [`esc`].

use super::svg;
use serde_json::Value;
use std::fmt::Write;

/// Escape text for HTML content and attribute values ([`palisade_targets::text::html`]).
pub fn esc(s: &str) -> String {
    palisade_targets::text::html(s)
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => esc(s),
        Value::Null => "-".into(),
        Value::Bool(b) => if *b { "yes" } else { "no" }.into(),
        Value::Array(a) => a.iter().map(text).collect::<Vec<_>>().join(", "),
        other => esc(&other.to_string()),
    }
}

/// `m[a][b]`, or null.
fn field<'a>(m: &'a Value, a: &str, b: &str) -> &'a Value {
    m.get(a).and_then(|x| x.get(b)).unwrap_or(&Value::Null)
}

fn list(v: &Value) -> Vec<&Value> {
    v.as_array().map(|a| a.iter().collect()).unwrap_or_default()
}

fn place(v: &Value) -> String {
    if v.is_null() {
        return String::new();
    }
    let mut s = format!(
        "<span class=\"loc\">{}",
        esc(v["file"].as_str().unwrap_or(""))
    );
    if let Some(l) = v["line"].as_u64() {
        let _ = write!(s, ":{l}:{}", v["column"].as_u64().unwrap_or(1));
    }
    s.push_str("</span>");
    if let Some(t) = v["text"].as_str() {
        let _ = write!(s, "<pre class=\"src\">{}</pre>", esc(t));
    }
    s
}

fn verdict(v: &str) -> String {
    format!("<span class=\"v {c}\">{t}</span>", c = esc(v), t = esc(v))
}

const CSS: &str = "body{font-family:sans-serif;margin:24px;color:#222;max-width:1400px}h1{margin-bottom:4px}h2{border-bottom:2px solid #ccc;padding-bottom:4px;margin-top:36px}\
table{border-collapse:collapse;margin:8px 0;font-size:13px}td,th{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top}th{background:#f0f0f0}\
.v{font-weight:bold;padding:1px 6px;border-radius:3px}.proved,.supported{background:#c7e9c0}.refuted,.contradicted{background:#fcbba1}.unknown,.undecided{background:#fff3b0}.none{background:#eee}\
.banner{padding:10px 14px;border-radius:6px;font-size:16px;margin:12px 0}.ok{background:#c7e9c0}.bad{background:#fcbba1}\
pre.src{margin:2px 0;background:#f7f7f7;padding:2px 4px;font-size:12px;white-space:pre-wrap}.loc{font-family:monospace;font-size:12px;color:#555}\
.mono{font-family:monospace;font-size:12px;word-break:break-all}.legend span{display:inline-block;padding:2px 8px;margin-right:6px;border:1px solid #444;border-radius:4px}\
.matrix td{text-align:center;font-size:11px}.matrix td.self{background:#eee}.matrix td.open{background:#fff3b0}.matrix td.unf{background:#fcbba1}.diagram{overflow-x:auto;border:1px solid #ddd;padding:8px}\
.gap-open{background:#fcbba1}.gap-closed{background:#c7e9c0}.small{font-size:12px;color:#555}";

pub fn render(m: &Value, json_sha256: &str) -> String {
    let mut h = String::new();
    let site = field(m, "site", "name").as_str().unwrap_or("");
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\
<title>Palisade report: {}</title><style>{CSS}</style></head><body>\n",
        esc(site)
    );
    let _ = write!(h, "<h1>Segmentation evidence: {}</h1>", esc(site));
    if let Some(d) = field(m, "site", "description").as_str() {
        let _ = write!(h, "<p>{}</p>", esc(d));
    }
    let sum = &m["summary"];
    let ok = sum["all_proved"].as_bool().unwrap_or(false);
    let _ = write!(
        h,
        "<div class=\"banner {}\" id=\"summary\">{}: {} proved, {} refuted, {} unknown; {} error(s), {} warning(s)</div>",
        if ok { "ok" } else { "bad" },
        if ok { "Every property is proved" } else { "Not every property is proved" },
        sum["proved"],
        sum["refuted"],
        sum["unknown"],
        sum["errors"],
        sum["warnings"]
    );
    let _ = write!(
        h,
        "<p class=\"small\">Palisade {}, time zone {}",
        text(field(m, "tool", "version")),
        text(field(m, "site", "timezone"))
    );
    if let Some(d) = m["date"].as_str() {
        let _ = write!(h, ", report date {}", esc(d));
    }
    h.push_str(". The same content is in <code>report.json</code>; <code>SHA256SUMS</code> holds both files' hashes.</p>");
    h.push_str("<nav><a href=\"#glance\">Site at a glance</a> · <a href=\"#properties\">Properties</a> · <a href=\"#matrix\">Reachability</a> · <a href=\"#levels\">Security levels</a> · <a href=\"#workorders\">Work orders</a> · <a href=\"#iec62443\">IEC 62443-3-3</a> · <a href=\"#provenance\">Inputs and outputs</a></nav>");

    // Site at a glance.
    h.push_str("<h2 id=\"glance\">Site at a glance</h2><p class=\"legend\">SL-T: ");
    for l in 0..=4u64 {
        let _ = write!(
            h,
            "<span style=\"background:{}\">{l}</span>",
            svg::colour(l)
        );
    }
    h.push_str(" Arrows point from the zone that opens connections; dashed red: unidirectional (diode); labels name the devices on every path; dotted orange: a link or bridge asset that joins zones with no filtering.</p>");
    let _ = write!(h, "<div class=\"diagram\">{}</div>", svg::render(m));
    h.push_str("<table><tr><th>Conduit</th><th>From</th><th>To</th><th>Direction</th><th>Enforced by</th><th>SL</th><th>Rules</th></tr>");
    for c in list(&m["conduits"]) {
        let dir = if c["unidirectional"].as_bool().unwrap_or(false) {
            "unidirectional"
        } else if c["bidirectional"].as_bool().unwrap_or(false) {
            "both ways"
        } else {
            "one way (replies return)"
        };
        let rules: Vec<String> = list(&c["rules"])
            .iter()
            .map(|r| match r["workorder"].as_str() {
                Some(w) => format!(
                    "{} <i>(work order {})</i>",
                    esc(r["text"].as_str().unwrap_or("")),
                    esc(w)
                ),
                None => esc(r["text"].as_str().unwrap_or("")),
            })
            .collect();
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{dir}</td><td>{}</td><td>{}</td><td class=\"mono\">{}</td></tr>",
            text(&c["name"]),
            text(&c["from"]),
            text(&c["to"]),
            if list(&c["devices"]).is_empty() { "<b>none</b>".to_string() } else { text(&c["devices"]) },
            if c["security_level"].is_null() { "-".into() } else { esc(&svg::sl_text(&c["security_level"])) },
            rules.join("<br>")
        );
    }
    h.push_str("</table>");

    // Properties.
    h.push_str("<h2 id=\"properties\">Properties</h2><table><tr><th>Property</th><th>Scenario</th><th>Verdict</th><th>What was checked</th><th>Source</th></tr>");
    // Refuted and undecided first: that is what an assessor must see.
    let mut props = list(&m["properties"]);
    props.sort_by_key(|r| match r["verdict"].as_str() {
        Some("refuted") => 0,
        Some("unknown") => 1,
        _ => 2,
    });
    for r in props {
        let v = r["verdict"].as_str().unwrap_or("");
        let _ = write!(
            h,
            "<tr class=\"prop\"><td><b>{}</b><div class=\"small\">{}</div></td><td>{}</td><td>{}</td><td>{}",
            text(&r["property"]),
            text(&r["origin"]),
            text(&r["scenario"]),
            verdict(v),
            text(&r["checked"])
        );
        for n in list(&r["notes"]) {
            let _ = write!(h, "<div class=\"small\">{}</div>", text(n));
        }
        let cx = &r["counterexample"];
        if !cx.is_null() {
            let _ = write!(
                h,
                "<div class=\"counterexample\"><b>Counterexample:</b> {}<ol>",
                text(&cx["summary"])
            );
            for s in list(&cx["steps"]) {
                let _ = write!(
                    h,
                    "<li><code>{}</code> → <code>{}</code> by {}",
                    text(&s["from"]),
                    text(&s["to"]),
                    text(&s["via"])
                );
                if let Some(c) = s["conduit"].as_str() {
                    let _ = write!(h, " in conduit <code>{}</code>", esc(c));
                }
                if let Some(p) = s["packet"].as_str() {
                    let _ = write!(h, "<div class=\"mono\">packet: {}</div>", esc(p));
                }
                if !list(&s["devices"]).is_empty() {
                    let _ = write!(
                        h,
                        "<div class=\"small\">crosses {}</div>",
                        text(&s["devices"])
                    );
                }
                let _ = write!(
                    h,
                    "<div class=\"small\">{}</div>{}</li>",
                    text(&s["label"]),
                    place(&s["location"])
                );
            }
            h.push_str("</ol></div>");
        }
        let _ = write!(h, "</td><td>{}</td></tr>", place(&r["location"]));
    }
    h.push_str("</table>");

    // Matrix.
    h.push_str("<h2 id=\"matrix\">Zone-to-zone reachability (base state)</h2>");
    let mx = &m["matrix"];
    let zones: Vec<&str> = list(&mx["zones"])
        .iter()
        .filter_map(|z| z.as_str())
        .collect();
    h.push_str("<p class=\"small\">Row: the zone that opens connections; column: the zone it reaches. A cell lists the services; <b>all</b> means an unfiltered link or bridge. Every entry was cross-checked by Z3.</p><table class=\"matrix\"><tr><th>from \\ to</th>");
    for z in &zones {
        let _ = write!(h, "<th>{}</th>", esc(z));
    }
    h.push_str("</tr>");
    let entries = list(&mx["entries"]);
    for a in &zones {
        let _ = write!(h, "<tr><th>{}</th>", esc(a));
        for b in &zones {
            if a == b {
                h.push_str("<td class=\"self\"></td>");
                continue;
            }
            match entries.iter().find(|e| e["from"] == *a && e["to"] == *b) {
                Some(e) if e["unfiltered"].as_bool().unwrap_or(false) => {
                    h.push_str("<td class=\"unf\">all</td>")
                }
                Some(e) => {
                    let mut cell = text(&e["services"]);
                    for d in list(&e["during"]) {
                        let _ = write!(
                            cell,
                            "<div class=\"small\">during {}: {}</div>",
                            text(&d[0]),
                            text(&d[1])
                        );
                    }
                    let _ = write!(
                        h,
                        "<td class=\"open\" title=\"{}\">{cell}</td>",
                        text(&e["enforcement"])
                    );
                }
                None => h.push_str("<td>-</td>"),
            }
        }
        h.push_str("</tr>");
    }
    h.push_str("</table>");

    // Security levels.
    h.push_str("<h2 id=\"levels\">Security levels</h2><p class=\"small\">Per zone and foundational requirement: the target SL-T, each asset's capability SL-C, and the achieved SL-A (the lowest SL-C, raised to the target only where a compensating control whose reliance is proved covers the FR).</p>");
    for z in list(&m["levels"]) {
        let meets = z["meets_target"].as_bool().unwrap_or(false);
        let _ = write!(
            h,
            "<h3>Zone {}</h3><p>Base state, as computed below: SL-A {} SL-T.",
            text(&z["zone"]),
            if meets {
                "meets"
            } else {
                "<b>falls short of</b>"
            }
        );
        for r in list(&z["proofs"]) {
            let _ = write!(
                h,
                " <span class=\"small\">{} [{}]</span> {}",
                text(&r["property"]),
                text(&r["scenario"]),
                verdict(r["verdict"].as_str().unwrap_or(""))
            );
        }
        h.push_str("</p><table><tr><th></th>");
        for fr in 1..=7 {
            let _ = write!(h, "<th>FR{fr}</th>");
        }
        h.push_str("<th>Compensating controls</th></tr>");
        let row = |label: &str, v: &Value| {
            let mut r = format!("<tr><th>{label}</th>");
            for i in 0..7 {
                let _ = write!(
                    r,
                    "<td>{}</td>",
                    v.get(i).map(text).unwrap_or_else(|| "-".into())
                );
            }
            r
        };
        h.push_str(&row("SL-T", &z["sl_t"]));
        h.push_str("<td></td></tr>");
        h.push_str(&row("SL-A", &z["sl_a"]));
        h.push_str("<td></td></tr>");
        for a in list(&z["assets"]) {
            h.push_str(&row(&format!("SL-C {}", text(&a["name"])), &a["sl_c"]));
            h.push_str("<td>");
            for c in list(&a["controls"]) {
                let _ = write!(
                    h,
                    "<div>covers {}; relies on {} ({}: {}); owner {}, expires {}; because {}{}</div>",
                    text(&c["covers"]),
                    text(&c["relies_on"]),
                    if c["reliance_proved"].as_bool().unwrap_or(false) { "proved" } else { "<b>not proved</b>" },
                    text(&c["reliance"]),
                    text(&c["owner"]),
                    text(&c["expires"]),
                    text(&c["because"]),
                    place(&c["location"])
                );
            }
            h.push_str("</td></tr>");
        }
        h.push_str("</table>");
        let gaps = list(&z["gaps"]);
        if !gaps.is_empty() {
            h.push_str("<table><tr><th>Gap</th><th>Asset</th><th>SL-C</th><th>SL-T</th><th>Covered</th></tr>");
            for g in gaps {
                let closed = g["closed"].as_bool().unwrap_or(false);
                let _ = write!(
                    h,
                    "<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    if closed { "gap-closed" } else { "gap-open" },
                    text(&g["fr"]),
                    text(&g["asset"]),
                    text(&g["sl_c"]),
                    text(&g["sl_t"]),
                    if closed {
                        "by a compensating control whose reliance is proved"
                    } else {
                        "not covered"
                    }
                );
            }
            h.push_str("</table>");
        }
    }

    // Work orders.
    h.push_str("<h2 id=\"workorders\">Work orders</h2>");
    let wos = list(&m["workorders"]);
    if wos.is_empty() {
        h.push_str("<p>The site has no work orders.</p>");
    } else {
        h.push_str("<table><tr><th>Work order</th><th>Requested by</th><th>Approved by</th><th>Windows</th><th>Limits</th><th>Opens</th><th>Approval proofs</th></tr>");
        for w in wos {
            let secs = |v: &Value| {
                v.as_u64()
                    .map(|s| format!("{s} s"))
                    .unwrap_or_else(|| "none".into())
            };
            let limits = format!(
                "max duration {}; review after {}; emergency {}; separation of duties {}",
                secs(&w["max_duration_s"]),
                secs(&w["review_after_s"]),
                text(&w["emergency"]),
                text(&w["separation_of_duties"])
            );
            let proofs: Vec<String> = list(&w["approval_proofs"])
                .iter()
                .map(|p| {
                    format!(
                        "{} {}",
                        text(&p["property"]),
                        verdict(p["verdict"].as_str().unwrap_or(""))
                    )
                })
                .collect();
            let _ = write!(
                h,
                "<tr><td><b>{}</b><div class=\"small\">{}</div><div class=\"small\">scope: {}</div></td><td>{}</td><td>{}</td><td>{}</td><td>{limits}</td><td>conduits: {}<div class=\"mono\">{}</div></td><td>{}</td></tr>",
                text(&w["name"]),
                text(&w["title"]),
                text(&w["scope"]),
                text(&w["requested_by"]),
                list(&w["approvals"]).iter().map(|a| text(a)).collect::<Vec<_>>().join("<br>"),
                text(&w["windows"]),
                text(&w["opens"]),
                list(&w["rules"]).iter().map(|a| text(a)).collect::<Vec<_>>().join("<br>"),
                proofs.join("<br>")
            );
        }
        h.push_str("</table>");
    }

    // IEC 62443-3-3.
    let iec = &m["iec62443"];
    let _ = write!(
        h,
        "<h2 id=\"iec62443\">IEC 62443-3-3 system requirements</h2><p><b>{}.</b> {}</p>",
        text(&iec["profile"]),
        text(&iec["disclaimer"])
    );
    h.push_str("<h3>Where the site gives evidence</h3><table><tr><th>SR</th><th>Requirement</th><th>Status</th><th>Evidence from</th><th>Properties</th></tr>");
    for e in list(&iec["evidenced"]) {
        let status = e["status"].as_str().unwrap_or("");
        let class = if status.starts_with("no evidence") {
            "none"
        } else {
            status
        };
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td><span class=\"v {}\">{}</span></td><td>{}</td><td class=\"small\">{}</td></tr>",
            text(&e["sr"]),
            text(&e["title"]),
            esc(class),
            esc(status),
            text(&e["evidence_from"]),
            list(&e["properties"]).iter().map(|p| text(p)).collect::<Vec<_>>().join("<br>")
        );
    }
    h.push_str("</table><h3>What the model cannot speak to</h3><table><tr><th>SR</th><th>Requirement</th><th>Why</th></tr>");
    for e in list(&iec["not_addressed"]) {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td class=\"small\">{}</td></tr>",
            text(&e["sr"]),
            text(&e["title"]),
            text(&e["why"])
        );
    }
    h.push_str("</table>");

    // Diagnostics.
    let diags = list(&m["diagnostics"]);
    if !diags.is_empty() {
        h.push_str("<h2 id=\"diagnostics\">Findings</h2><table><tr><th>Code</th><th>Severity</th><th>Message</th><th>Source</th></tr>");
        for d in diags {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                text(&d["code"]),
                text(&d["severity"]),
                text(&d["message"]),
                place(&d["location"])
            );
        }
        h.push_str("</table>");
    }

    // Provenance.
    h.push_str("<h2 id=\"provenance\">Inputs and outputs</h2><table><tr><th>Input</th><th>SHA-256</th></tr>");
    for i in list(&m["inputs"]) {
        let std = if i["std"].as_bool().unwrap_or(false) {
            " <i>(standard library)</i>"
        } else {
            ""
        };
        let _ = write!(
            h,
            "<tr><td>{}{std}</td><td class=\"mono\">{}</td></tr>",
            text(&i["path"]),
            text(&i["sha256"])
        );
    }
    let _ = write!(
        h,
        "<tr><th>Output</th><th>SHA-256</th></tr><tr><td>report.json (this report's content)</td><td class=\"mono\">{}</td></tr></table>\
<p class=\"small\">The deployed rulesets carry the same source hashes in their headers (<code>palisade build</code>), which ties them to this report.</p>",
        esc(json_sha256)
    );
    h.push_str("</body></html>\n");
    h
}
