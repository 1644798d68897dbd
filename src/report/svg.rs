//! The zone/conduit diagram: a deterministic layout computed from the model alone.
//!
//! Zones sit in rows by their highest SL-T, lowest at the top (like the Purdue model:
//! `external` and business networks above, control below), in declaration order within a
//! row, and are coloured by SL-T. Conduits are curved arrows from the `from` zone to the `to`
//! zone (heads at both ends for `<->`), dashed red for unidirectional ones, labelled with
//! the conduit's name and the devices on every path.

use super::html::esc;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write;

const BOX_W: f64 = 190.0;
const BOX_H: f64 = 64.0;
const COL: f64 = 300.0;
/// Zones per row; a level with more zones takes several rows.
const PER_ROW: usize = 4;
const ROW: f64 = 170.0;
const MARGIN: f64 = 40.0;

/// Fill colour of a zone box by SL-T (0..4).
pub fn colour(level: u64) -> &'static str {
    match level {
        0 => "#d9d9d9",
        1 => "#c7e9c0",
        2 => "#fff3b0",
        3 => "#fdd0a2",
        _ => "#fcbba1",
    }
}

pub fn render(model: &Value) -> String {
    let empty = Vec::new();
    let zones = model["zones"].as_array().unwrap_or(&empty);
    let conduits = model["conduits"].as_array().unwrap_or(&empty);
    // Rows by SL-T, then position within the row.
    let mut levels: BTreeMap<u64, Vec<&Value>> = BTreeMap::new();
    for z in zones {
        levels
            .entry(z["sl_t_max"].as_u64().unwrap_or(0))
            .or_default()
            .push(z);
    }
    let mut rows: BTreeMap<(u64, usize), Vec<&Value>> = BTreeMap::new();
    for (level, zs) in &levels {
        for (i, chunk) in zs.chunks(PER_ROW).enumerate() {
            rows.insert((*level, i), chunk.to_vec());
        }
    }
    let widest = rows.values().map(|r| r.len()).max().unwrap_or(1).max(1);
    let width = MARGIN * 2.0 + COL * widest as f64 - (COL - BOX_W);
    let height = MARGIN * 2.0 + ROW * rows.len().max(1) as f64 - (ROW - BOX_H) + 50.0;
    let mut pos: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    for (r, (_, row)) in rows.iter().enumerate() {
        let offset = (widest - row.len()) as f64 * COL / 2.0;
        for (c, z) in row.iter().enumerate() {
            let name = z["name"].as_str().unwrap_or("").to_string();
            pos.insert(
                name,
                (MARGIN + offset + COL * c as f64, MARGIN + ROW * r as f64),
            );
        }
    }
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" id="diagram" role="img" aria-label="zones and conduits" viewBox="0 0 {width:.0} {height:.0}" width="100%" style="max-width:{width:.0}px" font-family="sans-serif" font-size="12">"##
    );
    s.push_str(r##"<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#333"/></marker><marker id="arrow-diode" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#b2182b"/></marker></defs>"##);
    for (r, (level, i)) in rows.keys().enumerate() {
        if *i > 0 {
            continue;
        }
        let y = MARGIN + ROW * r as f64 - 18.0;
        let _ = write!(
            s,
            r##"<text x="4" y="{y:.0}" fill="#666" font-size="11">SL-T {level}</text>"##
        );
    }
    // Conduits first, so the zone boxes sit on top of the lines.
    let mut seen: BTreeMap<(String, String), usize> = BTreeMap::new();
    for c in conduits {
        let from = c["from"].as_str().unwrap_or("");
        let to = c["to"].as_str().unwrap_or("");
        let (Some(&(x1, y1)), Some(&(x2, y2))) = (pos.get(from), pos.get(to)) else {
            continue;
        };
        let key = if from <= to {
            (from.to_string(), to.to_string())
        } else {
            (to.to_string(), from.to_string())
        };
        let n = seen.entry(key).or_insert(0);
        let k = *n as f64;
        *n += 1;
        let (cx1, cy1, cx2, cy2) = (
            x1 + BOX_W / 2.0,
            y1 + BOX_H / 2.0,
            x2 + BOX_W / 2.0,
            y2 + BOX_H / 2.0,
        );
        // Leave and enter at the box edges facing each other.
        let (sx, sy, ex, ey) = if (cy1 - cy2).abs() < 1.0 {
            // Along a row: an arc above the boxes, from top edge to top edge.
            // A second conduit between the same zones arcs below instead.
            let dir = if cx2 > cx1 { 1.0 } else { -1.0 };
            let edge = if k as usize % 2 == 1 { BOX_H } else { 0.0 };
            (cx1 + dir * 30.0, y1 + edge, cx2 - dir * 30.0, y2 + edge)
        } else if cy2 > cy1 {
            (cx1, cy1 + BOX_H / 2.0, cx2, cy2 - BOX_H / 2.0)
        } else {
            (cx1, cy1 - BOX_H / 2.0, cx2, cy2 + BOX_H / 2.0)
        };
        let same_row = (cy1 - cy2).abs() < 1.0;
        let bend = if same_row {
            -(24.0 + 0.18 * (cx2 - cx1).abs() + 26.0 * (k / 2.0).floor())
                * (cx2 - cx1).signum()
                * if k as usize % 2 == 1 { -1.0 } else { 1.0 }
        } else {
            30.0 + 28.0 * k
        };
        let (mx, my) = ((sx + ex) / 2.0, (sy + ey) / 2.0);
        let (dx, dy) = (ex - sx, ey - sy);
        let len = (dx * dx + dy * dy).sqrt().max(1.0);
        let (qx, qy) = (mx - dy / len * bend, my + dx / len * bend);
        let diode = c["unidirectional"].as_bool().unwrap_or(false);
        let both = c["bidirectional"].as_bool().unwrap_or(false);
        let (stroke, marker, dash) = if diode {
            ("#b2182b", "url(#arrow-diode)", r#" stroke-dasharray="6 3""#)
        } else {
            ("#333", "url(#arrow)", "")
        };
        let start = if both {
            format!(r#" marker-start="{marker}""#)
        } else {
            String::new()
        };
        let _ = write!(
            s,
            r#"<g class="conduit"><title>{title}</title><path d="M{sx:.1},{sy:.1} Q{qx:.1},{qy:.1} {ex:.1},{ey:.1}" fill="none" stroke="{stroke}" stroke-width="{w}"{dash} marker-end="{marker}"{start}/>"#,
            title = esc(&conduit_title(c)),
            w = if diode { 2.5 } else { 1.6 },
        );
        let (lx, ly) = (
            0.25 * sx + 0.5 * qx + 0.25 * ex,
            0.25 * sy + 0.5 * qy + 0.25 * ey,
        );
        let mut label = c["name"].as_str().unwrap_or("").to_string();
        if diode {
            label.push_str(" (diode)");
        }
        let devices: Vec<&str> = c["devices"]
            .as_array()
            .map(|d| d.iter().filter_map(|x| x.as_str()).collect())
            .unwrap_or_default();
        let _ = write!(
            s,
            r##"<text x="{lx:.1}" y="{ly:.1}" text-anchor="middle" fill="{stroke}" stroke="#fff" stroke-width="3" paint-order="stroke">{}</text>"##,
            esc(&label)
        );
        let dev = if devices.is_empty() {
            "no enforcing device".to_string()
        } else {
            format!("via {}", devices.join(", "))
        };
        let _ = write!(
            s,
            r##"<text x="{lx:.1}" y="{:.1}" text-anchor="middle" fill="#555" font-size="10" stroke="#fff" stroke-width="3" paint-order="stroke">{}</text></g>"##,
            ly + 13.0,
            esc(&dev)
        );
    }
    // Links and bridge assets join zones with no filtering: thick dotted lines, no arrow.
    for l in model["links"].as_array().unwrap_or(&empty) {
        let names: Vec<&str> = l["zones"]
            .as_array()
            .map(|a| a.iter().filter_map(|x| x.as_str()).collect())
            .unwrap_or_default();
        for pair in names.windows(2) {
            let [a, b] = pair else { continue };
            let (Some(&(x1, y1)), Some(&(x2, y2))) = (pos.get(*a), pos.get(*b)) else {
                continue;
            };
            let (sx, sy, ex, ey) = (x1 + BOX_W / 2.0, y1 + BOX_H, x2 + BOX_W / 2.0, y2 + BOX_H);
            let (qx, qy) = ((sx + ex) / 2.0, sy.max(ey) + 40.0);
            let kind = l["kind"].as_str().unwrap_or("link");
            let name = l["name"].as_str().unwrap_or("");
            let _ = write!(
                s,
                r##"<g class="link"><title>{t}</title><path d="M{sx:.1},{sy:.1} Q{qx:.1},{qy:.1} {ex:.1},{ey:.1}" fill="none" stroke="#e6550d" stroke-width="3" stroke-dasharray="2 4"/><text x="{qx:.1}" y="{ly:.1}" text-anchor="middle" fill="#e6550d" font-size="11" stroke="#fff" stroke-width="3" paint-order="stroke">{label}</text></g>"##,
                t = esc(&format!(
                    "{kind} {name}: {a} and {b} joined with no filtering"
                )),
                ly = (sy.max(ey) + qy) / 2.0 + 4.0,
                label = esc(&format!("{kind} {name} (unfiltered)")),
            );
        }
    }
    for z in zones {
        let name = z["name"].as_str().unwrap_or("");
        let Some(&(x, y)) = pos.get(name) else {
            continue;
        };
        let level = z["sl_t_max"].as_u64().unwrap_or(0);
        let sl_t = sl_text(&z["sl_t"]);
        let title = z["title"].as_str().unwrap_or("");
        let _ = write!(
            s,
            r##"<g class="zone"><title>{t}</title><rect x="{x:.0}" y="{y:.0}" width="{BOX_W}" height="{BOX_H}" rx="8" fill="{fill}" stroke="#444" stroke-width="1.2"/><text x="{tx:.0}" y="{y1:.0}" text-anchor="middle" font-weight="bold" font-size="13">{n}</text><text x="{tx:.0}" y="{y2:.0}" text-anchor="middle" font-size="10" fill="#333">{sub}</text><text x="{tx:.0}" y="{y3:.0}" text-anchor="middle" font-size="10" fill="#333">SL-T {sl}, {a} asset(s)</text></g>"##,
            t = esc(&format!("zone {name}: {title}")),
            fill = colour(level),
            tx = x + BOX_W / 2.0,
            y1 = y + 20.0,
            y2 = y + 36.0,
            y3 = y + 52.0,
            n = esc(&truncate(name, 26)),
            sub = esc(&truncate(title, 32)),
            sl = esc(&sl_t),
            a = z["assets"].as_u64().unwrap_or(0),
        );
    }
    s.push_str("</svg>");
    s
}

fn conduit_title(c: &Value) -> String {
    let arrow = if c["bidirectional"].as_bool().unwrap_or(false) {
        "<->"
    } else {
        "->"
    };
    format!(
        "conduit {}: {} {arrow} {}{}",
        c["name"].as_str().unwrap_or(""),
        c["from"].as_str().unwrap_or(""),
        c["to"].as_str().unwrap_or(""),
        if c["unidirectional"].as_bool().unwrap_or(false) {
            " (unidirectional)"
        } else {
            ""
        }
    )
}

/// An SL vector for people: one number when all FRs agree, else `FR1 2 / FR2 3 / …`.
pub fn sl_text(v: &Value) -> String {
    let levels: Vec<u64> = v
        .as_array()
        .map(|a| a.iter().filter_map(|x| x.as_u64()).collect())
        .unwrap_or_default();
    match levels.first() {
        Some(first) if levels.iter().all(|l| l == first) => first.to_string(),
        Some(_) => levels
            .iter()
            .map(|l| l.to_string())
            .collect::<Vec<_>>()
            .join("/"),
        None => "-".into(),
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n.saturating_sub(1)).collect::<String>() + "…"
    }
}
