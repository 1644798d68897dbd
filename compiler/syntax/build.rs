fn main() {
    // lalrpop 0.23: `process_src` generates `grammar.rs` into OUT_DIR for every .lalrpop under src/.
    if let Err(err) = lalrpop::process_src() {
        eprintln!("lalrpop failed: {err}");
        std::process::exit(1);
    }
}
