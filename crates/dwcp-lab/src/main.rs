//! # dwcp-lab — reproduces every measured claim
//!
//! ## How to use it
//! 1. `cargo run --release -p dwcp-lab -- report [--quick] [--seed S] [--out DIR]` runs every
//!    experiment, prints the claims table (measured vs target vs baseline) and writes
//!    `DIR/report.md` (default `target/lab`), one JSON file per experiment and SVG plots.
//! 2. `cargo run --release -p dwcp-lab -- run <experiment> [--quick] [--seed S] [--out DIR]`
//!    runs one experiment; `list` names them.
//! 3. `cargo run --release -p dwcp-lab -- chaos --protocol P --n N --faults SPEC --seeds A..B`
//!    runs seeded fault runs of a protocol and reports safety and liveness per seed;
//!    `chaos --help` documents SPEC.
//!
//! Each JSON file has the shape
//! `{"experiment", "quick", "seed", "params", "rows": [...], "claims": [{"name", "measured",
//! "target", "op", "unit", "baseline", "holds"}]}`; the rows hold the raw figures.
//!
//! Dependencies: `plotters` (SVG backend only) draws the plots; `serde_json` writes the rows.

mod chaos;
mod cli;
mod experiments;
mod plot;
mod protocols;
mod report;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match cli::run(&args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}\n\n{}", cli::USAGE);
            ExitCode::from(2)
        }
    }
}
