//! `textDocument/documentSymbol`: the outline of a file — items, with a zone's assets, a
//! conduit's rules and a catalogue's functions beneath them.

use crate::line_index::LineIndex;
use crate::snapshot::Snapshot;
use palisade_compiler::db::parsed;
use palisade_syntax::ast::{self, ItemKind, Stmt};
use tower_lsp_server::ls_types::{DocumentSymbol, DocumentSymbolResponse, SymbolKind};

pub fn document_symbols(snap: &Snapshot) -> Option<DocumentSymbolResponse> {
    let outline = Outline {
        text: snap.text(),
        index: snap.line_index(),
    };
    let symbols = parsed(&snap.db, snap.file)
        .file
        .items
        .iter()
        .filter_map(|i| outline.item(i))
        .collect();
    Some(DocumentSymbolResponse::Nested(symbols))
}

struct Outline<'a> {
    text: &'a str,
    index: &'a LineIndex,
}

fn stmts<T>(v: &[Stmt<T>]) -> impl Iterator<Item = (&T, ast::Span)> {
    v.iter()
        .filter_map(|s| s.node.as_ref().map(|n| (n, s.span)))
}

impl Outline<'_> {
    #[allow(deprecated)] // `DocumentSymbol::deprecated` must still be written
    fn symbol(
        &self,
        name: &str,
        detail: &str,
        kind: SymbolKind,
        span: ast::Span,
        name_span: ast::Span,
        children: Vec<DocumentSymbol>,
    ) -> DocumentSymbol {
        DocumentSymbol {
            name: name.to_string(),
            detail: (!detail.is_empty()).then(|| detail.to_string()),
            kind,
            tags: None,
            deprecated: None,
            range: self.index.range(self.text, span.start, span.end),
            selection_range: self.index.range(self.text, name_span.start, name_span.end),
            children: (!children.is_empty()).then_some(children),
        }
    }

    fn written(&self, span: ast::Span) -> String {
        let s = self.text.get(span.range()).unwrap_or("");
        s.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    fn item(&self, item: &ast::Item) -> Option<DocumentSymbol> {
        let span = item.span;
        let title =
            |t: &Option<ast::StrLit>| t.as_ref().map(|s| s.value.clone()).unwrap_or_default();
        Some(match &item.kind {
            ItemKind::Site(s) => self.symbol(
                &s.name.value,
                "site",
                SymbolKind::PACKAGE,
                span,
                s.name.span,
                Vec::new(),
            ),
            ItemKind::Const(c) => self.symbol(
                &c.name.name,
                "constant",
                SymbolKind::CONSTANT,
                span,
                c.name.span,
                Vec::new(),
            ),
            ItemKind::Role(r) => self.symbol(
                &r.name.name,
                &title(&r.title),
                SymbolKind::CLASS,
                span,
                r.name.span,
                Vec::new(),
            ),
            ItemKind::Person(p) => self.symbol(
                &p.id.value,
                &title(&p.title),
                SymbolKind::OBJECT,
                span,
                p.id.span,
                Vec::new(),
            ),
            ItemKind::Service(s) => self.symbol(
                &s.name.name,
                &title(&s.title),
                SymbolKind::INTERFACE,
                span,
                s.name.span,
                Vec::new(),
            ),
            ItemKind::Protocol(p) => {
                let children = stmts(&p.stmts)
                    .map(|(f, sspan)| {
                        self.symbol(
                            &f.name.name,
                            &format!("{}", f.code.value),
                            SymbolKind::FUNCTION,
                            sspan,
                            f.name.span,
                            Vec::new(),
                        )
                    })
                    .collect();
                self.symbol(
                    &p.name.name,
                    &title(&p.title),
                    SymbolKind::MODULE,
                    span,
                    p.name.span,
                    children,
                )
            }
            ItemKind::Group(g) => self.symbol(
                &g.name.name,
                "group",
                SymbolKind::ARRAY,
                span,
                g.name.span,
                Vec::new(),
            ),
            ItemKind::Zone(z) => {
                let children = stmts(&z.stmts)
                    .filter_map(|(s, sspan)| match s {
                        ast::ZoneStmt::Asset(a) => Some(self.symbol(
                            &a.name.name,
                            &title(&a.title),
                            SymbolKind::OBJECT,
                            sspan,
                            a.name.span,
                            Vec::new(),
                        )),
                        _ => None,
                    })
                    .collect();
                self.symbol(
                    &z.name.name,
                    &title(&z.title),
                    SymbolKind::NAMESPACE,
                    span,
                    z.name.span,
                    children,
                )
            }
            ItemKind::Conduit(c) => {
                let children = stmts(&c.stmts)
                    .filter_map(|(s, sspan)| match s {
                        ast::ConduitStmt::Allow(r) => Some(self.symbol(
                            &self.written(r.span),
                            "rule",
                            SymbolKind::METHOD,
                            sspan,
                            r.span,
                            Vec::new(),
                        )),
                        _ => None,
                    })
                    .collect();
                let arrow = if c.bidirectional { "<->" } else { "->" };
                let detail = format!("{} {arrow} {}", c.from.name, c.to.name);
                self.symbol(
                    &c.name.name,
                    &detail,
                    SymbolKind::STRUCT,
                    span,
                    c.name.span,
                    children,
                )
            }
            ItemKind::Device(d) => {
                let detail = match d.kind {
                    ast::DeviceKind::Firewall => "firewall",
                    ast::DeviceKind::Gateway => "gateway",
                };
                self.symbol(
                    &d.name.name,
                    detail,
                    SymbolKind::INTERFACE,
                    span,
                    d.name.span,
                    Vec::new(),
                )
            }
            ItemKind::Link(l) => self.symbol(
                &l.name.name,
                "link",
                SymbolKind::OPERATOR,
                span,
                l.name.span,
                Vec::new(),
            ),
            ItemKind::WorkOrder(w) => self.symbol(
                &w.name.name,
                &title(&w.title),
                SymbolKind::EVENT,
                span,
                w.name.span,
                Vec::new(),
            ),
            ItemKind::DataFlow(d) => self.symbol(
                &d.name.name,
                &title(&d.title),
                SymbolKind::FIELD,
                span,
                d.name.span,
                Vec::new(),
            ),
            ItemKind::Profile(p) => self.symbol(
                &p.name.name,
                "profile",
                SymbolKind::MODULE,
                span,
                p.name.span,
                Vec::new(),
            ),
            ItemKind::Assert(_) => self.symbol(
                &self.written(span),
                "assertion",
                SymbolKind::BOOLEAN,
                span,
                span,
                Vec::new(),
            ),
            _ => return None,
        })
    }
}
