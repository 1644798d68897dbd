//! The standard library: Palisade sources embedded in the binary.

/// `(module, path shown in diagnostics, text)`.
pub const MODULES: &[(&str, &str, &str)] = &[
    (
        "protocols",
        "<std>/protocols.pal",
        include_str!("../../stdlib/protocols.pal"),
    ),
    (
        "services",
        "<std>/services.pal",
        include_str!("../../stdlib/services.pal"),
    ),
    (
        "profile",
        "<std>/profile.pal",
        include_str!("../../stdlib/profile.pal"),
    ),
];

/// Modules every site gets without a `use`.
pub const IMPLICIT: &[&str] = &["protocols", "profile"];

pub fn module(name: &str) -> Option<(&'static str, &'static str)> {
    MODULES
        .iter()
        .find(|(m, _, _)| *m == name)
        .map(|(_, p, t)| (*p, *t))
}

pub fn names() -> impl Iterator<Item = &'static str> {
    MODULES.iter().map(|(m, _, _)| *m)
}
