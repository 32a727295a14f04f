//! `assay report` on a checkpoint sweep scored with `assay score`: the HTML
//! report opens in headless Chromium without console errors and shows one
//! browser row per sample (a screenshot is kept in
//! `target/test-artifacts/report.png`); the markdown report has the same
//! numbers; `--plots` writes the charts as SVG and PNG files.

use crate::support;

use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::fixtures::{Project, lettered_questions, output_text, plugin, repo_root};

/// A scored sweep: 4 checkpoints (steps 10..40) × 6 questions, the k-th
/// checkpoint answering the first k+2 questions right.
fn scored_sweep(project: &Project) {
    let questions: Vec<(String, String)> = (0..6).map(|i| (format!("q{i}"), format!("Question <{i}>?"))).collect();
    project.write("questions.jsonl", &lettered_questions(&questions));
    let config =
        format!("envs:\n  - {{id: quiz, module: {}, dataset: questions.jsonl}}\njobs: []\n", plugin("mcq").display());
    project.write("run.yaml", &config);
    for k in 0..4 {
        let rows: String = (0..6)
            .map(|i| {
                let gold = ['A', 'B', 'C', 'D'][i % 4];
                let letter = if i < k + 2 {
                    gold
                } else if gold == 'A' {
                    'B'
                } else {
                    'A'
                };
                json!({"id": format!("q{i}"), "completion": format!("<b>I think</b> ({letter})")}).to_string() + "\n"
            })
            .collect();
        project.write(&format!("sols/step_{}/out.jsonl", 10 * (k + 1)), &rows);
    }
    project.assay_ok(&["score", "--solutions-dir", "sols", "--env", "quiz", "--config", "run.yaml", "--yes"]);
}

fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"].iter().find_map(|name| {
        let found = Command::new("which").arg(name).output().ok()?;
        found.status.success().then(|| PathBuf::from(String::from_utf8_lossy(&found.stdout).trim()))
    })
}

/// Chromium's flags for a headless run that needs no display or sandbox.
fn headless(browser: &Path, extra: &[&str], page: &Path) -> std::process::Output {
    let url = format!("file://{}", page.display());
    Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .args(extra)
        .arg(url)
        .output()
        .expect("chromium runs")
}

#[test]
fn the_html_report_renders_in_a_browser() {
    let project = Project::new();
    scored_sweep(&project);
    let (stdout, _) =
        project.assay_ok(&["report", "runs/raw", "--title", "Sweep <test>", "--output", "out/report.html"]);
    assert!(stdout.contains("Report: out/report.html"), "{stdout}");
    let page = project.path().join("out/report.html");
    let html = std::fs::read_to_string(&page).unwrap();
    for loads in ["src=", "<link", "@import", "url("] {
        assert!(!html.contains(loads), "`{loads}`: the page loads nothing from elsewhere");
    }
    assert!(html.contains("<title>Sweep &lt;test&gt;</title>"));
    for section in ["id=\"results\"", "id=\"winrates\"", "id=\"curve\"", "id=\"envs\"", "id=\"samples\""] {
        assert!(html.contains(section), "{section} missing");
    }

    let Some(browser) = chromium() else {
        println!("skipped: the browser check (no chromium; .ci/run installs it)");
        return;
    };
    let dom = headless(&browser, &["--dump-dom"], &page);
    assert!(dom.status.success(), "{}", output_text(&dom));
    let dom_text = String::from_utf8_lossy(&dom.stdout);
    assert_eq!(dom_text.matches("<tr class=\"sample\">").count(), 24, "4 checkpoints × 6 samples");
    assert!(dom_text.contains("Showing 24 of 24 matching samples"), "the script ran");
    assert!(dom_text.contains("&lt;b&gt;I think&lt;/b&gt;"), "completions are text, not markup");
    let console = String::from_utf8_lossy(&dom.stderr);
    let errors: Vec<&str> = console.lines().filter(|l| l.contains("CONSOLE") || l.contains("Uncaught")).collect();
    assert!(errors.is_empty(), "console errors: {errors:#?}");

    let artifacts = repo_root().join("target/test-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let screenshot = artifacts.join("report.png");
    let shot = format!("--screenshot={}", screenshot.display());
    let taken = headless(&browser, &[&shot, "--window-size=1280,2600", "--hide-scrollbars"], &page);
    assert!(taken.status.success() && screenshot.is_file(), "{}", output_text(&taken));
}

#[test]
fn markdown_and_plot_files_carry_the_same_numbers() {
    let project = Project::new();
    scored_sweep(&project);
    project.assay_ok(&["process"]);
    project.assay_ok(&["report", "runs/processed", "--format", "md", "--output", "report.md", "--plots", "plots"]);
    let markdown = std::fs::read_to_string(project.path().join("report.md")).unwrap();
    assert!(markdown.contains("| model | env | examples | mean ± stderr | 95% CI | errors |"), "{markdown}");
    // Checkpoint k answers k + 2 of 6 questions right.
    for (step, right) in [(10, 2), (20, 3), (30, 4), (40, 5)] {
        let mean = format!("{:.3}", right as f64 / 6.0);
        assert!(markdown.contains(&format!("| checkpoint-{step} | quiz | 6 | {mean} ± ")), "{step}: {markdown}");
        assert!(markdown.contains(&format!("| quiz | {step} | {mean} |")), "curve row {step}: {markdown}");
    }
    for plot in ["envs", "curve", "winrates"] {
        let svg = std::fs::read_to_string(project.path().join("plots").join(format!("{plot}.svg"))).unwrap();
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"), "{plot}");
        let png = std::fs::read(project.path().join("plots").join(format!("{plot}.png"))).unwrap();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 2000, "{plot}.png: {} bytes", png.len());
    }
}
