//! Softmax, losses and their gradients. Every loss is a batch mean and its
//! gradient already contains the `1 / n`, so it can go straight into
//! [`Mlp::backward`](crate::Mlp::backward).

use crate::error::NnError;
use ndarray::{Array1, Array2, ArrayBase, Axis, Data, Ix2, Zip};

/// Row-wise softmax, stabilised by subtracting each row's maximum.
pub fn softmax<S: Data<Elem = f32>>(logits: &ArrayBase<S, Ix2>) -> Array2<f32> {
    let mut p = logits.to_owned();
    for mut row in p.rows_mut() {
        let max = row.fold(f32::NEG_INFINITY, |m, &v| m.max(v));
        row.mapv_inplace(|v| (v - max).exp());
        let sum = row.sum();
        row.mapv_inplace(|v| v / sum);
    }
    p
}

/// Mean softmax cross-entropy of `logits` (`batch × classes`) against
/// integer `labels` (one per row), and its gradient `(softmax − onehot) / batch`.
/// Errors if the label count differs from the batch or a label is out of range.
pub fn softmax_cross_entropy<S: Data<Elem = f32>>(
    logits: &ArrayBase<S, Ix2>,
    labels: &[usize],
) -> Result<(f32, Array2<f32>), NnError> {
    let (n, classes) = logits.dim();
    if labels.len() != n {
        return Err(NnError::ShapeMismatch(format!(
            "{} labels for a batch of {n}",
            labels.len()
        )));
    }
    if let Some((row, &label)) = labels.iter().enumerate().find(|&(_, &l)| l >= classes) {
        return Err(NnError::LabelOutOfRange {
            row,
            label,
            classes,
        });
    }
    let mut grad = softmax(logits);
    let mut loss = 0.0f64;
    let inv = 1.0 / n.max(1) as f32;
    for ((mut g, lrow), &label) in grad.rows_mut().into_iter().zip(logits.rows()).zip(labels) {
        // -log softmax[label] = logsumexp(row) - row[label], computed stably.
        let max = lrow.fold(f32::NEG_INFINITY, |m, &v| m.max(v));
        let lse = f64::from(max)
            + lrow
                .iter()
                .map(|&v| f64::from(v - max).exp())
                .sum::<f64>()
                .ln();
        loss += lse - f64::from(lrow[label]);
        g[label] -= 1.0;
        g.mapv_inplace(|v| v * inv);
    }
    Ok(((loss / n.max(1) as f64) as f32, grad))
}

/// Mean squared error over all entries, `mean((pred − target)²)`, and its
/// gradient `2 (pred − target) / len`. Errors if the shapes differ.
pub fn mse<S: Data<Elem = f32>, T: Data<Elem = f32>>(
    pred: &ArrayBase<S, Ix2>,
    target: &ArrayBase<T, Ix2>,
) -> Result<(f32, Array2<f32>), NnError> {
    if pred.dim() != target.dim() {
        return Err(NnError::ShapeMismatch(format!(
            "prediction {:?} vs target {:?}",
            pred.dim(),
            target.dim()
        )));
    }
    let len = pred.len().max(1) as f32;
    let mut grad = Array2::zeros(pred.dim());
    let mut loss = 0.0f64;
    Zip::from(&mut grad)
        .and(pred)
        .and(target)
        .for_each(|g, &p, &t| {
            let d = p - t;
            loss += f64::from(d) * f64::from(d);
            *g = 2.0 * d / len;
        });
    Ok(((loss / f64::from(len)) as f32, grad))
}

/// The index of each row's largest entry (class predictions from logits).
pub fn argmax_rows<S: Data<Elem = f32>>(x: &ArrayBase<S, Ix2>) -> Vec<usize> {
    x.map_axis(Axis(1), |row| {
        row.iter()
            .enumerate()
            .fold((0, f32::NEG_INFINITY), |best, (i, &v)| {
                if v > best.1 { (i, v) } else { best }
            })
            .0
    })
    .to_vec()
}

/// The fraction of rows whose [`argmax_rows`] equals the label (0 for an
/// empty batch or mismatched lengths).
pub fn accuracy<S: Data<Elem = f32>>(logits: &ArrayBase<S, Ix2>, labels: &[usize]) -> f32 {
    let pred = argmax_rows(logits);
    if pred.is_empty() || pred.len() != labels.len() {
        return 0.0;
    }
    pred.iter().zip(labels).filter(|(p, l)| p == l).count() as f32 / pred.len() as f32
}

/// Column means of a batch (e.g. for reporting mean Q).
pub fn column_means<S: Data<Elem = f32>>(x: &ArrayBase<S, Ix2>) -> Array1<f32> {
    x.mean_axis(Axis(0))
        .unwrap_or_else(|| Array1::zeros(x.ncols()))
}
