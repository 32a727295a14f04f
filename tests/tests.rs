//! End-to-end tests of `assay`: one test binary, one module per area, as
//! ripgrep and uv do. Most drive the built binary against real wasm
//! plugins, an in-process OpenAI-compatible server, Hub and Piston.
// Tests and benchmarks report on stdout, and their helpers are no API.
#![allow(unreachable_pub, clippy::print_stdout, clippy::print_stderr)]

mod support;

mod agent;
mod analyze;
mod base_models;
mod bench;
mod bench_flags;
mod cache;
mod code_execution;
mod cost;
mod fuzz_inputs;
mod gateway;
mod groups;
mod hub_datasets;
mod judge;
mod mmlu;
mod model_client;
mod plugin_authoring;
mod process;
mod python_plugins;
mod python_sdk;
mod reliability;
mod report;
mod rescore;
mod resume;
mod runs;
mod sandbox;
mod score;
mod serve;
mod shards;
mod standard_benchmarks;
mod sweeps;
mod winrate;

/// Every `.rs` file beside this one is a module of this binary: a new test
/// file that is not declared above would otherwise never be compiled or run.
#[test]
fn every_test_file_is_a_module() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests");
    let this = std::fs::read_to_string(dir.join("tests.rs")).unwrap();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else { continue };
        if path.extension().is_some_and(|e| e == "rs") && stem != "tests" {
            assert!(this.contains(&format!("\nmod {stem};\n")), "tests/{stem}.rs is not declared in tests/tests.rs");
        }
    }
}
