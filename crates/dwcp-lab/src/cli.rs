//! Command-line parsing and dispatch.

use crate::experiments::{self, Ctx};
use crate::report::{self, ExperimentResult};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

/// Usage text.
pub const USAGE: &str = "usage:
  dwcp-lab report [--quick] [--seed S] [--out DIR]      run every experiment, write DIR/report.md
  dwcp-lab run <experiment> [--quick] [--seed S] [--out DIR] [--data FILE.csv[.gz]]
  dwcp-lab list                                         list experiments
  dwcp-lab chaos --protocol P --n N --faults SPEC --seeds A..B [--secs T]
  dwcp-lab chaos --help                                 describe the fault SPEC";

struct Opts {
    quick: bool,
    seed: u64,
    out: PathBuf,
    data: Option<PathBuf>,
    rest: Vec<String>,
}

fn parse_opts(args: &[String]) -> Result<Opts, String> {
    let mut o = Opts {
        quick: false,
        seed: 1,
        out: PathBuf::from("target/lab"),
        data: None,
        rest: vec![],
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--quick" => o.quick = true,
            "--seed" => {
                o.seed = it
                    .next()
                    .ok_or("--seed needs a value")?
                    .parse()
                    .map_err(|e| format!("--seed: {e}"))?
            }
            "--out" => o.out = PathBuf::from(it.next().ok_or("--out needs a value")?),
            "--data" => o.data = Some(PathBuf::from(it.next().ok_or("--data needs a value")?)),
            _ => o.rest.push(a.clone()),
        }
    }
    Ok(o)
}

/// Runs the command line; returns the process exit code.
pub fn run(args: &[String]) -> Result<ExitCode, String> {
    let Some((cmd, rest)) = args.split_first() else {
        return Err("no command".into());
    };
    match cmd.as_str() {
        "list" => {
            for e in experiments::ALL {
                println!("{:<20} {}", e.name, e.about);
            }
            Ok(ExitCode::SUCCESS)
        }
        "report" => {
            let o = parse_opts(rest)?;
            if let Some(extra) = o.rest.first() {
                return Err(format!("unexpected argument {extra}"));
            }
            let names: Vec<&str> = experiments::ALL.iter().map(|e| e.name).collect();
            run_experiments(&names, &o, true)
        }
        "run" => {
            let o = parse_opts(rest)?;
            let [name] = o.rest.as_slice() else {
                return Err("run takes exactly one experiment name".into());
            };
            run_experiments(&[name.as_str()], &o, false)
        }
        "chaos" => crate::chaos::run(rest),
        "help" | "--help" | "-h" => {
            println!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        other => Err(format!("unknown command {other}")),
    }
}

fn run_experiments(names: &[&str], o: &Opts, full_report: bool) -> Result<ExitCode, String> {
    let ctx = Ctx {
        quick: o.quick,
        seed: o.seed,
        data: o.data.clone(),
    };
    let mut results: Vec<ExperimentResult> = vec![];
    for name in names {
        let exp = experiments::find(name)
            .ok_or_else(|| format!("unknown experiment {name}; try `list`"))?;
        eprintln!(
            "running {name}{} ...",
            if o.quick { " (quick)" } else { "" }
        );
        let t = Instant::now();
        let r = (exp.run)(&ctx);
        eprintln!("  {name} took {:.1}s", t.elapsed().as_secs_f64());
        report::write_experiment(&o.out, &r)
            .map_err(|e| format!("writing {}: {e}", o.out.display()))?;
        results.push(r);
    }
    println!("{}", report::claims_table(&results));
    if full_report {
        let md = report::markdown(&results, o.quick, o.seed);
        let path = o.out.join("report.md");
        std::fs::write(&path, md).map_err(|e| format!("writing {}: {e}", path.display()))?;
        println!("report written to {}", path.display());
    }
    let failed = results
        .iter()
        .flat_map(|r| &r.claims)
        .filter(|c| !c.holds)
        .count();
    if failed > 0 {
        println!("{failed} claim(s) do not hold");
    }
    Ok(ExitCode::SUCCESS)
}
