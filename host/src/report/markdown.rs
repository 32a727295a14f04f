//! The markdown report: the same numbers as the HTML one, as tables to
//! paste into a pull request or an issue.

use super::{ReportData, env_level, interval, mean_pm};
use std::fmt::Write;

/// The report as GitHub-flavoured markdown.
pub(crate) fn markdown(data: &ReportData) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "## {}\n", cell(&data.title));
    let priced = data.configs.iter().any(|c| c.cost_usd.is_some());
    out.push_str(match priced {
        true => "| model | env | examples | mean ± stderr | 95% CI | errors | cost (USD) |\n|---|---|---:|---|---|---:|---:|\n",
        false => "| model | env | examples | mean ± stderr | 95% CI | errors |\n|---|---|---:|---|---|---:|\n",
    });
    for config in env_level(&data.configs) {
        let cost = match (priced, config.cost_usd) {
            (false, _) => String::new(),
            (true, cost) => format!(" {} |", cost.map_or("-".into(), crate::models::format_usd)),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |{cost}",
            cell(&config.model_label()),
            cell(&config.env_id),
            config.n_examples,
            mean_pm(config),
            interval(config.ci_low.zip(config.ci_high)),
            config.errors
        );
    }
    if !data.groups.is_empty() {
        out.push_str("\n| model | env | group | examples | mean | 95% CI |\n|---|---|---|---:|---:|---|\n");
        for g in data.groups.iter().filter(|g| g.variant == g.env_id || g.variant == crate::analysis::ALL_CONFIGS) {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {:.3} | [{:.3}, {:.3}] |",
                cell(&crate::analysis::winrate::contestant(&g.model_id, &g.config_id)),
                cell(&g.env_id),
                cell(&g.group),
                g.n_examples,
                g.mean,
                g.ci_low,
                g.ci_high
            );
        }
    }
    if let Some(winrates) = &data.winrates {
        out.push_str("\n| model | mean win rate | 95% CI | W / L / T |\n|---|---:|---|---|\n");
        for (model, result) in &winrates.models {
            let record = result.record;
            let _ = writeln!(
                out,
                "| {} | {:.3} | {} | {} / {} / {} |",
                cell(model),
                result.mean_win_rate,
                interval(result.ci),
                record.wins,
                record.losses,
                record.ties
            );
        }
    }
    if !data.curve.is_empty() {
        out.push_str("\n| env | step | mean | 95% CI |\n|---|---:|---:|---|\n");
        for point in &data.curve {
            let _ =
                writeln!(out, "| {} | {} | {:.3} | {} |", cell(&point.env), point.step, point.mean, interval(point.ci));
        }
    }
    let _ = writeln!(out, "\n<sub>assay {} · {}</sub>", env!("CARGO_PKG_VERSION"), data.generated_at);
    out
}

/// Text safe in a table cell: pipes escaped, line breaks as spaces.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}
