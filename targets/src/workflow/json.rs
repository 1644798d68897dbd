//! The JSON workflow definition of one work order, for CMMS integration by API. Its schema is
//! `schemas/workflow.schema.json` (versioned by `format_version`; docs/workflows.md explains
//! it). The same model as the BPMN: the same node and flow ids, lanes, conditions and
//! commands, plus the work order's rules in declarative form (approval places, staff,
//! windows, durations, scope) so that a CMMS can run it without a BPMN engine.
//!
//! Provenance: `provenance.content_sha256` is the SHA-256 of the `workflow` member serialized
//! compactly (no whitespace, keys sorted, non-ASCII as is), so a deployed file can be tied to
//! its source without a comment syntax.

use super::model::{Action, Arg, Cond, Kind, Step, Timer, Workflow};
use palisade_compiler::approvals;
use palisade_compiler::hash::sha256_hex;
use palisade_compiler::ir::{Approval, Policy, RoleId, ScopeItem, WorkOrder};
use serde_json::{json, Map, Value};

/// Version of the JSON workflow format; changes whenever a field changes meaning.
pub const FORMAT_VERSION: u32 = 1;
/// The `$id` of `schemas/workflow.schema.json`.
pub const SCHEMA_ID: &str = "urn:palisade:schema:workflow:1";

const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// ISO 8601 duration of whole hours, minutes and seconds (`PT4H`, `PT1H30M`).
pub fn iso_duration(secs: u64) -> String {
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    let mut out = String::from("PT");
    if h > 0 {
        out.push_str(&format!("{h}H"));
    }
    if m > 0 {
        out.push_str(&format!("{m}M"));
    }
    if s > 0 || secs == 0 {
        out.push_str(&format!("{s}S"));
    }
    out
}

fn hhmm(minutes: u32) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

fn duration(secs: Option<u64>) -> Value {
    match secs {
        Some(s) => {
            json!({ "seconds": s, "iso8601": iso_duration(s), "text": approvals::duration(s) })
        }
        None => Value::Null,
    }
}

fn roles(policy: &Policy, ids: &[RoleId]) -> Value {
    Value::Array(
        ids.iter()
            .filter_map(|r| policy.role(*r))
            .map(|r| Value::String(r.name.clone()))
            .collect(),
    )
}

fn action(a: &Action) -> Value {
    let argv: Vec<Value> = a
        .argv
        .iter()
        .map(|arg| match arg {
            Arg::Literal(s) => Value::String(s.clone()),
            Arg::EachTarget => json!({ "each": "assets" }),
        })
        .collect();
    let elements: Vec<Value> = a
        .elements
        .iter()
        .map(|e| json!({ "device": e.device, "target": e.target, "nft": e.nft }))
        .collect();
    json!({ "argv": argv, "command_line": a.display(), "nftables_elements": elements })
}

fn timer(t: &Timer) -> Value {
    match t {
        Timer::At(field) => json!({ "at_field": field }),
        Timer::After(secs) => json!({ "after": duration(Some(*secs)) }),
    }
}

fn cond(c: &Cond) -> Value {
    match c {
        Cond::Equals { field, value } => {
            json!({ "field": field, "equals": value, "python": c.python() })
        }
        Cond::AllTrue { fields } => json!({ "all_true": fields, "python": c.python() }),
    }
}

fn workorder(policy: &Policy, wo: &WorkOrder, wf: &Workflow) -> Value {
    let mut zones = Vec::new();
    let mut assets = Vec::new();
    for s in &wo.scope {
        match s {
            ScopeItem::Zone(z) => zones.extend(policy.zone(*z).map(|z| z.name.clone())),
            ScopeItem::Asset(a) => assets.extend(policy.asset(*a).map(|a| a.name.clone())),
        }
    }
    let rules: Vec<Value> = approval_rules(policy, wo);
    let slots: Vec<Value> = wf
        .slots
        .iter()
        .map(|s| json!({ "id": s.id, "roles": roles(policy, &s.roles) }))
        .collect();
    let staff: Value = if policy.persons.is_empty() {
        Value::Null
    } else {
        Value::Array(
            policy
                .persons
                .iter()
                .map(|p| json!({ "id": p.id, "roles": roles(policy, &p.roles) }))
                .collect(),
        )
    };
    let windows: Vec<Value> = wo
        .windows
        .iter()
        .map(|w| {
            let days: Vec<&str> = w
                .days
                .iter()
                .filter_map(|d| DAYS.get(*d as usize).copied())
                .collect();
            json!({ "days": days, "from": hhmm(w.from), "to": hhmm(w.to) })
        })
        .collect();
    let opens: Vec<Value> = wo
        .rules
        .iter()
        .filter_map(|r| policy.rule(*r))
        .map(|r| {
            let services: Vec<String> = r
                .services
                .iter()
                .filter_map(|s| policy.service(*s))
                .map(|s| s.name.clone())
                .collect();
            json!({
                "conduit": policy.conduit(r.conduit).map(|c| c.name.clone()),
                "rule_index": r.index,
                "from": r.src.label,
                "to": r.dst.label,
                "services": services,
            })
        })
        .collect();
    let prerequisites: Vec<Value> = wo
        .prerequisites
        .iter()
        .map(|p| json!({ "name": p.name, "title": p.title, "field": format!("prerequisite_{}", p.name) }))
        .collect();
    json!({
        "name": wo.name,
        "title": wo.title,
        "description": wo.description,
        "emergency": wo.emergency,
        "scope": { "zones": zones, "assets": assets, "instance_targets": wf.targets },
        "requested_by": roles(policy, &wo.requested_by),
        "approvals": {
            "rules": rules,
            "slots": slots,
            "distinct_persons": true,
            "separation_of_duties": wo.separation_of_duties,
        },
        "staff": staff,
        "prerequisites": prerequisites,
        "windows": windows,
        "timezone": policy.site.timezone,
        "max_duration": duration(wo.max_duration),
        "review_after": duration(wo.review_after),
        "opens": opens,
    })
}

fn approval_rules(policy: &Policy, wo: &WorkOrder) -> Vec<Value> {
    wo.approvals
        .iter()
        .map(|a| match a {
            Approval::AllOf { roles: r } => json!({ "all_of": roles(policy, r) }),
            Approval::NOf { n, roles: r } => json!({ "n_of": n, "roles": roles(policy, r) }),
        })
        .collect()
}

fn instance_fields(wo: &WorkOrder, wf: &Workflow) -> Vec<Value> {
    let mut f = vec![
        json!({ "name": "instance_id", "type": "string", "set_by": "request", "required": false, "description": "the CMMS work-order number of this instance" }),
        json!({ "name": "requester", "type": "person", "set_by": "request", "required": true, "description": "person id of the requester" }),
        json!({ "name": "assets", "type": "names", "set_by": "request", "required": true, "description": "what this instance touches: names from scope.instance_targets; access opens for these only" }),
    ];
    if !wo.windows.is_empty() {
        f.push(json!({ "name": "planned_start", "type": "datetime", "set_by": "request", "required": false, "description": "earliest start (ISO 8601 with offset); the opening waits for the next window after it" }));
    }
    for s in &wf.slots {
        f.push(json!({ "name": s.id, "type": "vote", "set_by": s.id, "required": true, "description": "{\"person\": id, \"decision\": \"approve\" | \"reject\"}" }));
    }
    for p in &wo.prerequisites {
        let field = format!("prerequisite_{}", p.name);
        f.push(json!({ "name": field, "type": "boolean", "set_by": field, "required": true, "description": "true once done; false cancels the work order" }));
    }
    if wo.emergency {
        f.push(json!({ "name": "review", "type": "review", "set_by": "review", "required": true, "description": "{\"person\": id, \"findings\": text}" }));
    }
    f
}

fn process(policy: &Policy, wf: &Workflow) -> Value {
    let lanes: Vec<Value> = wf
        .lanes
        .iter()
        .map(|l| json!({ "id": l.id, "name": l.name, "roles": l.roles }))
        .collect();
    let nodes: Vec<Value> = wf
        .nodes
        .iter()
        .map(|n| {
            let mut m = Map::new();
            m.insert("id".into(), json!(n.id));
            m.insert("name".into(), json!(n.name));
            let kind = match &n.kind {
                Kind::Start => "start_event",
                Kind::End => "end_event",
                Kind::UserTask => "user_task",
                Kind::ScriptTask(_) => "script_task",
                Kind::ServiceTask => "service_task",
                Kind::Exclusive => "exclusive_gateway",
                Kind::Parallel => "parallel_gateway",
                Kind::TimerCatch(_) => "timer_event",
                Kind::Boundary { .. } => "boundary_timer",
            };
            m.insert("type".into(), json!(kind));
            m.insert("step".into(), json!(step_name(&n.step)));
            m.insert(
                "lane".into(),
                json!(wf.lanes.get(n.lane).map(|l| l.id.clone())),
            );
            if let Some(d) = &n.doc {
                m.insert("documentation".into(), json!(d));
            }
            match &n.kind {
                Kind::ScriptTask(s) => {
                    m.insert("python".into(), json!(s));
                }
                Kind::TimerCatch(t) => {
                    m.insert("timer".into(), timer(t));
                }
                Kind::Boundary {
                    host,
                    timer: t,
                    interrupting,
                } => {
                    m.insert("timer".into(), timer(t));
                    m.insert(
                        "attached_to".into(),
                        json!(wf.nodes.get(*host).map(|h| h.id.clone())),
                    );
                    m.insert("interrupting".into(), json!(interrupting));
                }
                _ => {}
            }
            match &n.step {
                Step::Approval(s) => {
                    m.insert(
                        "slot".into(),
                        json!({ "id": s.id, "roles": roles(policy, &s.roles) }),
                    );
                }
                Step::Prerequisite { name, field } => {
                    m.insert(
                        "prerequisite".into(),
                        json!({ "name": name, "field": field }),
                    );
                }
                Step::OpenAccess(a) | Step::CloseAccess(a) => {
                    m.insert("action".into(), json!(a.name));
                }
                Step::End(outcome) => {
                    m.insert("outcome".into(), json!(outcome));
                }
                _ => {}
            }
            Value::Object(m)
        })
        .collect();
    let flows: Vec<Value> = wf
        .flows
        .iter()
        .map(|f| {
            json!({
                "id": f.id,
                "from": wf.nodes.get(f.source).map(|n| n.id.clone()),
                "to": wf.nodes.get(f.target).map(|n| n.id.clone()),
                "name": f.name,
                "default": f.default,
                "condition": f.cond.as_ref().map(cond),
            })
        })
        .collect();
    json!({ "id": wf.process_id, "name": wf.name, "lanes": lanes, "nodes": nodes, "flows": flows })
}

fn step_name(s: &Step) -> &'static str {
    match s {
        Step::Requested => "requested",
        Step::Request => "request",
        Step::CheckRequest => "check_request",
        Step::RequestDecision => "request_decision",
        Step::CollectApprovals => "collect_approvals",
        Step::ApprovalsSplit => "approvals_split",
        Step::Approval(_) => "approval",
        Step::ApprovalsJoin => "approvals_join",
        Step::CheckApprovals => "check_approvals",
        Step::ApprovalDecision => "approval_decision",
        Step::Prerequisite { .. } => "prerequisite",
        Step::PrerequisitesDecision => "prerequisites_decision",
        Step::Schedule => "schedule",
        Step::WindowOpens => "window_opens",
        Step::OpenAccess(_) => "open_access",
        Step::Work => "work",
        Step::MaximumDuration => "time_up",
        Step::CloseMerge => "close_merge",
        Step::CloseAccess(_) => "close_access",
        Step::Review => "review",
        Step::ReviewOverdue => "review_overdue",
        Step::Escalate => "escalate",
        Step::End(_) => "end",
    }
}

/// Objects rebuilt with their keys sorted, whatever map type serde_json was built with.
fn canonical(v: Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut entries: Vec<(String, Value)> = m.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, canonical(v)))
                    .collect(),
            )
        }
        Value::Array(a) => Value::Array(a.into_iter().map(canonical).collect()),
        v => v,
    }
}

/// The whole file.
pub fn document(policy: &Policy, wf: &Workflow) -> String {
    let Some(wo) = policy.workorder(wf.order) else {
        return String::new();
    };
    let actions = {
        let mut m = Map::new();
        for n in &wf.nodes {
            if let Step::OpenAccess(a) | Step::CloseAccess(a) = &n.step {
                m.insert(a.name.to_string(), action(a));
            }
        }
        Value::Object(m)
    };
    let workflow = canonical(json!({
        "format_version": FORMAT_VERSION,
        "site": { "name": policy.site.name, "timezone": policy.site.timezone },
        "workorder": workorder(policy, wo, wf),
        "instance": { "fields": instance_fields(wo, wf) },
        "actions": actions,
        "process": process(policy, wf),
    }));
    let compact = serde_json::to_string(&workflow).unwrap_or_default();
    let sources: Vec<Value> = policy
        .sources
        .iter()
        .filter(|s| !s.std)
        .map(|s| json!({ "path": s.path, "sha256": s.sha256 }))
        .collect();
    let doc = canonical(json!({
        "$schema": SCHEMA_ID,
        "provenance": {
            "generator": format!("Palisade {}", crate::header::VERSION),
            "target": "workflow-json",
            "note": "generated - do not edit by hand",
            "site": policy.site.name,
            "sources": sources,
            "content_sha256": sha256_hex(compact.as_bytes()),
        },
        "workflow": workflow,
    }));
    let mut out = serde_json::to_string_pretty(&doc).unwrap_or_default();
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(iso_duration(14_400), "PT4H");
        assert_eq!(iso_duration(5_400), "PT1H30M");
        assert_eq!(iso_duration(86_400), "PT24H");
        assert_eq!(iso_duration(61), "PT1M1S");
    }
}
