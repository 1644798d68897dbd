//! Proofs over the Palisade policy IR (see DESIGN.md §3).
