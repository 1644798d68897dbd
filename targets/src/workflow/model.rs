//! The workflow of one work order as a graph: lanes, nodes and sequence flows. The BPMN and
//! the JSON outputs are two renderings of this one model, so they cannot disagree; the
//! checks in [`super::proof`] run on it before anything is written.
//!
//! Shape (every work order; parts in brackets only when declared):
//!
//! ```text
//! requested ─ Request ─ Check request ─<valid?>─no─ Request refused
//!   └ yes ─ >Collect approvals ─ [+ parallel] Approve as R1 | R2 | … [+] ─ Check approvals
//!   ─<approved?>─ rejected ─ Rejected
//!         ├─ invalid ─ back to Collect approvals (the votes are discarded)
//!         └─ approved ─ [Confirm prerequisite …] ─ [<met?> ─ no ─ Cancelled]
//!   ─ [Schedule in window ─ (timer) Window opens] ─ Open access
//!   ─ Carry out the work ⟂(timer) Maximum duration reached ─ >Close access
//!   ─ Work order closed        (emergency: ─ Review after the fact ⟂(timer) Review overdue)
//! ```

use super::scripts;
use palisade_compiler::approvals::{self, Slot};
use palisade_compiler::ir::{Policy, RoleId, WorkOrder, WorkOrderId};

/// Who performs a lane's tasks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lane {
    pub id: String,
    pub name: String,
    /// Role names; empty for the automated lane.
    pub roles: Vec<String>,
}

/// A timer: a point in time (an expression giving an ISO 8601 date-time) or a duration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Timer {
    /// The name of the task-data field holding the date-time.
    At(String),
    /// Seconds.
    After(u64),
}

/// The command a service task runs: literal arguments, and one that stands for each of the
/// instance's targets (`assets`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Arg {
    Literal(String),
    EachTarget,
}

/// What `palisade workorder open|close` does on one nftables firewall for one target of the
/// scope: the exact `nft` statements (from [`crate::gates`]), adding the target's addresses
/// to the order's timed sets with a timeout of `max_duration`, or deleting them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetElement {
    pub device: String,
    pub target: String,
    pub nft: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Action {
    /// `open` or `close`.
    pub name: &'static str,
    pub argv: Vec<Arg>,
    /// nftables only: the timed-set statements behind the command, per firewall and target.
    pub elements: Vec<SetElement>,
}

impl Action {
    /// The command line as a person reads it, targets shown as `TARGET…`.
    pub fn display(&self) -> String {
        let parts: Vec<String> = self
            .argv
            .iter()
            .map(|a| match a {
                Arg::Literal(s) => s.clone(),
                Arg::EachTarget => "TARGET…".to_string(),
            })
            .collect();
        parts.join(" ")
    }
}

/// The condition on a sequence flow out of an exclusive gateway.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cond {
    /// A task-data field equals a string.
    Equals { field: String, value: String },
    /// Every listed task-data field is `true`.
    AllTrue { fields: Vec<String> },
}

impl Cond {
    /// As a Python expression over task data (SpiffWorkflow evaluates conditions so).
    pub fn python(&self) -> String {
        match self {
            Cond::Equals { field, value } => format!("{field} == {}", scripts::py_str(value)),
            Cond::AllTrue { fields } => {
                let parts: Vec<String> = fields
                    .iter()
                    .map(|f| format!("globals().get({}) is True", scripts::py_str(f)))
                    .collect();
                parts.join(" and ")
            }
        }
    }
}

/// What a node does in the work order's life; the JSON names it `step`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    Requested,
    Request,
    CheckRequest,
    RequestDecision,
    CollectApprovals,
    ApprovalsSplit,
    Approval(Slot),
    ApprovalsJoin,
    CheckApprovals,
    ApprovalDecision,
    Prerequisite {
        name: String,
        field: String,
    },
    PrerequisitesDecision,
    Schedule,
    WindowOpens,
    OpenAccess(Action),
    Work,
    MaximumDuration,
    CloseMerge,
    CloseAccess(Action),
    Review,
    ReviewOverdue,
    Escalate,
    /// An end event, with the outcome it records.
    End(&'static str),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    Start,
    End,
    UserTask,
    ScriptTask(String),
    ServiceTask,
    Exclusive,
    Parallel,
    TimerCatch(Timer),
    Boundary {
        host: usize,
        timer: Timer,
        interrupting: bool,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    pub id: String,
    pub name: String,
    pub kind: Kind,
    pub step: Step,
    pub lane: usize,
    pub doc: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flow {
    pub id: String,
    pub source: usize,
    pub target: usize,
    pub name: Option<String>,
    pub cond: Option<Cond>,
    /// The gateway's default flow (taken when no condition holds).
    pub default: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Workflow {
    pub order: WorkOrderId,
    pub process_id: String,
    pub name: String,
    pub lanes: Vec<Lane>,
    pub nodes: Vec<Node>,
    pub flows: Vec<Flow>,
    pub slots: Vec<Slot>,
    /// Names an instance may list in `assets`: the scope's assets and zones, and the
    /// assets of its zones.
    pub targets: Vec<String>,
}

/// The commands a work order's service tasks carry (`palisade workorder open|close`, see
/// [`super::commands`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Commands {
    pub open: Action,
    pub close: Action,
}

struct Builder<'a> {
    policy: &'a Policy,
    lanes: Vec<Lane>,
    nodes: Vec<Node>,
    flows: Vec<Flow>,
}

impl Builder<'_> {
    fn lane(&mut self, roles: &[RoleId], label: &str) -> usize {
        let names: Vec<String> = roles
            .iter()
            .filter_map(|r| self.policy.role(*r))
            .map(|r| r.name.clone())
            .collect();
        if let Some(i) = self
            .lanes
            .iter()
            .position(|l| l.roles == names && !names.is_empty())
        {
            return i;
        }
        let titles: Vec<String> = roles
            .iter()
            .filter_map(|r| self.policy.role(*r))
            .map(|r| r.title.clone().unwrap_or_else(|| r.name.clone()))
            .collect();
        let name = if names.is_empty() {
            label.to_string()
        } else {
            titles.join(" or ")
        };
        self.lanes.push(Lane {
            id: format!("lane_{}", self.lanes.len() + 1),
            name,
            roles: names,
        });
        self.lanes.len() - 1
    }

    fn node(
        &mut self,
        id: &str,
        name: impl Into<String>,
        kind: Kind,
        step: Step,
        lane: usize,
        doc: Option<String>,
    ) -> usize {
        self.nodes.push(Node {
            id: id.to_string(),
            name: name.into(),
            kind,
            step,
            lane,
            doc,
        });
        self.nodes.len() - 1
    }

    fn flow(
        &mut self,
        source: usize,
        target: usize,
        name: Option<&str>,
        cond: Option<Cond>,
        default: bool,
    ) {
        let id = format!("flow_{}", self.flows.len() + 1);
        self.flows.push(Flow {
            id,
            source,
            target,
            name: name.map(str::to_string),
            cond,
            default,
        });
    }

    fn seq(&mut self, source: usize, target: usize) {
        self.flow(source, target, None, None, false);
    }

    fn role_list(&self, roles: &[RoleId]) -> String {
        let names: Vec<String> = roles
            .iter()
            .filter_map(|r| self.policy.role(*r))
            .map(|r| r.name.clone())
            .collect();
        names.join(" or ")
    }
}

/// A flow from `prev` to `target`, carrying the pending condition of the gateway `prev`.
fn link(b: &mut Builder<'_>, target: usize, prev: usize, prev_cond: &mut Option<Cond>) {
    let name = match prev_cond {
        Some(Cond::Equals { .. }) => Some("approved"),
        Some(Cond::AllTrue { .. }) => Some("yes"),
        None => None,
    };
    b.flow(prev, target, name, prev_cond.take(), false);
}

/// The names an instance of `wo` may target.
pub fn targets(policy: &Policy, wo: &WorkOrder) -> Vec<String> {
    let mut out = Vec::new();
    for s in &wo.scope {
        match s {
            palisade_compiler::ir::ScopeItem::Zone(z) => {
                if let Some(zone) = policy.zone(*z) {
                    out.push(zone.name.clone());
                    out.extend(
                        zone.assets
                            .iter()
                            .filter_map(|a| policy.asset(*a))
                            .map(|a| a.name.clone()),
                    );
                }
            }
            palisade_compiler::ir::ScopeItem::Asset(a) => {
                out.extend(policy.asset(*a).map(|a| a.name.clone()))
            }
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    out.retain(|n| seen.insert(n.clone()));
    out
}

/// The workflow of work order `id`.
pub fn build(policy: &Policy, id: WorkOrderId, commands: Commands) -> Option<Workflow> {
    let wo = policy.workorder(id)?;
    let slots = approvals::slots(wo);
    let targets = targets(policy, wo);
    let mut b = Builder {
        policy,
        lanes: Vec::new(),
        nodes: Vec::new(),
        flows: Vec::new(),
    };
    let title = wo.title.clone().unwrap_or_else(|| wo.name.clone());
    let requester = b.lane(&wo.requested_by, "Requester");
    let approver_lanes: Vec<usize> = slots.iter().map(|s| b.lane(&s.roles, "Approver")).collect();
    let auto = b.lane(&[], "Palisade (automated)");

    let start = b.node(
        "requested",
        "Work order requested",
        Kind::Start,
        Step::Requested,
        requester,
        None,
    );
    let request_doc = format!(
        "{}Requested by {}. The request gives `requester` (person id), `assets` (what the instance touches: any of {}){}, and optionally `instance_id`.",
        wo.description.as_ref().map(|d| format!("{d}\n")).unwrap_or_default(),
        b.role_list(&wo.requested_by),
        targets.join(", "),
        if wo.windows.is_empty() { "" } else { ", optionally `planned_start` (ISO 8601 date-time; the opening waits for the next window after it)" }
    );
    let request = b.node(
        "request",
        format!("Request: {title}"),
        Kind::UserTask,
        Step::Request,
        requester,
        Some(request_doc),
    );
    b.seq(start, request);
    let check_request = b.node(
        "check_request",
        "Check request",
        Kind::ScriptTask(scripts::check_request(policy, wo, &targets)),
        Step::CheckRequest,
        auto,
        Some("Sets `request_status` (`valid` or `invalid`) and `request_problems`.".into()),
    );
    b.seq(request, check_request);
    let request_valid = b.node(
        "request_valid",
        "Request valid?",
        Kind::Exclusive,
        Step::RequestDecision,
        auto,
        None,
    );
    b.seq(check_request, request_valid);
    let refused = b.node(
        "request_refused",
        "Request refused",
        Kind::End,
        Step::End("request_refused"),
        auto,
        None,
    );
    b.flow(request_valid, refused, Some("no"), None, true);
    let collect = b.node(
        "collect_approvals",
        "Collect approvals",
        Kind::Exclusive,
        Step::CollectApprovals,
        auto,
        None,
    );
    b.flow(
        request_valid,
        collect,
        Some("yes"),
        Some(Cond::Equals {
            field: "request_status".into(),
            value: "valid".into(),
        }),
        false,
    );

    // Approvals: one user task per place, in parallel when there are several.
    let (fork, join) = if slots.len() > 1 {
        let split = b.node(
            "approvals_split",
            "Approvals in parallel",
            Kind::Parallel,
            Step::ApprovalsSplit,
            auto,
            None,
        );
        let join = b.node(
            "approvals_join",
            "All approvals given",
            Kind::Parallel,
            Step::ApprovalsJoin,
            auto,
            None,
        );
        b.seq(collect, split);
        (split, Some(join))
    } else {
        (collect, None)
    };
    let check_approvals = b.node(
        "check_approvals",
        "Check approvals",
        Kind::ScriptTask(scripts::check_approvals(policy, wo, &slots)),
        Step::CheckApprovals,
        auto,
        Some("Sets `approval_status` (`approved`, `rejected`, or `invalid`: the votes are discarded and collected again) and `approval_problems`.".into()),
    );
    for (slot, lane) in slots.iter().zip(&approver_lanes) {
        let sod = if wo.separation_of_duties {
            " The requester may not approve."
        } else {
            ""
        };
        let doc = format!(
            "Sets `{}` to {{\"person\": person id, \"decision\": \"approve\" or \"reject\"}}. The person holds {} and approves no other place of this request.{sod}",
            slot.id,
            b.role_list(&slot.roles)
        );
        let name = format!("Approve as {}", b.role_list(&slot.roles));
        let task = b.node(
            &slot.id,
            name,
            Kind::UserTask,
            Step::Approval(slot.clone()),
            *lane,
            Some(doc),
        );
        b.seq(fork, task);
        b.seq(task, join.unwrap_or(check_approvals));
    }
    if let Some(join) = join {
        b.seq(join, check_approvals);
    }
    let decision = b.node(
        "approved",
        "Approved?",
        Kind::Exclusive,
        Step::ApprovalDecision,
        auto,
        None,
    );
    b.seq(check_approvals, decision);
    let rejected = b.node(
        "rejected",
        "Rejected",
        Kind::End,
        Step::End("rejected"),
        auto,
        None,
    );
    b.flow(decision, rejected, Some("rejected"), None, true);
    b.flow(
        decision,
        collect,
        Some("invalid: collect again"),
        Some(Cond::Equals {
            field: "approval_status".into(),
            value: "invalid".into(),
        }),
        false,
    );
    let approved = Cond::Equals {
        field: "approval_status".into(),
        value: "approved".into(),
    };

    // Prerequisites, in order, confirmed by the requester's side.
    let mut prev = decision;
    let mut prev_cond = Some(approved);
    let mut fields = Vec::new();
    for p in &wo.prerequisites {
        let field = format!("prerequisite_{}", p.name);
        let label = p.title.clone().unwrap_or_else(|| p.name.replace('_', " "));
        let doc = format!("Sets `{field}` to true once done (false cancels the work order).");
        let task = b.node(
            &field,
            format!("Confirm: {label}"),
            Kind::UserTask,
            Step::Prerequisite {
                name: p.name.clone(),
                field: field.clone(),
            },
            requester,
            Some(doc),
        );
        let name = prev_cond.as_ref().map(|_| "approved");
        b.flow(prev, task, name, prev_cond.take(), false);
        fields.push(field);
        prev = task;
    }
    if !fields.is_empty() {
        let met = b.node(
            "prerequisites_met",
            "Prerequisites met?",
            Kind::Exclusive,
            Step::PrerequisitesDecision,
            auto,
            None,
        );
        b.seq(prev, met);
        let cancelled = b.node(
            "cancelled",
            "Cancelled: prerequisite not met",
            Kind::End,
            Step::End("cancelled"),
            auto,
            None,
        );
        b.flow(met, cancelled, Some("no"), None, true);
        prev = met;
        prev_cond = Some(Cond::AllTrue { fields });
    }

    // The window: wait for the next one, and close at its end at the latest.
    let max = wo.max_duration.unwrap_or(0);
    let close_timer = if wo.windows.is_empty() {
        Timer::After(max)
    } else {
        let schedule = b.node(
            "schedule",
            "Schedule in window",
            Kind::ScriptTask(scripts::schedule(policy, wo)),
            Step::Schedule,
            auto,
            Some(format!("Sets `window_start` and `close_at` (ISO 8601, UTC): the next window in {} at or after `planned_start` (or now), and its end or {} later, whichever is first.", policy.site.timezone, approvals::duration(max))),
        );
        link(&mut b, schedule, prev, &mut prev_cond);
        let wait = b.node(
            "window_opens",
            "Window opens",
            Kind::TimerCatch(Timer::At("window_start".into())),
            Step::WindowOpens,
            auto,
            None,
        );
        b.seq(schedule, wait);
        prev = wait;
        Timer::At("close_at".into())
    };
    let open_doc = format!("Runs `{}`.", commands.open.display());
    let close_doc = format!("Runs `{}`.", commands.close.display());
    let open = b.node(
        "open_access",
        "Open access",
        Kind::ServiceTask,
        Step::OpenAccess(commands.open),
        auto,
        Some(open_doc),
    );
    link(&mut b, open, prev, &mut prev_cond);
    let work = b.node(
        "work",
        "Carry out the work",
        Kind::UserTask,
        Step::Work,
        requester,
        Some("Complete when the work is done; access closes at once.".into()),
    );
    b.seq(open, work);
    let timer_name = if wo.windows.is_empty() {
        "Maximum duration reached"
    } else {
        "Window or maximum duration ends"
    };
    let limit = b.node(
        "time_up",
        timer_name,
        Kind::Boundary {
            host: work,
            timer: close_timer,
            interrupting: true,
        },
        Step::MaximumDuration,
        requester,
        None,
    );
    let merge = b.node(
        "close_merge",
        "Work done or time up",
        Kind::Exclusive,
        Step::CloseMerge,
        auto,
        None,
    );
    b.seq(work, merge);
    b.seq(limit, merge);
    let close = b.node(
        "close_access",
        "Close access",
        Kind::ServiceTask,
        Step::CloseAccess(commands.close),
        auto,
        Some(close_doc),
    );
    b.seq(merge, close);

    if wo.emergency {
        let lane = approver_lanes.first().copied().unwrap_or(requester);
        let review_after = wo.review_after.unwrap_or(0);
        let review = b.node(
            "review",
            "Review after the fact",
            Kind::UserTask,
            Step::Review,
            lane,
            Some(format!("Due within {} of closing. Sets `review` to {{\"person\": person id, \"findings\": text}}.", approvals::duration(review_after))),
        );
        b.seq(close, review);
        let reviewed = b.node(
            "reviewed",
            "Reviewed",
            Kind::End,
            Step::End("reviewed"),
            lane,
            None,
        );
        b.seq(review, reviewed);
        let overdue = b.node(
            "review_overdue",
            "Review overdue",
            Kind::Boundary {
                host: review,
                timer: Timer::After(review_after),
                interrupting: false,
            },
            Step::ReviewOverdue,
            lane,
            None,
        );
        let escalate = b.node(
            "escalate",
            "Escalate overdue review",
            Kind::UserTask,
            Step::Escalate,
            lane,
            Some(
                "The break-glass review is overdue: escalate to the site's OT security owner."
                    .into(),
            ),
        );
        b.seq(overdue, escalate);
        let escalated = b.node(
            "escalated",
            "Escalated",
            Kind::End,
            Step::End("escalated"),
            lane,
            None,
        );
        b.seq(escalate, escalated);
    } else {
        let closed = b.node(
            "closed",
            "Work order closed",
            Kind::End,
            Step::End("closed"),
            auto,
            None,
        );
        b.seq(close, closed);
    }
    Some(Workflow {
        order: id,
        process_id: format!("workorder_{}", wo.name),
        name: title,
        lanes: b.lanes,
        nodes: b.nodes,
        flows: b.flows,
        slots,
        targets,
    })
}
