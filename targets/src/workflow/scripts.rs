//! The Python the workflow engine runs (BPMN `scriptTask`, `scriptFormat="python"`, as
//! SpiffWorkflow executes it): the request check, the approval check and the window schedule.
//!
//! Each script defines one function and assigns its results, so that nothing but plain data
//! is left in the task data (the engine drops callables after a script). Everything taken from
//! the source enters as a Python string literal built by [`py_str`], so no name or title can
//! change the code. The approval check is [`palisade_compiler::approvals::decide`] written
//! for the engine: the same places, the same refusals, in the same order.

use palisade_compiler::approvals::Slot;
use palisade_compiler::ir::{Policy, RoleId, WorkOrder};

/// A Python string literal for any text: printable ASCII as is, everything else escaped.
pub fn py_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            ' '..='~' => out.push(c),
            c if (c as u32) <= 0xffff => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

fn py_list(items: impl IntoIterator<Item = String>) -> String {
    let v: Vec<String> = items.into_iter().collect();
    format!("[{}]", v.join(", "))
}

fn role_names(policy: &Policy, roles: &[RoleId]) -> Vec<String> {
    roles
        .iter()
        .filter_map(|r| policy.role(*r))
        .map(|r| r.name.clone())
        .collect()
}

/// `{"emp-1042": ["control_engineer"], …}`, or `None` when the site declares no people.
fn staff(policy: &Policy) -> String {
    if policy.persons.is_empty() {
        return "None".to_string();
    }
    let entries: Vec<String> = policy
        .persons
        .iter()
        .map(|p| {
            format!(
                "{}: {}",
                py_str(&p.id),
                py_list(role_names(policy, &p.roles).iter().map(|r| py_str(r)))
            )
        })
        .collect();
    format!("{{{}}}", entries.join(", "))
}

/// Checks who requests and what the instance touches; sets `request_status`,
/// `request_problems`.
pub fn check_request(policy: &Policy, wo: &WorkOrder, targets: &[String]) -> String {
    let requesting = py_list(
        role_names(policy, &wo.requested_by)
            .iter()
            .map(|r| py_str(r)),
    );
    let allowed = py_list(targets.iter().map(|t| py_str(t)));
    let windowed = if wo.windows.is_empty() {
        "False"
    } else {
        "True"
    };
    format!(
        r#"def _palisade_check_request():
    from datetime import datetime
    data = globals()
    staff = {staff}
    requesting = {requesting}
    allowed = {allowed}
    problems = []
    requester = data.get("requester")
    if not isinstance(requester, str) or not requester:
        problems.append("no requester")
    elif staff is not None and requester not in staff:
        problems.append("requester " + requester + " is not declared staff")
    elif staff is not None and not set(staff[requester]) & set(requesting):
        problems.append("requester " + requester + " holds none of the requesting roles")
    assets = data.get("assets")
    if not isinstance(assets, list) or not assets or not all(isinstance(a, str) for a in assets):
        problems.append("assets must be a non-empty list of names")
    else:
        for a in assets:
            if a not in allowed:
                problems.append(a + " is outside the work order's scope")
    if {windowed} and data.get("planned_start") is not None:
        try:
            if datetime.fromisoformat(data["planned_start"]).tzinfo is None:
                problems.append("planned_start needs a UTC offset")
        except (TypeError, ValueError):
            problems.append("planned_start is not an ISO 8601 date-time")
    return ("valid" if not problems else "invalid"), problems
request_status, request_problems = _palisade_check_request()
"#,
        staff = staff(policy),
    )
}

/// The approval decision (see `approvals::decide`); sets `approval_status` and
/// `approval_problems`, and discards the votes of an invalid round.
pub fn check_approvals(policy: &Policy, wo: &WorkOrder, slots: &[Slot]) -> String {
    let places = py_list(slots.iter().map(|s| {
        format!(
            "({}, {})",
            py_str(&s.id),
            py_list(role_names(policy, &s.roles).iter().map(|r| py_str(r)))
        )
    }));
    let requesting = py_list(
        role_names(policy, &wo.requested_by)
            .iter()
            .map(|r| py_str(r)),
    );
    let sod = if wo.separation_of_duties {
        "True"
    } else {
        "False"
    };
    format!(
        r#"def _palisade_check_approvals():
    data = globals()
    staff = {staff}
    requesting = {requesting}
    places = {places}
    separation_of_duties = {sod}
    requester = data.get("requester")
    problems = []
    if staff is not None and requester not in staff:
        problems.append("requester " + str(requester) + " is not declared staff")
    elif staff is not None and not set(staff[requester]) & set(requesting):
        problems.append("requester " + str(requester) + " holds none of the requesting roles")
    seen = set()
    decisions = []
    for place, roles in places:
        vote = data.get(place)
        if not isinstance(vote, dict) or not isinstance(vote.get("person"), str) or vote.get("decision") not in ("approve", "reject"):
            problems.append(place + ": no vote (person and decision approve or reject)")
            continue
        person = vote["person"]
        if person in seen:
            problems.append(person + " votes twice")
        seen.add(person)
        if separation_of_duties and person == requester:
            problems.append(person + " approves their own request")
        if staff is not None and person not in staff:
            problems.append(person + " is not declared staff")
        elif staff is not None and not set(staff[person]) & set(roles):
            problems.append(person + " lacks the role of " + place)
        decisions.append(vote["decision"])
    if problems:
        for place, roles in places:
            data.pop(place, None)
        return "invalid", problems
    return ("approved" if all(d == "approve" for d in decisions) else "rejected"), []
approval_status, approval_problems = _palisade_check_approvals()
"#,
        staff = staff(policy),
    )
}

/// The next window at or after `planned_start` (or now, if later or not given), in the site's
/// time zone; sets `window_start` and `close_at` (ISO 8601, UTC).
pub fn schedule(policy: &Policy, wo: &WorkOrder) -> String {
    let windows = py_list(wo.windows.iter().map(|w| {
        let days = py_list(w.days.iter().map(|d| d.to_string()));
        format!("({days}, {}, {})", w.from, w.to)
    }));
    format!(
        r#"def _palisade_schedule():
    from datetime import datetime, time, timedelta, timezone
    from zoneinfo import ZoneInfo
    data = globals()
    zone = ZoneInfo({tz})
    windows = {windows}
    max_duration = timedelta(seconds={max})
    start = datetime.now(timezone.utc)
    if data.get("planned_start"):
        start = max(start, datetime.fromisoformat(data["planned_start"]))
    local = start.astimezone(zone)

    def at(day, minutes):
        return datetime.combine(day + timedelta(days=minutes // 1440), time(minutes % 1440 // 60, minutes % 60), tzinfo=zone)

    best = None
    for offset in range(8):
        day = local.date() + timedelta(days=offset)
        for days, first, last in windows:
            if day.weekday() not in days or at(day, last) <= local:
                continue
            begin = max(at(day, first), local)
            if best is None or begin < best[0]:
                best = (begin, at(day, last))
    begin = best[0].astimezone(timezone.utc)
    end = min(begin + max_duration, best[1].astimezone(timezone.utc))
    return begin.isoformat(), end.isoformat()
window_start, close_at = _palisade_schedule()
"#,
        tz = py_str(&policy.site.timezone),
        max = wo.max_duration.unwrap_or(0),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_strings_cannot_escape() {
        assert_eq!(py_str("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(py_str("x\n\u{7f}é😀"), r#""x\u000a\u007f\u00e9\U0001f600""#);
    }
}
