//! What is at a position, where it is defined and where it is used: the shared core of
//! hover, definition, references, rename and semantic tokens.

use crate::snapshot::Snapshot;
use palisade_compiler::db::{policy_ir, Site, SourceFile};
use palisade_compiler::ir::{self, Policy, ProtocolFamily};
use palisade_compiler::symbols::{
    file_index, site_symbols, Definition, Occurrence, Role, SymbolKind,
};
use palisade_compiler::topology::Topology;
use palisade_syntax::ast;

/// A name as the site understands it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Symbol {
    /// A site-wide name and the definition it resolves to (`None`: undefined).
    Global {
        name: String,
        def: Option<Definition>,
    },
    /// The built-in zone `external`.
    External,
    /// A protocol catalogue entry.
    Function {
        family: Option<ProtocolFamily>,
        name: String,
    },
}

impl Symbol {
    pub fn name(&self) -> &str {
        match self {
            Symbol::Global { name, .. } | Symbol::Function { name, .. } => name,
            Symbol::External => "external",
        }
    }
}

/// The name at a byte offset of the snapshot's document.
pub fn symbol_at(snap: &Snapshot, offset: u32) -> Option<(Occurrence, Symbol)> {
    let occ = file_index(&snap.db, snap.file).at(offset)?.clone();
    let file_index = snap.position_in_site()?;
    let symbol = resolve(&snap.db, snap.site, file_index, &occ);
    Some((occ, symbol))
}

pub fn resolve(db: &dyn salsa::Database, site: Site, file_index: u32, occ: &Occurrence) -> Symbol {
    match &occ.role {
        Role::FunctionDefinition(family) => Symbol::Function {
            family: ProtocolFamily::from_name(family),
            name: occ.name.clone(),
        },
        Role::FunctionReference => Symbol::Function {
            family: rule_family(db, site, file_index, occ.span),
            name: occ.name.clone(),
        },
        Role::Reference(_) if occ.name == "external" => Symbol::External,
        Role::Definition(_) | Role::Reference(_) => {
            let def = site_symbols(db, site).globals.get(&occ.name).cloned();
            Symbol::Global {
                name: occ.name.clone(),
                def,
            }
        }
    }
}

/// The zone graph of the site (devices, links, bridges), built once per revision.
#[salsa::tracked(returns(ref), no_eq)]
pub fn site_topology(db: &dyn salsa::Database, site: Site) -> Topology {
    Topology::new(policy_ir(db, site))
}

/// Every rule's extent and protocol family, ordered by file and position, so that the rule
/// around a function name is found by binary search.
#[salsa::tracked(returns(ref))]
pub fn rule_families(
    db: &dyn salsa::Database,
    site: Site,
) -> Vec<(u32, u32, u32, Option<ProtocolFamily>)> {
    let mut out: Vec<_> = policy_ir(db, site)
        .rules
        .iter()
        .map(|r| {
            (
                r.span.file,
                r.span.start,
                r.span.end,
                r.fields.as_ref().map(|f| f.family),
            )
        })
        .collect();
    out.sort_by_key(|r| (r.0, r.1));
    out
}

/// The protocol family of the rule whose constraints contain `span`.
fn rule_family(
    db: &dyn salsa::Database,
    site: Site,
    file_index: u32,
    span: ast::Span,
) -> Option<ProtocolFamily> {
    let rules = rule_families(db, site);
    let i = rules.partition_point(|r| (r.0, r.1) <= (file_index, span.start));
    let (file, _, end, family) = *rules.get(i.checked_sub(1)?)?;
    (file == file_index && span.end <= end)
        .then_some(family)
        .flatten()
}

/// Where a symbol is defined: the file and the span of the defining name.
pub fn definition(
    db: &dyn salsa::Database,
    site: Site,
    symbol: &Symbol,
) -> Option<(SourceFile, ast::Span)> {
    match symbol {
        Symbol::Global { def, .. } => def.as_ref().map(|d| (d.file, d.span)),
        Symbol::External => None,
        Symbol::Function { family, name } => {
            let f = function(policy_ir(db, site), *family, name)?;
            let file = *site.files(db).get(f.1.span.file as usize)?;
            Some((
                file,
                ast::Span {
                    start: f.1.span.start,
                    end: f.1.span.end,
                },
            ))
        }
    }
}

/// The catalogue entry of a function name: in its family, or in any family when unknown.
pub fn function<'p>(
    policy: &'p Policy,
    family: Option<ProtocolFamily>,
    name: &str,
) -> Option<(&'p ir::Protocol, &'p ir::ProtocolFunction)> {
    policy
        .protocols
        .iter()
        .filter(|p| family.is_none_or(|f| f == p.family))
        .find_map(|p| p.functions.iter().find(|f| f.name == name).map(|f| (p, f)))
}

/// Every place a symbol is written in the site's files (its definition included when
/// `with_definition`), in file order.
pub fn references(
    db: &dyn salsa::Database,
    site: Site,
    symbol: &Symbol,
    with_definition: bool,
) -> Vec<(SourceFile, ast::Span)> {
    let def = definition(db, site, symbol);
    let mut out = Vec::new();
    for (i, file) in site.files(db).iter().enumerate() {
        let i = u32::try_from(i).unwrap_or(u32::MAX);
        for occ in &file_index(db, *file).occurrences {
            if occ.name != symbol.name() {
                continue;
            }
            let is_def = def.is_some_and(|(f, s)| f == *file && s == occ.span);
            if is_def {
                if with_definition {
                    out.push((*file, occ.span));
                }
                continue;
            }
            let same = match (&occ.role, symbol) {
                (Role::Reference(_), Symbol::Global { .. } | Symbol::External) => true,
                (Role::FunctionReference, Symbol::Function { family, .. }) => {
                    let here = rule_family(db, site, i, occ.span);
                    family.is_none() || here.is_none() || here == *family
                }
                _ => false,
            };
            if same {
                out.push((*file, occ.span));
            }
        }
    }
    out
}

/// The kind of a resolved symbol, for symbols, completion and semantic tokens.
pub fn kind_of(symbol: &Symbol) -> Option<SymbolKind> {
    match symbol {
        Symbol::Global { def, .. } => def.as_ref().map(|d| d.kind),
        Symbol::External => Some(SymbolKind::Zone),
        Symbol::Function { .. } => Some(SymbolKind::Function),
    }
}

/// Find the IR entity a definition made, by the span of its item (IR spans cover whole
/// items and contain the name).
pub fn contains(span: ir::Span, file_index: u32, name: ast::Span) -> bool {
    span.file == file_index && span.start <= name.start && name.end <= span.end
}
