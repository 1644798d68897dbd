//! BPMN 2.0 XML of one work order's workflow, with complete BPMNDI so that it opens in BPMN
//! modelers, valid against the BPMN 2.0 XSD (as SpiffWorkflow checks it) and clean under
//! bpmnlint's recommended rules.
//!
//! Conditions, timer expressions and scripts are Python, as SpiffWorkflow evaluates them.
//! The service tasks carry their command in `palisade:command` (argument by argument, the
//! instance's targets as `<palisade:arg each="assets"/>`) and, for nftables, the statements
//! that add or delete the timed-set elements, per firewall and target (`palisade:nft`), inside
//! `bpmn:extensionElements` (namespace [`NAMESPACE`]); their documentation shows the command
//! line.
//!
//! Every string from the source is escaped for XML (and characters XML cannot carry at all
//! are replaced), so no name or title can change the document's structure.

use super::layout::{layout, Bounds};
use super::model::{Action, Arg, Kind, Step, Timer, Workflow};
use crate::header;
use crate::text;
use palisade_compiler::ir::Policy;
use std::fmt::Write;

/// The namespace of Palisade's extension elements.
pub const NAMESPACE: &str = "urn:palisade:bpmn:1";

/// Text made safe for XML character data and attribute values ([`text::xml`]).
pub fn escape(s: &str) -> String {
    text::xml(s)
}

/// Multi-line text (scripts, documentation) as element content: newlines kept as such.
fn escape_block(s: &str) -> String {
    let lines: Vec<String> = s.split('\n').map(escape).collect();
    lines.join("\n")
}

fn timer_xml(out: &mut String, indent: &str, timer: &Timer) {
    let (tag, expr) = match timer {
        Timer::At(field) => ("timeDate", field.clone()),
        Timer::After(secs) => (
            "timeDuration",
            format!("\"{}\"", super::json::iso_duration(*secs)),
        ),
    };
    let _ = writeln!(out, "{indent}<bpmn:timerEventDefinition>");
    let _ = writeln!(
        out,
        "{indent}  <bpmn:{tag} xsi:type=\"bpmn:tFormalExpression\">{}</bpmn:{tag}>",
        escape(&expr)
    );
    let _ = writeln!(out, "{indent}</bpmn:timerEventDefinition>");
}

fn action_xml(out: &mut String, action: &Action) {
    let _ = writeln!(out, "      <bpmn:extensionElements>");
    let _ = writeln!(out, "        <palisade:command action=\"{}\">", action.name);
    for a in &action.argv {
        match a {
            Arg::Literal(s) => {
                let _ = writeln!(out, "          <palisade:arg>{}</palisade:arg>", escape(s));
            }
            Arg::EachTarget => {
                let _ = writeln!(out, "          <palisade:arg each=\"assets\"/>");
            }
        }
    }
    let _ = writeln!(out, "        </palisade:command>");
    for e in &action.elements {
        let _ = writeln!(
            out,
            "        <palisade:nft device=\"{}\" target=\"{}\">{}</palisade:nft>",
            escape(&e.device),
            escape(&e.target),
            escape_block(&e.nft)
        );
    }
    let _ = writeln!(out, "      </bpmn:extensionElements>");
}

fn bounds(b: &Bounds) -> String {
    format!(
        "<dc:Bounds x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/>",
        b.x, b.y, b.width, b.height
    )
}

/// The BPMN document body (without the provenance comment).
pub fn body(policy: &Policy, wf: &Workflow) -> String {
    let lay = layout(wf);
    let id = &wf.process_id;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<bpmn:definitions xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\" xmlns:bpmndi=\"http://www.omg.org/spec/BPMN/20100524/DI\" xmlns:dc=\"http://www.omg.org/spec/DD/20100524/DC\" xmlns:di=\"http://www.omg.org/spec/DD/20100524/DI\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xmlns:palisade=\"{NAMESPACE}\" id=\"definitions_{id}\" targetNamespace=\"{NAMESPACE}\" exporter=\"Palisade\" exporterVersion=\"{}\">",
        header::VERSION
    );
    let _ = writeln!(out, "  <bpmn:collaboration id=\"collaboration_{id}\">");
    let _ = writeln!(
        out,
        "    <bpmn:participant id=\"participant_{id}\" name=\"{}\" processRef=\"{id}\"/>",
        escape(&format!("{} ({})", wf.name, policy.site.name))
    );
    let _ = writeln!(out, "  </bpmn:collaboration>");
    let _ = writeln!(
        out,
        "  <bpmn:process id=\"{id}\" name=\"{}\" isExecutable=\"true\">",
        escape(&wf.name)
    );
    let wo = policy.workorder(wf.order);
    if let Some(d) = wo.and_then(|w| w.description.as_ref()) {
        let _ = writeln!(
            out,
            "    <bpmn:documentation>{}</bpmn:documentation>",
            escape_block(d)
        );
    }
    let _ = writeln!(out, "    <bpmn:laneSet id=\"laneset_{id}\">");
    for (l, lane) in wf.lanes.iter().enumerate() {
        let _ = writeln!(
            out,
            "      <bpmn:lane id=\"{}\" name=\"{}\">",
            lane.id,
            escape(&lane.name)
        );
        for n in wf.nodes.iter().filter(|n| n.lane == l) {
            let _ = writeln!(out, "        <bpmn:flowNodeRef>{}</bpmn:flowNodeRef>", n.id);
        }
        let _ = writeln!(out, "      </bpmn:lane>");
    }
    let _ = writeln!(out, "    </bpmn:laneSet>");

    for (i, n) in wf.nodes.iter().enumerate() {
        let (tag, extra) = match &n.kind {
            Kind::Start => ("startEvent", String::new()),
            Kind::End => ("endEvent", String::new()),
            Kind::UserTask => ("userTask", String::new()),
            Kind::ScriptTask(_) => ("scriptTask", " scriptFormat=\"python\"".to_string()),
            Kind::ServiceTask => ("serviceTask", String::new()),
            Kind::Exclusive => {
                let default = wf.flows.iter().find(|f| f.source == i && f.default);
                (
                    "exclusiveGateway",
                    default
                        .map(|f| format!(" default=\"{}\"", f.id))
                        .unwrap_or_default(),
                )
            }
            Kind::Parallel => ("parallelGateway", String::new()),
            Kind::TimerCatch(_) => ("intermediateCatchEvent", String::new()),
            Kind::Boundary {
                host, interrupting, ..
            } => (
                "boundaryEvent",
                format!(
                    " cancelActivity=\"{interrupting}\" attachedToRef=\"{}\"",
                    wf.nodes.get(*host).map(|h| h.id.as_str()).unwrap_or("")
                ),
            ),
        };
        let _ = writeln!(
            out,
            "    <bpmn:{tag} id=\"{}\" name=\"{}\"{extra}>",
            n.id,
            escape(&n.name)
        );
        if let Some(doc) = &n.doc {
            let _ = writeln!(
                out,
                "      <bpmn:documentation>{}</bpmn:documentation>",
                escape_block(doc)
            );
        }
        if let Step::OpenAccess(a) | Step::CloseAccess(a) = &n.step {
            action_xml(&mut out, a);
        }
        for f in wf.flows.iter().filter(|f| f.target == i) {
            let _ = writeln!(out, "      <bpmn:incoming>{}</bpmn:incoming>", f.id);
        }
        for f in wf.flows.iter().filter(|f| f.source == i) {
            let _ = writeln!(out, "      <bpmn:outgoing>{}</bpmn:outgoing>", f.id);
        }
        match &n.kind {
            Kind::ScriptTask(script) => {
                let _ = writeln!(
                    out,
                    "      <bpmn:script>{}</bpmn:script>",
                    escape_block(script)
                );
            }
            Kind::TimerCatch(t) | Kind::Boundary { timer: t, .. } => {
                timer_xml(&mut out, "      ", t)
            }
            _ => {}
        }
        let _ = writeln!(out, "    </bpmn:{tag}>");
    }
    for f in &wf.flows {
        let (Some(s), Some(t)) = (wf.nodes.get(f.source), wf.nodes.get(f.target)) else {
            continue;
        };
        let name = f
            .name
            .as_ref()
            .map(|n| format!(" name=\"{}\"", escape(n)))
            .unwrap_or_default();
        match &f.cond {
            Some(c) => {
                let _ = writeln!(
                    out,
                    "    <bpmn:sequenceFlow id=\"{}\"{name} sourceRef=\"{}\" targetRef=\"{}\">",
                    f.id, s.id, t.id
                );
                let _ = writeln!(out, "      <bpmn:conditionExpression xsi:type=\"bpmn:tFormalExpression\">{}</bpmn:conditionExpression>", escape(&c.python()));
                let _ = writeln!(out, "    </bpmn:sequenceFlow>");
            }
            None => {
                let _ = writeln!(
                    out,
                    "    <bpmn:sequenceFlow id=\"{}\"{name} sourceRef=\"{}\" targetRef=\"{}\"/>",
                    f.id, s.id, t.id
                );
            }
        }
    }
    let _ = writeln!(out, "  </bpmn:process>");

    let _ = writeln!(out, "  <bpmndi:BPMNDiagram id=\"diagram_{id}\">");
    let _ = writeln!(
        out,
        "    <bpmndi:BPMNPlane id=\"plane_{id}\" bpmnElement=\"collaboration_{id}\">"
    );
    let _ = writeln!(out, "      <bpmndi:BPMNShape id=\"participant_{id}_di\" bpmnElement=\"participant_{id}\" isHorizontal=\"true\">");
    let _ = writeln!(out, "        {}", bounds(&lay.pool));
    let _ = writeln!(out, "      </bpmndi:BPMNShape>");
    for (lane, b) in wf.lanes.iter().zip(&lay.lanes) {
        let _ = writeln!(
            out,
            "      <bpmndi:BPMNShape id=\"{}_di\" bpmnElement=\"{}\" isHorizontal=\"true\">",
            lane.id, lane.id
        );
        let _ = writeln!(out, "        {}", bounds(b));
        let _ = writeln!(out, "      </bpmndi:BPMNShape>");
    }
    for (n, b) in wf.nodes.iter().zip(&lay.shapes) {
        let marker = if matches!(n.kind, Kind::Exclusive) {
            " isMarkerVisible=\"true\""
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "      <bpmndi:BPMNShape id=\"{}_di\" bpmnElement=\"{}\"{marker}>",
            n.id, n.id
        );
        let _ = writeln!(out, "        {}", bounds(b));
        let _ = writeln!(out, "      </bpmndi:BPMNShape>");
    }
    for (f, points) in wf.flows.iter().zip(&lay.edges) {
        let _ = writeln!(
            out,
            "      <bpmndi:BPMNEdge id=\"{}_di\" bpmnElement=\"{}\">",
            f.id, f.id
        );
        for (x, y) in points {
            let _ = writeln!(out, "        <di:waypoint x=\"{x}\" y=\"{y}\"/>");
        }
        let _ = writeln!(out, "      </bpmndi:BPMNEdge>");
    }
    let _ = writeln!(out, "    </bpmndi:BPMNPlane>");
    let _ = writeln!(out, "  </bpmndi:BPMNDiagram>");
    let _ = writeln!(out, "</bpmn:definitions>");
    out
}

/// The whole file: XML declaration, provenance comment, body.
pub fn document(policy: &Policy, wf: &Workflow) -> String {
    let body = body(policy, wf);
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!--\n");
    let order = policy
        .workorder(wf.order)
        .map(|w| w.name.as_str())
        .unwrap_or("?");
    let mut lines = header::lines(policy, None, "bpmn", &body);
    lines.insert(2, format!("Work order: {order}"));
    for l in lines {
        let _ = writeln!(out, "  {}", text::xml_comment(&l, text::LINE_MAX));
    }
    out.push_str("-->\n");
    out.push_str(&body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(
            escape("a<b>&\"c'\n\u{1}"),
            "a&lt;b&gt;&amp;&quot;c&apos;&#10;\u{fffd}"
        );
    }
}
