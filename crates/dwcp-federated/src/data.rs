//! Data sets: the vendored digits set, a bounded CSV loader (label in the last
//! column, plain or gzip), a stratified train/test split and a Dirichlet
//! label-skew partition over clients. Everything is seeded.

use crate::rand_util::{gamma, shuffle};
use dwcp_core::rng;
use std::fmt;
use std::io::Read;
use std::path::Path;

/// The vendored digits file (`data/digits.csv.gz`, UCI optdigits test split,
/// CC BY 4.0; see `data/README.md`).
const DIGITS_GZ: &[u8] = include_bytes!("../../../data/digits.csv.gz");

/// Largest (decompressed) CSV accepted: 64 MiB.
pub const MAX_CSV_BYTES: usize = 64 << 20;
/// Largest number of rows accepted.
pub const MAX_ROWS: usize = 1_000_000;
/// Largest number of feature columns accepted.
pub const MAX_FEATURES: usize = 4096;
/// Largest class label accepted (labels are `0..=MAX_LABEL`).
pub const MAX_LABEL: usize = 255;

/// Why a data file could not be loaded.
#[derive(Debug)]
pub enum DataError {
    /// Reading the file failed.
    Io(std::io::Error),
    /// The (decompressed) input exceeds [`MAX_CSV_BYTES`] or [`MAX_ROWS`].
    TooLarge(String),
    /// A line is not valid CSV of numbers, has the wrong number of columns,
    /// or its label is not a small non-negative integer.
    Parse {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        what: String,
    },
    /// The file has no rows, or every label is the same.
    Empty,
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataError::Io(e) => write!(f, "i/o error: {e}"),
            DataError::TooLarge(s) => write!(f, "input too large: {s}"),
            DataError::Parse { line, what } => write!(f, "line {line}: {what}"),
            DataError::Empty => write!(f, "no usable rows"),
        }
    }
}

impl std::error::Error for DataError {}

/// A labelled data set: `features[i]` (all of equal length) has class `labels[i]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// Row-major features, `len() * dim` values.
    pub x: Vec<f32>,
    /// One label per row, each `< classes`.
    pub labels: Vec<usize>,
    /// Features per row.
    pub dim: usize,
    /// Number of classes (largest label + 1).
    pub classes: usize,
}

impl Dataset {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Row `i`'s features.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.x[i * self.dim..(i + 1) * self.dim]
    }

    /// The rows at `idx` (in that order) as a new data set with the same
    /// `dim` and `classes`. Indices must be `< len()`.
    pub fn subset(&self, idx: &[usize]) -> Dataset {
        let mut x = Vec::with_capacity(idx.len() * self.dim);
        let mut labels = Vec::with_capacity(idx.len());
        for &i in idx {
            x.extend_from_slice(self.row(i));
            labels.push(self.labels[i]);
        }
        Dataset {
            x,
            labels,
            dim: self.dim,
            classes: self.classes,
        }
    }

    /// Number of rows of each class.
    pub fn histogram(&self) -> Vec<usize> {
        let mut h = vec![0; self.classes];
        for &l in &self.labels {
            h[l] += 1;
        }
        h
    }

    /// Divides every feature by `by` (the digits pixels are 0..16).
    pub fn scale(&mut self, by: f32) {
        self.x.iter_mut().for_each(|v| *v /= by);
    }

    /// Divides every feature by the largest absolute feature value when it
    /// exceeds 1, so features lie in `[-1, 1]`, and returns the divisor (1
    /// when nothing was scaled). On the raw digits (pixels 0..16) this is
    /// exactly [`digits`]'s division by 16. The lab applies it to `--data`
    /// files: the compressed benchmark methods quantize to a few bits and
    /// the SGD step size assumes unit-scale inputs.
    pub fn scale_to_unit(&mut self) -> f32 {
        let max = self.x.iter().fold(0f32, |m, v| m.max(v.abs()));
        if max > 1.0 && max.is_finite() {
            self.scale(max);
            max
        } else {
            1.0
        }
    }
}

/// The vendored sklearn digits set (1,797 × 64, labels 0..9), features
/// divided by 16 so they lie in `[0, 1]`.
pub fn digits() -> Dataset {
    let mut d = parse_csv_bytes(DIGITS_GZ).unwrap_or_else(|_| Dataset {
        x: vec![],
        labels: vec![],
        dim: 0,
        classes: 0,
    });
    d.scale(16.0);
    d
}

/// Loads a CSV file (plain, or gzip when it starts with the gzip magic
/// bytes): numbers separated by commas, one sample per line, the class label
/// (a non-negative integer) in the last column; blank lines and lines starting
/// with `#` are skipped. Features are used as they are (no scaling).
pub fn load_csv(path: &Path) -> Result<Dataset, DataError> {
    let bytes = std::fs::read(path).map_err(DataError::Io)?;
    parse_csv_bytes(&bytes)
}

/// [`load_csv`] on bytes already in memory (gzip detected by magic bytes).
/// Decompression stops at [`MAX_CSV_BYTES`], so a gzip bomb is an error.
pub fn parse_csv_bytes(bytes: &[u8]) -> Result<Dataset, DataError> {
    let text = if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(bytes)
            .take(MAX_CSV_BYTES as u64 + 1)
            .read_to_end(&mut out)
            .map_err(DataError::Io)?;
        out
    } else {
        bytes.to_vec()
    };
    if text.len() > MAX_CSV_BYTES {
        return Err(DataError::TooLarge(format!(
            "more than {MAX_CSV_BYTES} bytes"
        )));
    }
    let text = String::from_utf8(text).map_err(|_| DataError::Parse {
        line: 0,
        what: "not UTF-8".into(),
    })?;
    parse_csv(&text)
}

/// Parses CSV text; see [`load_csv`].
pub fn parse_csv(text: &str) -> Result<Dataset, DataError> {
    let mut x = Vec::new();
    let mut labels = Vec::new();
    let mut dim = None;
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let err = |what: String| DataError::Parse { line: i + 1, what };
        if labels.len() >= MAX_ROWS {
            return Err(DataError::TooLarge(format!("more than {MAX_ROWS} rows")));
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let cols = fields.len();
        if cols < 2 || cols - 1 > MAX_FEATURES {
            return Err(err(format!(
                "{cols} columns (need 2..={})",
                MAX_FEATURES + 1
            )));
        }
        match dim {
            None => dim = Some(cols - 1),
            Some(d) if d != cols - 1 => {
                return Err(err(format!("{} features, earlier rows have {d}", cols - 1)));
            }
            Some(_) => {}
        }
        let (label, feats) = fields.split_last().ok_or_else(|| err("empty".into()))?;
        for f in feats {
            let v: f32 = f
                .parse()
                .map_err(|_| err(format!("feature {f:?} is not a number")))?;
            if !v.is_finite() {
                return Err(err(format!("feature {f:?} is not finite")));
            }
            x.push(v);
        }
        let l: f64 = label
            .parse()
            .map_err(|_| err(format!("label {label:?} is not a number")))?;
        if !(0.0..=MAX_LABEL as f64).contains(&l) || l.fract() != 0.0 {
            return Err(err(format!(
                "label {label:?} is not an integer in 0..={MAX_LABEL}"
            )));
        }
        labels.push(l as usize);
    }
    let dim = dim.ok_or(DataError::Empty)?;
    let classes = labels.iter().max().map_or(0, |m| m + 1);
    if classes < 2 {
        return Err(DataError::Empty);
    }
    Ok(Dataset {
        x,
        labels,
        dim,
        classes,
    })
}

/// Stratified split: from each class, `round(test_fraction · count)` rows
/// go to the test set (shuffled with `seed`), the rest to the training set.
/// Returns `(train_indices, test_indices)`.
pub fn stratified_split(d: &Dataset, test_fraction: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let mut rng = rng::derive(seed, 0x5_11a7);
    let (mut train, mut test) = (vec![], vec![]);
    for c in 0..d.classes {
        let mut idx: Vec<usize> = (0..d.len()).filter(|&i| d.labels[i] == c).collect();
        shuffle(&mut idx, &mut rng);
        let n = (test_fraction * idx.len() as f64).round() as usize;
        test.extend_from_slice(&idx[..n.min(idx.len())]);
        train.extend_from_slice(&idx[n.min(idx.len())..]);
    }
    (train, test)
}

/// Label skew: each class's rows (among `train`) are divided over `clients`
/// clients in Dirichlet(`alpha`) proportions; redrawn (up to 1,000 times)
/// until every client holds at least `min_per_client` rows. Returns one index
/// list per client. If no draw satisfies the minimum, the last draw is
/// returned.
pub fn dirichlet_partition(
    d: &Dataset,
    train: &[usize],
    clients: usize,
    alpha: f64,
    min_per_client: usize,
    seed: u64,
) -> Vec<Vec<usize>> {
    let mut rng = rng::derive(seed, 0xd112);
    let clients = clients.max(1);
    let mut parts = vec![vec![]; clients];
    for _ in 0..1000 {
        parts = vec![vec![]; clients];
        for c in 0..d.classes {
            let mut idx: Vec<usize> = train
                .iter()
                .copied()
                .filter(|&i| d.labels[i] == c)
                .collect();
            shuffle(&mut idx, &mut rng);
            let g: Vec<f64> = (0..clients).map(|_| gamma(alpha, &mut rng)).collect();
            let total: f64 = g.iter().sum::<f64>().max(f64::MIN_POSITIVE);
            let mut start = 0usize;
            let mut cum = 0.0;
            for (k, gk) in g.iter().enumerate() {
                cum += gk / total;
                let end = if k + 1 == clients {
                    idx.len()
                } else {
                    ((cum * idx.len() as f64) as usize).min(idx.len())
                };
                parts[k].extend_from_slice(&idx[start.min(end)..end]);
                start = end.max(start);
            }
        }
        if parts.iter().all(|p| p.len() >= min_per_client) {
            break;
        }
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_has_the_documented_shape() {
        let d = digits();
        assert_eq!((d.len(), d.dim, d.classes), (1797, 64, 10));
        assert_eq!(d.histogram()[0], 178);
        assert!(d.x.iter().all(|v| (0.0..=1.0).contains(v)));
    }

    #[test]
    fn csv_errors_are_reported_not_panicked() {
        assert!(matches!(
            parse_csv("1,2,x\n"),
            Err(DataError::Parse { line: 1, .. })
        ));
        assert!(matches!(
            parse_csv("1,2,0\n1,1\n"),
            Err(DataError::Parse { line: 2, .. })
        ));
        assert!(matches!(
            parse_csv("1,2,-1\n"),
            Err(DataError::Parse { .. })
        ));
        assert!(matches!(
            parse_csv("1,2,0.5\n"),
            Err(DataError::Parse { .. })
        ));
        assert!(matches!(
            parse_csv("1,nan,1\n"),
            Err(DataError::Parse { .. })
        ));
        assert!(matches!(
            parse_csv("# only a comment\n"),
            Err(DataError::Empty)
        ));
        let d = parse_csv("# c\n0.5,1,0\n\n2,3,1\n").unwrap();
        assert_eq!(
            (d.len(), d.dim, d.classes, d.labels.clone()),
            (2, 2, 2, vec![0, 1])
        );
        assert!(parse_csv_bytes(&[0x1f, 0x8b, 1, 2, 3]).is_err());
    }

    #[test]
    fn split_is_stratified_and_seeded() {
        let d = digits();
        let (tr, te) = stratified_split(&d, 0.2, 3);
        assert_eq!(tr.len() + te.len(), 1797);
        assert_eq!(te.len(), 359);
        let mut all: Vec<usize> = tr.iter().chain(&te).copied().collect();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), 1797);
        assert_eq!(stratified_split(&d, 0.2, 3), (tr.clone(), te.clone()));
        assert_ne!(stratified_split(&d, 0.2, 4).1, te);
        let th = d.subset(&te).histogram();
        assert!(th.iter().all(|&c| (35..=37).contains(&c)), "{th:?}");
    }

    #[test]
    fn dirichlet_partition_covers_train_and_is_skewed() {
        let d = digits();
        let (tr, _) = stratified_split(&d, 0.2, 1);
        let parts = dirichlet_partition(&d, &tr, 10, 0.5, 20, 1);
        assert_eq!(parts.iter().map(Vec::len).sum::<usize>(), tr.len());
        assert!(parts.iter().all(|p| p.len() >= 20));
        // Skew: some client misses at least one class nearly entirely.
        let skewed = parts
            .iter()
            .any(|p| d.subset(p).histogram().iter().any(|&c| c <= 2));
        assert!(skewed);
        assert_eq!(parts, dirichlet_partition(&d, &tr, 10, 0.5, 20, 1));
    }
}
