//! Experiment results, claims, and the report writer.

use serde::Serialize;
use serde_json::Value;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// How a measured figure is compared with its target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Op {
    /// measured ≥ target
    #[serde(rename = ">=")]
    Ge,
    /// measured ≤ target
    #[serde(rename = "<=")]
    Le,
}

impl Op {
    fn symbol(self) -> &'static str {
        match self {
            Op::Ge => ">=",
            Op::Le => "<=",
        }
    }
}

/// One measured claim: a figure, its target, and the baseline it is measured against.
#[derive(Clone, Debug, Serialize)]
pub struct Claim {
    /// What is claimed.
    pub name: String,
    /// The measured figure.
    pub measured: f64,
    /// The target figure.
    pub target: f64,
    /// The comparison.
    pub op: Op,
    /// Unit of both figures.
    pub unit: String,
    /// The baseline measured in the same run (a description with its figure).
    pub baseline: String,
    /// Whether the measured figure meets the target.
    pub holds: bool,
}

impl Claim {
    /// Builds a claim and evaluates it. A NaN measurement never holds.
    pub fn new(
        name: &str,
        measured: f64,
        op: Op,
        target: f64,
        unit: &str,
        baseline: impl Into<String>,
    ) -> Claim {
        let holds = match op {
            Op::Ge => measured >= target,
            Op::Le => measured <= target,
        };
        Claim {
            name: name.into(),
            measured,
            target,
            op,
            unit: unit.into(),
            baseline: baseline.into(),
            holds,
        }
    }
}

/// A plot to draw from an experiment's rows.
#[derive(Clone, Debug)]
pub struct Plot {
    /// File stem (written as `<stem>.svg`).
    pub stem: String,
    /// Title.
    pub title: String,
    /// X axis label.
    pub x_label: String,
    /// Y axis label.
    pub y_label: String,
    /// Log-scale both axes.
    pub log: bool,
    /// Named series of (x, y) points.
    pub series: Vec<(String, Vec<(f64, f64)>)>,
}

/// The result of one experiment run; serialised as the experiment's JSON file.
#[derive(Clone, Debug, Serialize)]
pub struct ExperimentResult {
    /// Experiment name.
    pub experiment: String,
    /// Whether it ran in quick mode.
    pub quick: bool,
    /// Master seed.
    pub seed: u64,
    /// Parameters (network model, sizes, …).
    pub params: Value,
    /// Raw figures the claims are computed from.
    pub rows: Vec<Value>,
    /// Claims.
    pub claims: Vec<Claim>,
    /// Free-text notes for the report (network model, caveats).
    #[serde(skip)]
    pub notes: Vec<String>,
    /// Plots.
    #[serde(skip)]
    pub plots: Vec<Plot>,
}

/// Writes `<dir>/<experiment>.json` and the experiment's SVG plots; returns
/// the plot file names.
pub fn write_experiment(dir: &Path, r: &ExperimentResult) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let json = serde_json::to_string_pretty(r).map_err(std::io::Error::other)?;
    std::fs::write(dir.join(format!("{}.json", r.experiment)), json)?;
    let mut files = vec![];
    for p in &r.plots {
        let path = dir.join(format!("{}.svg", p.stem));
        crate::plot::draw(&path, p).map_err(std::io::Error::other)?;
        files.push(path);
    }
    Ok(files)
}

/// Formats a number for tables: integers plainly, others with 4 significant digits.
pub fn fmt_num(x: f64) -> String {
    if !x.is_finite() {
        return format!("{x}");
    }
    if x == x.trunc() && x.abs() < 1e12 {
        return format!("{x:.0}");
    }
    let mag = x.abs().log10().floor() as i32;
    let decimals = (3 - mag).clamp(0, 6) as usize;
    format!("{x:.decimals$}")
}

/// The claims table in Markdown.
pub fn claims_table(results: &[ExperimentResult]) -> String {
    let mut s = String::from(
        "| experiment | claim | measured | target | unit | baseline (same run) | holds |\n|---|---|---|---|---|---|---|\n",
    );
    for r in results {
        for c in &r.claims {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} {} | {} | {} | {} |",
                r.experiment,
                c.name,
                fmt_num(c.measured),
                c.op.symbol(),
                fmt_num(c.target),
                c.unit,
                c.baseline,
                if c.holds { "yes" } else { "**no**" }
            );
        }
    }
    s
}

/// The full Markdown report.
pub fn markdown(results: &[ExperimentResult], quick: bool, seed: u64) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# dwcp lab report\n");
    let _ = writeln!(
        s,
        "Mode: {}; master seed {seed}. Regenerate with `cargo run --release -p dwcp-lab -- report{}`.\n",
        if quick { "quick" } else { "full" },
        if quick { " --quick" } else { "" }
    );
    let _ = writeln!(s, "## Claims\n\n{}", claims_table(results));
    for r in results {
        let _ = writeln!(s, "## {}\n", r.experiment);
        for n in &r.notes {
            let _ = writeln!(s, "{n}\n");
        }
        let _ = writeln!(s, "Parameters: `{}`\n", r.params);
        s.push_str(&rows_table(&r.rows));
        for p in &r.plots {
            let _ = writeln!(s, "\n![{}]({}.svg)", p.title, p.stem);
        }
        s.push('\n');
    }
    s
}

/// Renders JSON object rows as a Markdown table (columns from the first row).
pub fn rows_table(rows: &[Value]) -> String {
    let Some(Value::Object(first)) = rows.first() else {
        return String::new();
    };
    let cols: Vec<&String> = first.keys().collect();
    let mut s = format!(
        "| {} |\n|{}\n",
        cols.iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>()
            .join(" | "),
        "---|".repeat(cols.len())
    );
    for row in rows {
        let cells: Vec<String> = cols
            .iter()
            .map(|c| match row.get(c.as_str()) {
                Some(Value::Number(n)) => fmt_num(n.as_f64().unwrap_or(f64::NAN)),
                Some(Value::String(t)) => t.clone(),
                Some(v) => v.to_string(),
                None => String::new(),
            })
            .collect();
        let _ = writeln!(s, "| {} |", cells.join(" | "));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_evaluate_both_ways() {
        assert!(Claim::new("a", 2.0, Op::Ge, 1.0, "x", "b").holds);
        assert!(!Claim::new("a", 0.5, Op::Ge, 1.0, "x", "b").holds);
        assert!(Claim::new("a", 0.5, Op::Le, 1.0, "x", "b").holds);
        assert!(!Claim::new("a", f64::NAN, Op::Le, 1.0, "x", "b").holds);
    }

    #[test]
    fn json_has_the_documented_shape() {
        let r = ExperimentResult {
            experiment: "e".into(),
            quick: true,
            seed: 1,
            params: serde_json::json!({"n": 4}),
            rows: vec![serde_json::json!({"n": 4, "msgs": 10.5})],
            claims: vec![Claim::new("c", 1.0, Op::Le, 2.0, "u", "b")],
            notes: vec![],
            plots: vec![],
        };
        let v: Value = serde_json::to_value(&r).unwrap();
        for key in ["experiment", "quick", "seed", "params", "rows", "claims"] {
            assert!(v.get(key).is_some(), "{key}");
        }
        let c = &v["claims"][0];
        for key in [
            "name", "measured", "target", "op", "unit", "baseline", "holds",
        ] {
            assert!(c.get(key).is_some(), "{key}");
        }
        assert_eq!(c["op"], "<=");
        assert!(rows_table(&r.rows).contains("10.50"));
    }
}
