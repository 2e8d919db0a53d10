//! Small, dependency-free analysis helpers for the figures simulations produce.

/// Least-squares slope of `ln y` against `ln x`: the exponent `b` in
/// `y ≈ a·xᵇ` (how message counts grow with `n`). Points with non-positive
/// coordinates are ignored; fewer than two points give NaN.
pub fn loglog_slope(points: &[(f64, f64)]) -> f64 {
    let pts: Vec<(f64, f64)> = points
        .iter()
        .filter(|(x, y)| *x > 0.0 && *y > 0.0)
        .map(|(x, y)| (x.ln(), y.ln()))
        .collect();
    if pts.len() < 2 {
        return f64::NAN;
    }
    let k = pts.len() as f64;
    let mx = pts.iter().map(|p| p.0).sum::<f64>() / k;
    let my = pts.iter().map(|p| p.1).sum::<f64>() / k;
    let sxy: f64 = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let sxx: f64 = pts.iter().map(|p| (p.0 - mx).powi(2)).sum();
    if sxx == 0.0 { f64::NAN } else { sxy / sxx }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slope_of_power_laws() {
        let sq: Vec<(f64, f64)> = [4.0f64, 16.0, 64.0, 256.0]
            .iter()
            .map(|&x| (x, 3.0 * x * x))
            .collect();
        assert!((loglog_slope(&sq) - 2.0).abs() < 1e-9);
        let p15: Vec<(f64, f64)> = [16.0f64, 64.0, 256.0]
            .iter()
            .map(|&x| (x, 5.0 * x.powf(1.5)))
            .collect();
        assert!((loglog_slope(&p15) - 1.5).abs() < 1e-9);
        assert!(loglog_slope(&[(1.0, 1.0)]).is_nan());
        assert!(loglog_slope(&[(2.0, 1.0), (2.0, 5.0)]).is_nan());
    }
}
