//! `palisade`: the command line of the Palisade policy compiler.
//!
//! Exit codes: 0 clean, 1 errors in the policy (or files `fmt --check` would change),
//! 2 usage or I/O errors.

use clap::{Parser, Subcommand, ValueEnum};
use codespan_reporting::term::termcolor::{ColorChoice, StandardStream};
use palisade_compiler::db::{policy_ir, site_diagnostics, Database};
use palisade_compiler::render::{self, SourceMap};
use palisade_compiler::site::{self, Loaded};
use palisade_compiler::{checks, codes, Diagnostic};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

mod build;
mod output;

#[derive(Parser)]
#[command(
    name = "palisade",
    version,
    about = "Policy-as-code compiler for industrial (OT/ICS) network segmentation",
    long_about = "Palisade reads a site described in .pal files (zones, assets, conduits, \
topology, roles, work orders, data flows, assertions), type-checks it and reports every \
mistake with a coded diagnostic.\n\nA PATH is a .pal file (with the files it imports) or a \
directory whose .pal files form one site.\n\nExit status: 0 clean, 1 errors in the policy, \
2 usage or I/O error."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum MessageFormat {
    /// Rendered with the source, coloured on a terminal.
    Human,
    /// One line per diagnostic: file:line:col: severity[code]: message.
    Short,
    /// One JSON document with every diagnostic.
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Parse, resolve and check a site; print every diagnostic.
    Check {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[arg(long, value_enum, default_value = "human")]
        message_format: MessageFormat,
        /// Treat warnings as errors (exit 1 when there is any).
        #[arg(long)]
        deny_warnings: bool,
    },
    /// Format .pal files in place (comments kept); with --check, only report.
    Fmt {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Write nothing; exit 1 when a file is not formatted.
        #[arg(long)]
        check: bool,
    },
    /// Check the site and write each device's output (rulesets, gateway rules) into a directory.
    Build {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Output directory.
        #[arg(short = 'o', long = "out", default_value = "out")]
        out: PathBuf,
        /// Emit this target for every device of the fitting kind instead of each device's own:
        /// nftables, iptables, cisco-ios (firewalls); suricata, allowlist-json (gateways).
        #[arg(long)]
        target: Option<String>,
        #[arg(long, value_enum, default_value = "human")]
        message_format: MessageFormat,
    },
    /// Print the resolved policy IR of a site as JSON.
    Ir {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Explain a diagnostic code, e.g. `palisade explain E0401`.
    Explain {
        /// A code such as E0401, or `list` for all codes.
        code: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check { paths, message_format, deny_warnings } => cmd_check(&paths, message_format, deny_warnings),
        Command::Fmt { paths, check } => cmd_fmt(&paths, check),
        Command::Ir { paths } => cmd_ir(&paths),
        Command::Build { paths, out, target, message_format } => build::cmd_build(&paths, &out, target.as_deref(), message_format),
        Command::Explain { code } => cmd_explain(&code),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

/// A site loaded into a fresh database.
struct Session {
    db: Database,
    site: palisade_compiler::db::Site,
    sources: SourceMap,
}

fn load(paths: &[PathBuf]) -> Result<Session, String> {
    let loaded: Loaded = site::load(paths).map_err(|e| e.to_string())?;
    let mut sources = SourceMap::default();
    for f in &loaded.files {
        sources.add(&f.path, &f.text);
    }
    let db = Database::default();
    let site = site::into_site(&db, loaded, checks::today());
    Ok(Session { db, site, sources })
}

fn print_diagnostics(diags: &[Diagnostic], sources: &SourceMap, format: MessageFormat) -> Result<(), String> {
    match format {
        MessageFormat::Json => println!("{}", render::json(diags, sources)),
        MessageFormat::Short => eprint!("{}", render::short(diags, sources)),
        MessageFormat::Human => {
            let choice = if std::io::stderr().is_terminal() { ColorChoice::Auto } else { ColorChoice::Never };
            let mut out = StandardStream::stderr(choice);
            render::human(diags, sources, &mut out).map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

fn summary(diags: &[Diagnostic]) -> (usize, usize) {
    let errors = diags.iter().filter(|d| d.is_error()).count();
    (errors, diags.len() - errors)
}

fn cmd_check(paths: &[PathBuf], format: MessageFormat, deny_warnings: bool) -> Result<ExitCode, String> {
    let s = load(paths)?;
    let diags = site_diagnostics(&s.db, s.site);
    print_diagnostics(diags, &s.sources, format)?;
    let (errors, warnings) = summary(diags);
    if format != MessageFormat::Json {
        let name = &policy_ir(&s.db, s.site).site.name;
        eprintln!("checked site `{name}`: {errors} error(s), {warnings} warning(s)");
    }
    Ok(if errors > 0 || (deny_warnings && warnings > 0) { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

fn cmd_ir(paths: &[PathBuf]) -> Result<ExitCode, String> {
    let s = load(paths)?;
    let diags = site_diagnostics(&s.db, s.site);
    if diags.iter().any(|d| d.is_error()) {
        print_diagnostics(diags, &s.sources, MessageFormat::Human)?;
        eprintln!("no IR printed: the site has errors");
        return Ok(ExitCode::from(1));
    }
    let ir = policy_ir(&s.db, s.site);
    let json = serde_json::to_string_pretty(ir).map_err(|e| e.to_string())?;
    println!("{json}");
    Ok(ExitCode::SUCCESS)
}

fn pal_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|e| format!("{}: {e}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.extension().is_some_and(|e| e == "pal"))
                .collect();
            files.sort();
            out.extend(files);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

fn cmd_fmt(paths: &[PathBuf], check: bool) -> Result<ExitCode, String> {
    let mut unformatted = Vec::new();
    let mut broken = false;
    for path in pal_files(paths)? {
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        match palisade_syntax::format::format(&text) {
            Ok(formatted) if formatted == text => {}
            Ok(formatted) => {
                if check {
                    unformatted.push(path.display().to_string());
                } else {
                    output::write_atomic(&path, formatted.as_bytes()).map_err(|e| format!("{}: {e}", path.display()))?;
                }
            }
            Err(err) => {
                broken = true;
                let shown = path.display().to_string();
                let mut sources = SourceMap::default();
                sources.add(&shown, &text);
                let diags: Vec<Diagnostic> = err
                    .errors
                    .iter()
                    .map(|e| {
                        Diagnostic::error("E0001", e.message.clone()).primary(
                            palisade_compiler::diagnostic::Location { file: shown.clone(), start: e.span.start, end: e.span.end },
                            "unexpected here",
                        )
                    })
                    .collect();
                print_diagnostics(&diags, &sources, MessageFormat::Human)?;
                eprintln!("{shown}: not formatted ({err})");
            }
        }
    }
    for f in &unformatted {
        println!("would reformat {f}");
    }
    Ok(if broken || !unformatted.is_empty() { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

fn cmd_explain(code: &str) -> Result<ExitCode, String> {
    let mut out = std::io::stdout().lock();
    if code == "list" {
        for c in codes::CODES {
            writeln!(out, "{}  {}", c.code, c.title).map_err(|e| e.to_string())?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    match codes::lookup(code) {
        Some(c) => {
            writeln!(out, "{}: {}\n\n{}", c.code, c.title, c.explanation).map_err(|e| e.to_string())?;
            Ok(ExitCode::SUCCESS)
        }
        None => Err(format!("no diagnostic code `{code}`; `palisade explain list` shows them all")),
    }
}

