//! Charts as SVG text, drawn with `plotters`: mean reward against
//! checkpoint step, the pairwise win-rate matrix as a heatmap, and mean
//! reward per environment and model with 95% intervals.
//!
//! Text is left to the SVG viewer (plotters' SVG backend needs no font
//! files), so the same SVG serves the HTML report and files for papers;
//! [`png`] rasterises it (resvg, with the system's fonts) for slides.

use super::{CurvePoint, env_level};
use crate::analysis::ConfigAnalysis;
use crate::analysis::winrate::Winrates;
use anyhow::{Result, anyhow};
use plotters::prelude::*;
use std::collections::BTreeSet;

const FONT: &str = "sans-serif";

/// Sans-serif fonts tried, in order, when rendering PNGs.
const SANS_FAMILIES: [&str; 6] = ["DejaVu Sans", "Liberation Sans", "Arial", "Helvetica", "Noto Sans", "FreeSans"];

/// Run `draw` on a `width` × `height` SVG and return its text.
fn svg(
    width: u32,
    height: u32,
    draw: impl FnOnce(&DrawingArea<SVGBackend, plotters::coord::Shift>) -> Result<()>,
) -> Result<String> {
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| anyhow!("drawing: {e}"))?;
        draw(&root)?;
        root.present().map_err(|e| anyhow!("drawing: {e}"))?;
    }
    Ok(text)
}

/// Mean reward against step, one line per env, with 95% interval bars.
pub(crate) fn curve(points: &[CurvePoint]) -> Result<String> {
    let envs: BTreeSet<&str> = points.iter().map(|p| p.env.as_str()).collect();
    let max_step = points.iter().map(|p| p.step).max().unwrap_or(1).max(1);
    let min_step = points.iter().map(|p| p.step).min().unwrap_or(0);
    let (low, high) = value_range(points.iter().flat_map(|p| [Some(p.mean), p.ci.map(|c| c.0), p.ci.map(|c| c.1)]));
    svg(760, 420, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption("Mean reward by checkpoint step", (FONT, 18))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(48)
            .build_cartesian_2d(min_step..max_step, low..high)
            .map_err(|e| anyhow!("{e}"))?;
        chart.configure_mesh().x_desc("step").y_desc("mean reward").draw().map_err(|e| anyhow!("{e}"))?;
        for (i, env) in envs.iter().enumerate() {
            let color = Palette99::pick(i).to_rgba();
            let series: Vec<&CurvePoint> = points.iter().filter(|p| p.env == *env).collect();
            chart
                .draw_series(LineSeries::new(series.iter().map(|p| (p.step, p.mean)), color.stroke_width(2)))
                .map_err(|e| anyhow!("{e}"))?
                .label(*env)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2)));
            let bars = series.iter().filter_map(|p| {
                let (lo, hi) = p.ci?;
                Some(ErrorBar::new_vertical(p.step, lo, p.mean, hi, color.filled(), 6))
            });
            chart.draw_series(bars).map_err(|e| anyhow!("{e}"))?;
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.3))
            .position(SeriesLabelPosition::LowerRight)
            .draw()
            .map_err(|e| anyhow!("{e}"))?;
        Ok(())
    })
}

/// The row model's win rate against the column model, as colored cells.
pub(crate) fn winrate_heatmap(winrates: &Winrates) -> Result<String> {
    let models: Vec<&String> = winrates.models.keys().collect();
    let n = models.len() as u32;
    let (cell, label_width, top) = (56u32, 170u32, 40u32);
    svg(label_width + n * cell + 20, top + n * cell + 30, |root| {
        let text = |s: &str, x: u32, y: u32| Text::new(s.to_string(), (x as i32, y as i32), (FONT, 12).into_font());
        root.draw(&text("row model's win rate against column model", label_width, 14)).map_err(|e| anyhow!("{e}"))?;
        for (c, model) in models.iter().enumerate() {
            let x = label_width + c as u32 * cell + 4;
            root.draw(&text(&format!("{}", c + 1), x + cell / 2 - 6, top - 8)).map_err(|e| anyhow!("{e}"))?;
            let row_y = top + c as u32 * cell + cell / 2 - 6;
            root.draw(&text(&format!("{} {}", c + 1, shorten(model, 22)), 4, row_y)).map_err(|e| anyhow!("{e}"))?;
        }
        for (r, row) in models.iter().enumerate() {
            for (c, column) in models.iter().enumerate() {
                let rate = winrates.models[*row].vs.get(*column).map(|vs| vs.win_rate);
                let (x, y) = ((label_width + c as u32 * cell) as i32, (top + r as u32 * cell) as i32);
                let fill = rate.map_or(RGBColor(235, 235, 235), heat);
                let corners = [(x, y), (x + cell as i32 - 2, y + cell as i32 - 2)];
                root.draw(&Rectangle::new(corners, fill.filled())).map_err(|e| anyhow!("{e}"))?;
                let label = rate.map_or("-".to_string(), |v| format!("{v:.2}"));
                let at = ((x as u32) + cell / 2 - 14, (y as u32) + cell / 2 - 6);
                root.draw(&text(&label, at.0, at.1)).map_err(|e| anyhow!("{e}"))?;
            }
        }
        Ok(())
    })
}

/// Mean reward per (env, model) as horizontal bars with 95% intervals.
pub(crate) fn env_bars(configs: &[ConfigAnalysis]) -> Result<String> {
    let rows = env_level(configs);
    let models: BTreeSet<String> = rows.iter().map(|r| r.model_label()).collect();
    let models: Vec<String> = models.into_iter().collect();
    let (row_height, label_width, bar_width, top) = (22u32, 260u32, 420u32, 30u32);
    let height = top + rows.len() as u32 * row_height + 20;
    svg(label_width + bar_width + 90, height, |root| {
        let text = |s: &str, x: u32, y: u32| Text::new(s.to_string(), (x as i32, y as i32), (FONT, 12).into_font());
        root.draw(&text("mean reward per environment (bars: 95% interval)", 4, 8)).map_err(|e| anyhow!("{e}"))?;
        let scale = |v: f64| label_width as i32 + (v.clamp(0.0, 1.0) * bar_width as f64) as i32;
        for (i, row) in rows.iter().enumerate() {
            let y = (top + i as u32 * row_height) as i32;
            let label = format!("{} · {}", shorten(&row.env_id, 18), shorten(&row.model_label(), 18));
            root.draw(&text(&label, 4, y as u32 + 4)).map_err(|e| anyhow!("{e}"))?;
            let color = Palette99::pick(models.iter().position(|m| *m == row.model_label()).unwrap_or(0)).to_rgba();
            if let Some(mean) = row.mean {
                let bar = [(label_width as i32, y + 2), (scale(mean), y + row_height as i32 - 4)];
                root.draw(&Rectangle::new(bar, color.filled())).map_err(|e| anyhow!("{e}"))?;
                root.draw(&text(&format!("{mean:.3}"), (scale(1.0) + 6) as u32, y as u32 + 4))
                    .map_err(|e| anyhow!("{e}"))?;
            }
            if let (Some(low), Some(high)) = (row.ci_low, row.ci_high)
                && scale(high) > scale(low)
            {
                let middle = y + row_height as i32 / 2;
                let whisker =
                    PathElement::new(vec![(scale(low), middle), (scale(high), middle)], BLACK.stroke_width(1));
                root.draw(&whisker).map_err(|e| anyhow!("{e}"))?;
            }
        }
        Ok(())
    })
}

/// An SVG chart as PNG bytes at `scale` × its size (2 for sharp slides).
/// Text uses the system's fonts; without any, the PNG has no labels.
pub(crate) fn png(svg: &str, scale: f32) -> Result<Vec<u8>> {
    use resvg::{tiny_skia, usvg};
    let mut options = usvg::Options::default();
    let fonts = options.fontdb_mut();
    fonts.load_system_fonts();
    // The charts ask for `sans-serif`, which fontdb maps to Arial unless told
    // otherwise: use the first common sans family this system has.
    let families: Vec<String> =
        fonts.faces().flat_map(|face| face.families.iter().map(|(name, _)| name.clone())).collect();
    if let Some(family) = SANS_FAMILIES.iter().find(|wanted| families.iter().any(|f| f == *wanted)) {
        fonts.set_sans_serif_family(*family);
    }
    let tree = usvg::Tree::from_str(svg, &options).map_err(|e| anyhow!("chart SVG: {e}"))?;
    let size = tree.size();
    let (width, height) = ((size.width() * scale).ceil() as u32, (size.height() * scale).ceil() as u32);
    let mut pixmap = tiny_skia::Pixmap::new(width.max(1), height.max(1)).ok_or_else(|| anyhow!("chart too large"))?;
    resvg::render(&tree, tiny_skia::Transform::from_scale(scale, scale), &mut pixmap.as_mut());
    pixmap.encode_png().map_err(|e| anyhow!("encoding PNG: {e}"))
}

/// Red (0) through white (0.5) to green (1).
fn heat(value: f64) -> RGBColor {
    let v = value.clamp(0.0, 1.0);
    let mix = |from: u8, to: u8, t: f64| (from as f64 + (to as f64 - from as f64) * t) as u8;
    match v < 0.5 {
        true => RGBColor(mix(214, 255, v * 2.0), mix(96, 255, v * 2.0), mix(77, 255, v * 2.0)),
        false => RGBColor(mix(255, 26, (v - 0.5) * 2.0), mix(255, 150, (v - 0.5) * 2.0), mix(255, 65, (v - 0.5) * 2.0)),
    }
}

/// The value axis: [0, 1] widened to any value outside it.
fn value_range(values: impl Iterator<Item = Option<f64>>) -> (f64, f64) {
    values.flatten().fold((0.0, 1.0), |(low, high), v| (low.min(v), high.max(v)))
}

/// At most `max` characters, with `…` when cut.
fn shorten(text: &str, max: usize) -> String {
    match text.chars().count() > max {
        true => text.chars().take(max - 1).chain(['…']).collect(),
        false => text.to_string(),
    }
}
