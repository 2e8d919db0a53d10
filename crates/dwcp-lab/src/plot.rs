//! SVG line plots with plotters.

use crate::report::Plot;
use plotters::prelude::*;
use std::path::Path;

const COLORS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

/// Draws `plot` as an SVG file at `path`.
pub fn draw(path: &Path, plot: &Plot) -> Result<(), String> {
    let pts = plot
        .series
        .iter()
        .flat_map(|(_, s)| s.iter())
        .filter(|(x, y)| x.is_finite() && y.is_finite());
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(x, y) in pts {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    if x0 > x1 {
        return Err(format!("plot {} has no finite points", plot.stem));
    }
    let map = |v: f64| if plot.log { v.max(1e-12).log10() } else { v };
    let (x0, x1, y0, y1) = (map(x0), map(x1), map(y0), map(y1));
    let pad = |a: f64, b: f64| {
        if (b - a).abs() < 1e-9 {
            (a - 1.0, b + 1.0)
        } else {
            (a - (b - a) * 0.05, b + (b - a) * 0.05)
        }
    };
    let ((x0, x1), (y0, y1)) = (pad(x0, x1), pad(y0, y1));
    let root = SVGBackend::new(path, (720, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let mut chart = ChartBuilder::on(&root)
        .caption(&plot.title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(|e| e.to_string())?;
    let unlog = |v: &f64| {
        if plot.log {
            crate::report::fmt_num(10f64.powf(*v))
        } else {
            crate::report::fmt_num(*v)
        }
    };
    chart
        .configure_mesh()
        .x_desc(if plot.log {
            format!("{} (log)", plot.x_label)
        } else {
            plot.x_label.clone()
        })
        .y_desc(if plot.log {
            format!("{} (log)", plot.y_label)
        } else {
            plot.y_label.clone()
        })
        .x_label_formatter(&unlog)
        .y_label_formatter(&unlog)
        .draw()
        .map_err(|e| e.to_string())?;
    for (i, (name, points)) in plot.series.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        let pts: Vec<(f64, f64)> = points.iter().map(|&(x, y)| (map(x), map(y))).collect();
        chart
            .draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))
            .map_err(|e| e.to_string())?
            .label(name)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2))
            });
        chart
            .draw_series(pts.into_iter().map(|p| Circle::new(p, 3, color.filled())))
            .map_err(|e| e.to_string())?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|e| e.to_string())?;
    root.present().map_err(|e| e.to_string())
}
