//! Loading configs: schema errors, defaults, env files and TOML.

use super::*;
use crate::runtime::PluginLimits;

/// Write `files` (name, text) into a temp dir; returns it.
fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

/// The error of loading `run.yaml` with `files` beside it, minus the temp dir prefix.
fn error(run: &str, files: &[(&str, &str)]) -> String {
    let dir = project(files);
    std::fs::write(dir.path().join("run.yaml"), run).unwrap();
    let message = format!("{:#}", load(&dir.path().join("run.yaml")).unwrap_err());
    assert_eq!(message.lines().count(), 1, "{message}");
    message.replace(&format!("{}/", dir.path().display()), "")
}

fn load_run(run: &str, files: &[(&str, &str)]) -> LoadedConfig {
    let dir = project(files);
    std::fs::write(dir.path().join("run.yaml"), run).unwrap();
    load(&dir.path().join("run.yaml")).unwrap()
}

#[test]
fn unknown_keys_name_file_line_and_field() {
    let e = error("name: x\nmodels:\n  gpt4:\n    model: y\n    max_concurent: 3\njobs: []\n", &[]);
    assert!(
        e.starts_with(
            "run.yaml:5:5: models.gpt4.max_concurent: unknown field `max_concurent`, expected one of `model`"
        ),
        "{e}"
    );
}

#[test]
fn type_errors_name_file_line_and_field() {
    let e = error("jobs:\n  - model: m\n    env: e\n    env_args: [1]\n", &[]);
    assert_eq!(e, "run.yaml:4:15: jobs[0].env_args: invalid type: sequence, expected a map");
    let e = error("models:\n  m: {model: x, timeout: soon}\njobs: []\n", &[]);
    assert!(
        e.starts_with(
            "run.yaml:2:26: models.m.timeout: invalid type: string \"soon\", expected a positive number of seconds"
        ),
        "{e}"
    );
    let e = error("jobs:\n  - model: m\n    env: []\n", &[]);
    assert!(e.starts_with("run.yaml:3:10: jobs[0].env: expected at least one env id"), "{e}");
}

#[test]
fn syntax_errors_name_file_and_line() {
    let e = error("jobs:\n  - {model: m, env: [a}\n", &[]);
    assert!(e.starts_with("run.yaml:2:23: jobs[0].env: did not find expected ',' or ']'"), "{e}");
}

#[test]
fn out_of_range_values_are_schema_errors() {
    let e = error("parallel: 0\njobs: []\n", &[]);
    assert_eq!(e, "run.yaml:1:11: parallel: must be at least 1");
    let e = error("models:\n  m:\n    model: x\n    timeout: -1\njobs: []\n", &[]);
    assert!(e.starts_with("run.yaml:4:14: models.m.timeout: expected a positive number of seconds"), "{e}");
    let e = error("models:\n  m: {model: x, requests_per_minute: 0}\njobs: []\n", &[]);
    assert!(e.starts_with("run.yaml:2:38: models.m.requests_per_minute: expected a positive number per minute"), "{e}");
    let e = error("envs:\n  - {id: a, module: m, dataset: d.jsonl, num_examples: 0}\njobs: []\n", &[]);
    assert_eq!(e, "run.yaml:2:56: envs[0].num_examples: num_examples must be -1 (all) or a positive count, not 0");
}

#[test]
fn defaults_fill_every_optional_field() {
    let loaded =
        load_run("models:\n  m: {model: served}\nenvs:\n  - {id: a, module: m, dataset: d.jsonl}\njobs: []\n", &[]);
    let run = &loaded.run;
    assert_eq!(
        (run.name.as_str(), run.output_dir.as_path(), run.seed, run.parallel),
        ("benchmark", Path::new("runs/raw"), 0, 4)
    );
    let model = &run.models["m"];
    assert_eq!(model.api_base_url, "https://api.openai.com/v1");
    assert_eq!(
        (model.api_key_var.as_deref(), model.max_concurrent, model.timeout, model.max_retries),
        (None, 32, 600.0, 6)
    );
    assert_eq!((model.requests_per_minute, model.tokens_per_minute, model.adaptive_concurrency), (None, None, true));
    let env = &loaded.envs[0].env;
    assert_eq!((env.num_examples, env.rollouts_per_example, env.max_turns), (None, 1, 16));
    assert_eq!(env.limits, PluginLimits { memory_mb: 256, call_timeout_ms: 10_000, fuel: 10_000_000_000 });
    assert!(env.capabilities.is_empty() && env.env_args.is_empty() && env.matrix.is_empty());
    assert_eq!(loaded.envs[0].place(), format!("{}: envs[0]", loaded.path.display()));
}

#[test]
fn env_files_hold_one_env_or_a_list() {
    let files = [
        ("envs/a.yaml", "id: a\nmodule: m\ndataset: d.jsonl\nnum_examples: 5\n"),
        ("envs/b.yml", "- id: b\n  module: m\n  dataset: d.jsonl\n- id: c\n  module: m\n  dataset: d.jsonl\n"),
        ("envs/notes.txt", "not yaml"),
    ];
    let loaded = load_run("jobs: []\n", &files);
    let found: Vec<(&str, &str)> = loaded.envs.iter().map(|e| (e.env.id.as_str(), e.field.as_str())).collect();
    assert_eq!(found, [("a", ""), ("b", "[0]"), ("c", "[1]")]);
    assert_eq!(loaded.envs[0].env.num_examples, Some(5));
    assert!(loaded.envs[1].file.ends_with("envs/b.yml"));
    let e = error("jobs: []\n", &[("envs/z.yaml", "- id: z\n  module: m\n  datset: d.jsonl\n")]);
    assert!(e.starts_with("envs/z.yaml:3:3: [0].datset: unknown field `datset`"), "{e}");
    let loaded = load_run("jobs: []\n", &[("envs/z.yaml", "id: z\nmodule: m\n")]);
    assert_eq!(loaded.envs[0].env.dataset, DatasetSource::PluginDefault, "no dataset: the plugin's default");
}

#[test]
fn env_dirs_are_relative_to_the_config_and_exclusive_with_envs() {
    let loaded = load_run("env_dirs: [more]\njobs: []\n", &[("more/x.yaml", "id: x\nmodule: m\ndataset: d.jsonl\n")]);
    assert_eq!(loaded.envs[0].env.id, "x");
    assert!(load_run("jobs: []\n", &[]).envs.is_empty(), "the default env dir may be missing");
    let e = error("env_dirs: [gone]\njobs: []\n", &[]);
    assert!(e.starts_with("cannot read env dir gone"), "{e}");
    let e = error("envs: []\nenv_dirs: [envs]\njobs: []\n", &[]);
    assert_eq!(e, "run.yaml: env_dirs: set either `envs` or `env_dirs`, not both");
}

#[test]
fn inline_envs_may_be_a_map_keyed_by_id() {
    let loaded = load_run(
        "envs:\n  qa:\n    module: m\n    dataset: d.jsonl\n  mc: {module: n, dataset: e.csv}\njobs: []\n",
        &[],
    );
    let found: Vec<(&str, &str, &str)> =
        loaded.envs.iter().map(|e| (e.env.id.as_str(), e.env.module.as_str(), e.field.as_str())).collect();
    assert_eq!(found, [("qa", "m", "envs.qa"), ("mc", "n", "envs.mc")]);
    let e = error("envs:\n  qa:\n    module: m\n    dataset: d.jsonl\n    num_exampels: 3\njobs: []\n", &[]);
    assert!(e.starts_with("run.yaml:5:5: envs.qa.num_exampels: unknown field `num_exampels`"), "{e}");
    let e = error("envs:\n  qa:\n    id: qa\n    module: m\n    dataset: d.jsonl\njobs: []\n", &[]);
    assert_eq!(e, "run.yaml:3:5: envs.qa: duplicate field `id`");
}

#[test]
fn duplicate_keys_and_the_oracle_id_are_rejected() {
    let e = error("models:\n  m: {model: a}\n  m: {model: b}\njobs: []\n", &[]);
    assert!(e.contains("models: duplicate key `m`"), "{e}");
    let e = error("models:\n  oracle: {model: x}\njobs: []\n", &[]);
    assert!(e.starts_with("run.yaml: models.oracle: the id `oracle` is reserved"), "{e}");
}

#[test]
fn job_env_is_one_id_or_a_list() {
    let loaded = load_run("jobs:\n  - {model: m, env: a}\n  - {model: m, env: [a, b], name: again}\n", &[]);
    assert_eq!(loaded.run.jobs[0].env, ["a"]);
    assert_eq!(loaded.run.jobs[1].env, ["a", "b"]);
    assert_eq!(loaded.run.jobs[1].name.as_deref(), Some("again"));
}

/// Like [`error`], for a `run.toml`.
fn toml_error(run: &str, files: &[(&str, &str)]) -> String {
    let dir = project(files);
    std::fs::write(dir.path().join("run.toml"), run).unwrap();
    let message = format!("{:#}", load(&dir.path().join("run.toml")).unwrap_err());
    assert_eq!(message.lines().count(), 1, "{message}");
    message.replace(&format!("{}/", dir.path().display()), "")
}

#[test]
fn toml_is_the_same_schema_with_tasks_and_per_job_rollouts() {
    let dir = project(&[("envs/qa.toml", "id = \"qa\"\nmodule = \"m\"\ndataset = \"d.jsonl\"\n")]);
    let run = "name = \"t\"\nparallel = 2\n[models.m]\nmodel = \"x\"\nsampling_args = { temperature = 0.5 }\n\n[[tasks]]\nmodel = \"m\"\nenv = [\"qa\"]\nrollouts = 3\n";
    std::fs::write(dir.path().join("run.toml"), run).unwrap();
    let loaded = load(&dir.path().join("run.toml")).unwrap();
    assert_eq!((loaded.run.name.as_str(), loaded.run.parallel), ("t", 2));
    assert_eq!(loaded.run.models["m"].sampling_args["temperature"], 0.5);
    assert_eq!(loaded.run.jobs[0].rollouts, Some(3));
    assert_eq!(loaded.envs[0].env.id, "qa", "TOML env files are read from env dirs");
    let inline = "[envs.qa]\nmodule = \"m\"\ndataset = \"d.jsonl\"\nmatrix = { seed = [1, 2] }\n[[jobs]]\nmodel = \"m\"\nenv = \"qa\"\n";
    std::fs::write(dir.path().join("run.toml"), inline).unwrap();
    let loaded = load(&dir.path().join("run.toml")).unwrap();
    assert_eq!((loaded.envs[0].env.id.as_str(), loaded.envs[0].field.as_str()), ("qa", "envs.qa"));
    assert_eq!(loaded.envs[0].env.matrix["seed"].len(), 2);
}

#[test]
fn toml_errors_name_file_line_and_field() {
    let e = toml_error("[[jobs]]\nmodel = \"m\"\nenv = \"e\"\nrolouts = 2\n", &[]);
    assert!(e.starts_with("run.toml:4:1: jobs[0].rolouts: unknown field `rolouts`"), "{e}");
    let e = toml_error("parallel = 0\njobs = []\n", &[]);
    assert_eq!(e, "run.toml:1:12: parallel: must be at least 1");
    let e = toml_error("name = \"x\njobs = []\n", &[]);
    assert!(e.starts_with("run.toml:1:10: invalid basic string"), "{e}");
}

#[test]
fn unreadable_files_say_what_was_being_read() {
    let e = format!("{:#}", load(Path::new("/nonexistent/run.yaml")).unwrap_err());
    assert!(e.starts_with("cannot read config /nonexistent/run.yaml: No such file"), "{e}");
}

#[test]
fn task_directories_and_workspaces_are_dataset_and_env_keys() {
    let run = "envs:\n  - id: a\n    module: agent\n    dataset: {apply_overrides: true, tasks: tasks}\n    \
               capabilities: [tools, workspace]\n    workspace: {backend: podman, image: 'python:3'}\n    \
               token_budget: 5000\njobs:\n  - model: m\n    env: a\n    environment_variables: {K: v}\n";
    let loaded = load_run(run, &[]);
    let env = &loaded.envs[0].env;
    assert_eq!(env.dataset, DatasetSource::Tasks(TaskDirs { tasks: "tasks".into(), apply_overrides: true }));
    let workspace = env.workspace.clone().unwrap();
    assert_eq!((workspace.backend, workspace.image.as_deref()), (WorkspaceBackendKind::Podman, Some("python:3")));
    assert_eq!(workspace.timeout_secs, defaults::workspace_timeout());
    assert_eq!(env.token_budget, Some(5000));
    assert_eq!(loaded.run.jobs[0].environment_variables["K"], "v");
    let e = error("envs:\n  - id: a\n    module: x\n    dataset: {tasks: t, overrides: true}\njobs: []\n", &[]);
    assert_eq!(
        e,
        "run.yaml:4:25: envs[0].dataset.overrides: unknown field `overrides`, expected `tasks` or `apply_overrides`"
    );
    let e = error("envs:\n  - id: a\n    module: x\n    dataset: {hub: o/n, split: test, tasks: t}\njobs: []\n", &[]);
    assert!(e.contains("unknown field `tasks`"), "a Hub dataset stays a Hub dataset: {e}");
}

#[test]
fn serve_takes_defaults_and_a_port_that_is_auto_or_a_number() {
    let loaded = load_run("models:\n  m: {model: x, serve: {engine: vllm}}\njobs: []\n", &[]);
    let serve = loaded.run.models["m"].serve.clone().unwrap();
    assert_eq!((serve.port, serve.gpus, serve.max_restarts), (None, None, 2));
    assert_eq!((serve.ready_timeout, serve.stop_grace, serve.health_interval), (1800.0, 30.0, 10.0));
    let fixed = load_run("models:\n  m: {model: x, serve: {engine: sglang, port: 8000}}\njobs: []\n", &[]);
    assert_eq!(fixed.run.models["m"].serve.as_ref().unwrap().port, Some(8000));
    let auto = load_run("models:\n  m: {model: x, serve: {engine: sglang, port: auto}}\njobs: []\n", &[]);
    assert_eq!(auto.run.models["m"].serve.as_ref().unwrap().port, None);
    let e = error("models:\n  m: {model: x, serve: {engine: vllm, port: 0}}\njobs: []\n", &[]);
    assert!(
        e.starts_with("run.yaml:2:45: models.m.serve.port: invalid value: integer `0`, expected `auto` or a port"),
        "{e}"
    );
    let e = error("models:\n  m: {model: x, serve: {engine: tgi}}\njobs: []\n", &[]);
    assert!(e.contains("models.m.serve.engine: unknown variant `tgi`, expected one of"), "{e}");
}

#[test]
fn a_secret_may_reach_a_servers_environment_and_nothing_else_of_serve() {
    // Past the secret check, the unset variable is the error; before it, the secret.
    let serve = |field: &str| format!("models:\n  m: {{model: x, serve: {{engine: vllm, {field}}}}}\njobs: []\n");
    let e = error(&serve("env: {HF_TOKEN: '${ASSAY_TEST_UNSET_TOKEN}'}"), &[]);
    assert!(e.ends_with("environment variable ASSAY_TEST_UNSET_TOKEN is not set"), "{e}");
    let e = error(&serve("extra_args: [--api-key, '${ASSAY_TEST_UNSET_TOKEN}']"), &[]);
    assert!(e.contains("${ASSAY_TEST_UNSET_TOKEN} looks like a secret"), "{e}");
    let e = error(&serve("path: '${ASSAY_TEST_UNSET_TOKEN}'"), &[]);
    assert!(e.contains("${ASSAY_TEST_UNSET_TOKEN} looks like a secret"), "{e}");
}

/// `CARGO_PKG_NAME` is set (to `assay`) in the environment of every test
/// cargo runs; the tests read it rather than set a variable of their own.
const SET_VAR: &str = "CARGO_PKG_NAME";

#[test]
fn environment_variables_fill_values_in_yaml_and_toml_files() {
    let env_file = format!("id = \"qa\"\nmodule = \"${{{SET_VAR}}}-plugin\"\ndataset = \"d.jsonl\"\n");
    let run = format!(
        "models:\n  m: {{model: 'org/${{{SET_VAR}}}', sampling_args: {{stop: ['$${{{SET_VAR}}}']}}}}\n\
         jobs:\n  - {{model: m, env: qa, environment_variables: {{TOKEN: '${{{SET_VAR}}}'}}}}\n"
    );
    let loaded = load_run(&run, &[("envs/qa.toml", &env_file)]);
    assert_eq!(loaded.run.models["m"].model.as_deref(), Some("org/assay"));
    assert_eq!(loaded.run.models["m"].sampling_args["stop"][0], format!("${{{SET_VAR}}}"), "$${{ is a literal ${{");
    assert_eq!(loaded.run.jobs[0].environment_variables["TOKEN"], "assay");
    assert_eq!(loaded.envs[0].env.module, "assay-plugin", "TOML env files too");
}

#[test]
fn an_unset_variable_is_an_error_at_the_value_naming_it() {
    let e = error("models:\n  m:\n    model: ${ASSAY_TEST_UNSET_9F2C}\njobs: []\n", &[]);
    assert_eq!(
        e,
        "run.yaml:3:12: models.m.model: ${ASSAY_TEST_UNSET_9F2C}: environment variable ASSAY_TEST_UNSET_9F2C is not set"
    );
    let e =
        toml_error("[models.m]\nmodel = \"a-${ASSAY_TEST_UNSET_9F2C}\"\n[[jobs]]\nmodel = \"m\"\nenv = \"e\"\n", &[]);
    assert!(e.starts_with("run.toml:2:9: models.m.model: ${ASSAY_TEST_UNSET_9F2C}: environment variable"), "{e}");
    let run = "jobs: []\n";
    let e = error(run, &[("envs/e.yaml", "- {id: e, module: m, dataset: '${ASSAY_TEST_UNSET_9F2C}/d.jsonl'}\n")]);
    assert!(e.starts_with("envs/e.yaml:1:31: [0].dataset: ${ASSAY_TEST_UNSET_9F2C}"), "{e}");
}
