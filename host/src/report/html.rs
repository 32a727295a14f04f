//! The HTML report: one file with its styles, charts (inline SVG), data and
//! script inside, so it opens offline and can be mailed or attached.
//!
//! Sample text reaches the page only through `textContent`, never as HTML,
//! so a completion full of markup shows as text.

use super::{ReportData, charts, env_level, interval, mean_pm};
use anyhow::Result;
use std::fmt::Write;

/// The report as one HTML document.
pub(crate) fn html(data: &ReportData) -> Result<String> {
    let mut page = String::with_capacity(64 * 1024);
    write!(
        page,
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<header><h1>{title}</h1><p>Generated {time} by assay {version}.</p></header>\n",
        title = escape(&data.title),
        time = escape(&data.generated_at),
        version = env!("CARGO_PKG_VERSION"),
    )?;
    results_section(&mut page, data)?;
    if let Some(winrates) = &data.winrates {
        page.push_str("<section id=\"winrates\"><h2>Win rates</h2>\n");
        page.push_str(&charts::winrate_heatmap(winrates)?);
        page.push_str("\n<table><thead><tr><th>model</th><th>mean win rate</th><th>95% CI</th><th>wins</th><th>losses</th><th>ties</th></tr></thead><tbody>\n");
        for (model, result) in &winrates.models {
            writeln!(
                page,
                "<tr><td>{}</td><td>{:.3}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(model),
                result.mean_win_rate,
                interval(result.ci),
                result.record.wins,
                result.record.losses,
                result.record.ties
            )?;
        }
        page.push_str("</tbody></table></section>\n");
    }
    if !data.curve.is_empty() {
        page.push_str("<section id=\"curve\"><h2>By checkpoint</h2>\n");
        page.push_str(&charts::curve(&data.curve)?);
        page.push_str("</section>\n");
    }
    page.push_str("<section id=\"envs\"><h2>By environment</h2>\n");
    page.push_str(&charts::env_bars(&data.configs)?);
    page.push_str("</section>\n");
    samples_section(&mut page, data)?;
    page.push_str("</body>\n</html>\n");
    Ok(page)
}

fn results_section(page: &mut String, data: &ReportData) -> Result<()> {
    let priced = data.configs.iter().any(|c| c.cost_usd.is_some());
    page.push_str("<section id=\"results\"><h2>Results</h2>\n<table class=\"results\"><thead><tr><th>model</th><th>env</th><th>variant</th><th>examples</th><th>mean ± stderr</th><th>95% CI</th><th>errors</th>");
    page.push_str(if priced { "<th>cost (USD)</th></tr></thead><tbody>\n" } else { "</tr></thead><tbody>\n" });
    for config in &data.configs {
        write!(
            page,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>",
            escape(&config.model_label()),
            escape(&config.env_id),
            escape(&config.variant),
            config.n_examples,
            mean_pm(config),
            interval(config.ci_low.zip(config.ci_high)),
            config.errors
        )?;
        if priced {
            write!(page, "<td>{}</td>", config.cost_usd.map_or("-".into(), crate::models::format_usd))?;
        }
        page.push_str("</tr>\n");
    }
    let rows = env_level(&data.configs).len();
    writeln!(
        page,
        "</tbody></table><p class=\"note\">{rows} (model, env) results (a model under a named sampling config is shown as model@config); rollouts are averaged per example before the mean.</p></section>"
    )?;
    groups_section(page, data)
}

/// Per-group means, then each grouped config's macro and micro averages.
fn groups_section(page: &mut String, data: &ReportData) -> Result<()> {
    if data.groups.is_empty() {
        return Ok(());
    }
    page.push_str("<section id=\"groups\"><h2>By group</h2>\n<table class=\"results\"><thead><tr><th>model</th><th>env</th><th>variant</th><th>group</th><th>examples</th><th>mean ± stderr</th><th>95% CI</th></tr></thead><tbody>\n");
    for g in &data.groups {
        writeln!(
            page,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.3} ± {}</td><td>[{:.3}, {:.3}]</td></tr>",
            escape(&crate::analysis::winrate::contestant(&g.model_id, &g.config_id)),
            escape(&g.env_id),
            escape(&g.variant),
            escape(&g.group),
            g.n_examples,
            g.mean,
            g.stderr.map_or("-".into(), |s| format!("{s:.3}")),
            g.ci_low,
            g.ci_high
        )?;
    }
    page.push_str("</tbody></table>\n<p class=\"note\">");
    for c in data.configs.iter().filter(|c| c.macro_mean.is_some()) {
        let average = |x: Option<f64>| x.map_or("-".into(), |x| format!("{x:.3}"));
        write!(
            page,
            "{} on {} ({}): macro average {}, micro average {}. ",
            escape(&c.model_label()),
            escape(&c.env_id),
            escape(&c.variant),
            average(c.macro_mean),
            average(c.mean)
        )?;
    }
    page.push_str("</p></section>\n");
    Ok(())
}

fn samples_section(page: &mut String, data: &ReportData) -> Result<()> {
    page.push_str(
        "<section id=\"samples\"><h2>Samples</h2>\n<div class=\"filters\">\
         <label>env <select id=\"filter-env\"><option value=\"\">all</option></select></label>\
         <label>model <select id=\"filter-model\"><option value=\"\">all</option></select></label>\
         <label>outcome <select id=\"filter-outcome\"><option value=\"\">all</option><option>correct</option><option>incorrect</option><option>error</option></select></label>\
         <label>parse status <select id=\"filter-status\"><option value=\"\">all</option></select></label></div>\n\
         <p id=\"sample-count\"></p>\n<table id=\"sample-table\"><thead><tr><th>model</th><th>env</th><th>example</th><th>rollout</th><th>reward</th><th>parse status</th><th>answer</th></tr></thead><tbody></tbody></table>\n\
         <p class=\"note\">Click a row for the whole sample: every turn of the conversation with its tool calls and results, the reasoning, code runs, judge calls, details and error.</p></section>\n",
    );
    // `</` would end the script element early; `<\/` is the same JSON.
    let json = serde_json::to_string(&data.samples)?.replace("</", "<\\/").replace("<!--", "<\\!--");
    writeln!(page, "<script type=\"application/json\" id=\"sample-data\">{json}</script>")?;
    writeln!(page, "<script>{SCRIPT}</script>")?;
    Ok(())
}

/// Text safe inside HTML elements and attributes.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = r#"
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 1100px; color: #1d1d1f; padding: 0 1rem; }
h1 { margin-bottom: 0.2rem; } header p, .note { color: #666; font-size: 0.9rem; }
section { margin: 2.2rem 0; }
table { border-collapse: collapse; width: 100%; font-size: 0.9rem; }
th, td { text-align: left; padding: 0.35rem 0.6rem; border-bottom: 1px solid #e4e4e7; vertical-align: top; }
th { background: #f4f4f5; position: sticky; top: 0; }
tr.sample { cursor: pointer; } tr.sample:hover { background: #f8fafc; }
tr.detail td { background: #fafafa; }
pre { white-space: pre-wrap; word-break: break-word; margin: 0.3rem 0 0.8rem; font-size: 0.85rem; }
.filters { display: flex; gap: 1rem; flex-wrap: wrap; margin-bottom: 0.6rem; }
.correct { color: #15803d; } .incorrect { color: #b91c1c; } .error { color: #a16207; }
svg { max-width: 100%; height: auto; }
"#;

const SCRIPT: &str = r#"
(function () {
  const samples = JSON.parse(document.getElementById('sample-data').textContent);
  const MAX_ROWS = 500;
  const select = (id) => document.getElementById(id);
  const filters = { env: select('filter-env'), model: select('filter-model'), outcome: select('filter-outcome'), status: select('filter-status') };
  const outcome = (s) => s.reward === null ? 'error' : (s.reward >= 1 ? 'correct' : 'incorrect');
  const status = (s) => s.parse_status === null ? '(none)' : s.parse_status;
  function fill(element, values) {
    for (const value of [...new Set(values)].sort()) {
      const option = document.createElement('option');
      option.textContent = value;
      element.appendChild(option);
    }
  }
  fill(filters.env, samples.map((s) => s.env));
  fill(filters.model, samples.map((s) => s.model));
  fill(filters.status, samples.map(status));
  function cell(row, text, className) {
    const td = document.createElement('td');
    td.textContent = text;
    if (className) td.className = className;
    row.appendChild(td);
  }
  function detail(s) {
    const row = document.createElement('tr');
    row.className = 'detail';
    row.hidden = true;
    const td = document.createElement('td');
    td.colSpan = 7;
    for (const section of s.sections) {
      const heading = document.createElement('strong');
      heading.textContent = section.title;
      const pre = document.createElement('pre');
      pre.textContent = section.text;
      td.append(heading, pre);
    }
    row.appendChild(td);
    return row;
  }
  function render() {
    const body = document.querySelector('#sample-table tbody');
    body.replaceChildren();
    const shown = samples.filter((s) =>
      (!filters.env.value || s.env === filters.env.value) &&
      (!filters.model.value || s.model === filters.model.value) &&
      (!filters.outcome.value || outcome(s) === filters.outcome.value) &&
      (!filters.status.value || status(s) === filters.status.value));
    for (const s of shown.slice(0, MAX_ROWS)) {
      const row = document.createElement('tr');
      row.className = 'sample';
      cell(row, s.model); cell(row, s.env); cell(row, s.example); cell(row, String(s.rollout));
      cell(row, s.reward === null ? 'error' : s.reward.toFixed(3), outcome(s));
      cell(row, status(s)); cell(row, s.parsed_answer || '');
      const more = detail(s);
      row.addEventListener('click', () => { more.hidden = !more.hidden; });
      body.append(row, more);
    }
    select('sample-count').textContent =
      'Showing ' + Math.min(shown.length, MAX_ROWS) + ' of ' + shown.length + ' matching samples (' + samples.length + ' in this report).';
  }
  Object.values(filters).forEach((element) => element.addEventListener('change', render));
  render();
})();
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_text_is_escaped() {
        assert_eq!(escape("<b>\"x\" & 'y'</b>"), "&lt;b&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/b&gt;");
    }
}
