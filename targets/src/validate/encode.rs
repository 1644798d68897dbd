//! The meaning of a read-back ruleset in Z3: chains evaluated from the end backwards into
//! one decision (accept or not, and the connection mark), jumps and verdict maps included.
//! Interfaces are concrete per query, so interface matches fold to constants.

use super::{any_range, in_range, k, GateNames, Gates, Sym};
use crate::readback::{Cond, Field, KeyPart, KeyValue, MapRef, Rule, Ruleset, Values, Verdict};
use std::collections::HashMap;
use z3::ast::{Bool, BV};

/// Accept or not, and the mark an accepted new connection carries.
#[derive(Clone)]
pub(crate) struct Out {
    pub(crate) accept: Bool,
    pub(crate) mark: BV,
    pub(crate) id: usize,
}

pub(crate) struct Enc<'a> {
    pub(crate) rs: &'a Ruleset,
    pub(crate) p: &'a Sym,
    pub(crate) iif: &'a str,
    pub(crate) oif: &'a str,
    pub(crate) gates: &'a Gates,
    pub(crate) gate_names: &'a GateNames,
    pub(crate) next_id: std::cell::Cell<usize>,
    pub(crate) memo: std::cell::RefCell<HashMap<(String, usize), Out>>,
}

impl<'a> Enc<'a> {
    pub(crate) fn new(
        rs: &'a Ruleset,
        p: &'a Sym,
        iif: &'a str,
        oif: &'a str,
        gates: &'a Gates,
        gate_names: &'a GateNames,
    ) -> Enc<'a> {
        Enc {
            rs,
            p,
            iif,
            oif,
            gates,
            gate_names,
            next_id: std::cell::Cell::new(0),
            memo: std::cell::RefCell::new(HashMap::new()),
        }
    }

    fn out(&self, accept: Bool, mark: BV) -> Out {
        let id = self.next_id.get();
        self.next_id.set(id + 1);
        Out { accept, mark, id }
    }

    fn ite(&self, c: &Bool, a: &Out, b: &Out) -> Out {
        self.out(c.ite(&a.accept, &b.accept), c.ite(&a.mark, &b.mark))
    }

    fn iface(&self, out: bool, names: &[String]) -> bool {
        let actual = if out { self.oif } else { self.iif };
        names.iter().any(|n| match n.strip_suffix('+') {
            Some(prefix) => actual.starts_with(prefix),
            None => n == actual,
        })
    }

    fn values(&self, field: Field, x: &BV, values: &Values) -> Result<Bool, String> {
        match values {
            Values::Ranges(r) => Ok(any_range(x, r)),
            Values::Set(name) => {
                let Some(set) = self.rs.sets.get(name) else {
                    return Err(format!(
                        "the ruleset uses set `{name}` but does not define it"
                    ));
                };
                if !set.dynamic {
                    return Ok(any_range(x, &set.ranges));
                }
                match (field, self.gate_names.get(name)) {
                    (Field::Saddr | Field::Daddr, Some(g)) => {
                        let open = self.gates.open(g.wo, g.v6, x);
                        Ok(match &g.within {
                            Some(w) => Bool::and(&[open, any_range(x, w)]),
                            None => open,
                        })
                    }
                    _ => Err(format!(
                        "dynamic set `{name}` is no work-order set of this policy"
                    )),
                }
            }
        }
    }

    fn cond(&self, c: &Cond) -> Result<Bool, String> {
        Ok(match c {
            Cond::Family(v6) => {
                if *v6 {
                    self.p.v6.clone()
                } else {
                    self.p.v6.not()
                }
            }
            Cond::Iface {
                out,
                names,
                negated,
            } => Bool::from_bool(self.iface(*out, names) != *negated),
            Cond::Match {
                field,
                mask,
                values,
                negated,
            } => {
                let x = self.p.field(*field);
                let x = match mask {
                    Some(m) => x.bvand(k(*m, x.get_size())),
                    None => x.clone(),
                };
                let b = self.values(*field, &x, values)?;
                if *negated {
                    b.not()
                } else {
                    b
                }
            }
            Cond::Limit => Bool::fresh_const("limit"),
        })
    }

    fn key_match(&self, key: &[KeyPart], value: &[KeyValue]) -> Result<Option<Bool>, String> {
        if key.len() != value.len() {
            return Err("a verdict-map element does not fit its key".into());
        }
        let mut parts = Vec::new();
        for (kp, kv) in key.iter().zip(value) {
            match (kp, kv) {
                (KeyPart::Iif, KeyValue::Name(n)) | (KeyPart::Oif, KeyValue::Name(n)) => {
                    if !self.iface(*kp == KeyPart::Oif, std::slice::from_ref(n)) {
                        return Ok(None);
                    }
                }
                (KeyPart::Field { field, mask }, KeyValue::Range(lo, hi)) => {
                    let x = self.p.field(*field);
                    let x = match mask {
                        Some(m) => x.bvand(k(*m, x.get_size())),
                        None => x.clone(),
                    };
                    parts.push(in_range(&x, *lo, *hi));
                }
                _ => return Err("a verdict-map key part of the wrong kind".into()),
            }
        }
        Ok(Some(Bool::and(&parts)))
    }

    fn verdict(
        &self,
        v: &Verdict,
        set_mark: Option<u32>,
        next: &Out,
        ret: &Out,
        depth: usize,
    ) -> Result<Out, String> {
        Ok(match v {
            Verdict::Accept => self.out(
                Bool::from_bool(true),
                set_mark
                    .map(|m| k(m as u128, 32))
                    .unwrap_or_else(|| self.p.mark.clone()),
            ),
            Verdict::Drop => self.out(Bool::from_bool(false), self.p.mark.clone()),
            Verdict::Return => ret.clone(),
            Verdict::Jump(c) => self.chain(c, next, depth + 1)?,
            Verdict::Goto(c) => self.chain(c, ret, depth + 1)?,
        })
    }

    fn rule(&self, r: &Rule, next: &Out, ret: &Out, depth: usize) -> Result<Out, String> {
        if r.verdict.is_none() && r.vmap.is_none() {
            if r.set_mark.is_some() {
                return Err("a rule sets a mark without a verdict".into());
            }
            return Ok(next.clone());
        }
        let mut conds = Vec::new();
        for c in &r.conds {
            conds.push(self.cond(c)?);
        }
        let taken = match (&r.vmap, &r.verdict) {
            (Some((key, map)), _) => {
                let elements = match map {
                    MapRef::Named(n) => {
                        &self
                            .rs
                            .maps
                            .get(n)
                            .ok_or_else(|| {
                                format!("the ruleset uses map `{n}` but does not define it")
                            })?
                            .elements
                    }
                    MapRef::Inline(m) => &m.elements,
                };
                let mut res = next.clone();
                for (value, v) in elements.iter().rev() {
                    if let Some(m) = self.key_match(key, value)? {
                        let t = self.verdict(v, r.set_mark, next, ret, depth)?;
                        res = self.ite(&m, &t, &res);
                    }
                }
                res
            }
            (None, Some(v)) => self.verdict(v, r.set_mark, next, ret, depth)?,
            (None, None) => next.clone(),
        };
        Ok(self.ite(&Bool::and(&conds), &taken, next))
    }

    /// Evaluate a chain; falling off its end (or `return`) continues with `ret`.
    fn chain(&self, name: &str, ret: &Out, depth: usize) -> Result<Out, String> {
        if depth > 32 {
            return Err(format!("chain `{name}` nests too deeply (a loop?)"));
        }
        if let Some(o) = self.memo.borrow().get(&(name.to_string(), ret.id)) {
            return Ok(o.clone());
        }
        let chain = self.rs.chains.get(name).ok_or_else(|| {
            format!("the ruleset jumps to chain `{name}`, which it does not define")
        })?;
        let mut res = ret.clone();
        for r in chain.rules.iter().rev() {
            res = self.rule(r, &res, ret, depth)?;
        }
        self.memo
            .borrow_mut()
            .insert((name.to_string(), ret.id), res.clone());
        Ok(res)
    }

    /// Every base chain must accept; the mark is the last one's.
    pub(crate) fn ruleset(&self) -> Result<Out, String> {
        if self.rs.base.is_empty() {
            return Err("the ruleset has no chain on the forward hook".into());
        }
        let mut accepts = Vec::new();
        let mut mark = self.p.mark.clone();
        for b in &self.rs.base {
            let policy = self
                .rs
                .chains
                .get(b)
                .and_then(|c| c.policy_accept)
                .unwrap_or(true);
            let end = self.out(Bool::from_bool(policy), self.p.mark.clone());
            let o = self.chain(b, &end, 0)?;
            accepts.push(o.accept);
            mark = o.mark;
        }
        Ok(self.out(Bool::and(&accepts), mark))
    }
}
