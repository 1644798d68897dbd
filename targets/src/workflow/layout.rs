//! Coordinates for the BPMN diagram (BPMNDI): one horizontal pool, one lane per role (and one
//! for Palisade's automated steps), nodes in columns by their longest distance from the start,
//! flows drawn with right angles. Deterministic: the same workflow always gets the same
//! picture, and no two shapes overlap (bpmnlint's `no-overlapping-elements`).

use super::model::{Kind, Workflow};
use std::collections::BTreeMap;

/// A rectangle in diagram units.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Bounds {
    pub x: i64,
    pub y: i64,
    pub width: i64,
    pub height: i64,
}

impl Bounds {
    fn cx(&self) -> i64 {
        self.x + self.width / 2
    }
    fn cy(&self) -> i64 {
        self.y + self.height / 2
    }
    fn right(&self) -> i64 {
        self.x + self.width
    }
    fn bottom(&self) -> i64 {
        self.y + self.height
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Layout {
    pub pool: Bounds,
    pub lanes: Vec<Bounds>,
    /// By node index.
    pub shapes: Vec<Bounds>,
    /// By flow index.
    pub edges: Vec<Vec<(i64, i64)>>,
}

/// Width of the pool's and of each lane's label band (as BPMN modelers draw them).
const BAND: i64 = 30;
const LEFT: i64 = 2 * BAND + 20;
const COL_W: i64 = 150;
const ROW_H: i64 = 120;

fn size(kind: &Kind) -> (i64, i64) {
    match kind {
        Kind::Start | Kind::End | Kind::TimerCatch(_) | Kind::Boundary { .. } => (36, 36),
        Kind::Exclusive | Kind::Parallel => (50, 50),
        Kind::UserTask | Kind::ScriptTask(_) | Kind::ServiceTask => (100, 80),
    }
}

fn host(kind: &Kind) -> Option<usize> {
    match kind {
        Kind::Boundary { host, .. } => Some(*host),
        _ => None,
    }
}

/// The outgoing flows of each node, boundary events counting as successors of their host.
fn successors(wf: &Workflow) -> Vec<Vec<(usize, Option<usize>)>> {
    let mut succ: Vec<Vec<(usize, Option<usize>)>> = vec![Vec::new(); wf.nodes.len()];
    for (i, f) in wf.flows.iter().enumerate() {
        if let Some(s) = succ.get_mut(f.source) {
            s.push((f.target, Some(i)));
        }
    }
    for (b, n) in wf.nodes.iter().enumerate() {
        if let Some(s) = host(&n.kind).and_then(|h| succ.get_mut(h)) {
            s.push((b, None));
        }
    }
    succ
}

/// Flows that close a cycle (found by depth-first search from the start).
fn back_flows(wf: &Workflow, succ: &[Vec<(usize, Option<usize>)>]) -> Vec<bool> {
    let mut back = vec![false; wf.flows.len()];
    // 0 unvisited, 1 on the stack, 2 done.
    let mut state = vec![0u8; wf.nodes.len()];
    let starts: Vec<usize> = wf
        .nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| matches!(n.kind, Kind::Start))
        .map(|(i, _)| i)
        .collect();
    for s in starts {
        let mut stack: Vec<(usize, usize)> = vec![(s, 0)];
        if let Some(st) = state.get_mut(s) {
            *st = 1;
        }
        while let Some((n, next)) = stack.pop() {
            let Some(&(t, flow)) = succ.get(n).and_then(|v| v.get(next)) else {
                if let Some(st) = state.get_mut(n) {
                    *st = 2;
                }
                continue;
            };
            stack.push((n, next + 1));
            match state.get(t).copied() {
                Some(0) => {
                    if let Some(st) = state.get_mut(t) {
                        *st = 1;
                    }
                    stack.push((t, 0));
                }
                Some(1) => {
                    if let Some(b) = flow.and_then(|f| back.get_mut(f)) {
                        *b = true;
                    }
                }
                _ => {}
            }
        }
    }
    back
}

/// Column of each node: its longest distance from the start over forward flows.
fn columns(wf: &Workflow, succ: &[Vec<(usize, Option<usize>)>], back: &[bool]) -> Vec<i64> {
    let n = wf.nodes.len();
    let mut indegree = vec![0usize; n];
    for edges in succ {
        for (t, flow) in edges {
            if !flow.is_some_and(|f| back.get(f).copied().unwrap_or(false)) {
                if let Some(d) = indegree.get_mut(*t) {
                    *d += 1;
                }
            }
        }
    }
    let mut col = vec![0i64; n];
    let mut ready: Vec<usize> = (0..n).filter(|i| indegree.get(*i) == Some(&0)).collect();
    while let Some(v) = ready.pop() {
        let base = col.get(v).copied().unwrap_or(0);
        for (t, flow) in succ.get(v).map(Vec::as_slice).unwrap_or(&[]) {
            if flow.is_some_and(|f| back.get(f).copied().unwrap_or(false)) {
                continue;
            }
            let step = if flow.is_some() { 1 } else { 0 };
            if let Some(c) = col.get_mut(*t) {
                *c = (*c).max(base + step);
            }
            if let Some(d) = indegree.get_mut(*t) {
                *d = d.saturating_sub(1);
                if *d == 0 {
                    ready.push(*t);
                }
            }
        }
    }
    col
}

pub fn layout(wf: &Workflow) -> Layout {
    let succ = successors(wf);
    let back = back_flows(wf, &succ);
    let col = columns(wf, &succ, &back);

    // Cells (lane, column) hold the nodes placed there, ends last, in node order.
    let mut cells: BTreeMap<(usize, i64), Vec<usize>> = BTreeMap::new();
    let mut order: Vec<usize> = (0..wf.nodes.len())
        .filter(|i| wf.nodes.get(*i).is_some_and(|n| host(&n.kind).is_none()))
        .collect();
    order.sort_by_key(|i| {
        wf.nodes
            .get(*i)
            .map(|n| matches!(n.kind, Kind::End))
            .unwrap_or(false)
    });
    for i in order {
        let (Some(node), Some(c)) = (wf.nodes.get(i), col.get(i)) else {
            continue;
        };
        cells.entry((node.lane, *c)).or_default().push(i);
    }
    let mut rows = vec![1i64; wf.lanes.len()];
    for ((lane, _), nodes) in &cells {
        if let Some(r) = rows.get_mut(*lane) {
            *r = (*r).max(nodes.len() as i64);
        }
    }
    let columns = col.iter().copied().max().unwrap_or(0) + 1;
    let width = LEFT + columns * COL_W + 20;
    let mut lanes = Vec::new();
    let mut y = 0;
    for r in &rows {
        lanes.push(Bounds {
            x: BAND,
            y,
            width: width - BAND,
            height: r * ROW_H,
        });
        y += r * ROW_H;
    }
    let pool = Bounds {
        x: 0,
        y: 0,
        width,
        height: y,
    };

    let mut shapes = vec![Bounds::default(); wf.nodes.len()];
    for ((lane, c), nodes) in &cells {
        let top = lanes.get(*lane).map(|l| l.y).unwrap_or(0);
        for (row, i) in nodes.iter().enumerate() {
            let Some(node) = wf.nodes.get(*i) else {
                continue;
            };
            let (w, h) = size(&node.kind);
            let cx = LEFT + c * COL_W + 50;
            let cy = top + row as i64 * ROW_H + ROW_H / 2;
            if let Some(s) = shapes.get_mut(*i) {
                *s = Bounds {
                    x: cx - w / 2,
                    y: cy - h / 2,
                    width: w,
                    height: h,
                };
            }
        }
    }
    // Boundary events sit on the lower edge of their host, towards its right.
    for (i, node) in wf.nodes.iter().enumerate() {
        let Some(h) = host(&node.kind).and_then(|h| shapes.get(h)).copied() else {
            continue;
        };
        let attached = wf
            .nodes
            .iter()
            .take(i)
            .filter(|n| host(&n.kind) == host(&node.kind))
            .count() as i64;
        if let Some(s) = shapes.get_mut(i) {
            *s = Bounds {
                x: h.right() - 30 - 40 * attached - 18,
                y: h.bottom() - 18,
                width: 36,
                height: 36,
            };
        }
    }

    let mut edges = Vec::new();
    for (i, f) in wf.flows.iter().enumerate() {
        let (Some(s), Some(t)) = (shapes.get(f.source).copied(), shapes.get(f.target).copied())
        else {
            edges.push(Vec::new());
            continue;
        };
        let source = wf.nodes.get(f.source).map(|n| &n.kind);
        let is_back = back.get(i).copied().unwrap_or(false);
        let points = if is_back {
            let below = s.bottom().max(t.bottom()) + 20;
            vec![
                (s.cx(), s.bottom()),
                (s.cx(), below),
                (t.cx(), below),
                (t.cx(), t.bottom()),
            ]
        } else if matches!(source, Some(Kind::Boundary { .. })) {
            if t.cy() > s.bottom() {
                vec![(s.cx(), s.bottom()), (s.cx(), t.cy()), (t.x, t.cy())]
            } else {
                // Up to a target beside the host: under the host, then into its bottom.
                let below = s.bottom() + 15;
                vec![
                    (s.cx(), s.bottom()),
                    (s.cx(), below),
                    (t.cx(), below),
                    (t.cx(), t.bottom()),
                ]
            }
        } else if s.cy() == t.cy() {
            vec![(s.right(), s.cy()), (t.x, t.cy())]
        } else if matches!(source, Some(Kind::Exclusive | Kind::Parallel)) {
            let from = if t.cy() > s.cy() { s.bottom() } else { s.y };
            vec![(s.cx(), from), (s.cx(), t.cy()), (t.x, t.cy())]
        } else {
            // The vertical part in the gap right after the source's column.
            let mid = LEFT + (s.cx() - LEFT) / COL_W * COL_W + COL_W - 25;
            vec![
                (s.right(), s.cy()),
                (mid, s.cy()),
                (mid, t.cy()),
                (t.x, t.cy()),
            ]
        };
        edges.push(points);
    }
    Layout {
        pool,
        lanes,
        shapes,
        edges,
    }
}
