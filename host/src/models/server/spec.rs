//! A served model as the plan describes it: the engine, its arguments and
//! the exact command line assay runs, checked before anything starts.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The server program that serves a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    /// `vllm serve`.
    Vllm,
    /// `python -m sglang.launch_server`.
    Sglang,
    /// llama.cpp's `llama-server`.
    Llamacpp,
    /// Any OpenAI-compatible server, from `command`.
    Command,
}

impl Engine {
    /// Its name in configs and messages.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Vllm => "vllm",
            Engine::Sglang => "sglang",
            Engine::Llamacpp => "llamacpp",
            Engine::Command => "command",
        }
    }

    /// The command printing the engine's version, recorded in `metadata.json`.
    fn version_command(self) -> Option<Vec<String>> {
        let words: &[&str] = match self {
            Engine::Vllm => &["vllm", "--version"],
            Engine::Sglang => &["python", "-c", "import sglang; print(sglang.__version__)"],
            Engine::Llamacpp => &["llama-server", "--version"],
            Engine::Command => return None,
        };
        Some(words.iter().map(|w| w.to_string()).collect())
    }

    /// The engine's flag for each argument it understands (`None`: it has
    /// no such argument).
    fn flag(self, arg: &str) -> Option<&'static str> {
        let flags: &[(&str, &str)] = match self {
            Engine::Vllm => &[
                ("tensor_parallel_size", "--tensor-parallel-size"),
                ("data_parallel_size", "--data-parallel-size"),
                ("max_model_len", "--max-model-len"),
                ("dtype", "--dtype"),
                ("max_num_seqs", "--max-num-seqs"),
                ("max_num_batched_tokens", "--max-num-batched-tokens"),
                ("gpu_memory_utilization", "--gpu-memory-utilization"),
            ],
            Engine::Sglang => &[
                ("tensor_parallel_size", "--tp-size"),
                ("data_parallel_size", "--dp-size"),
                ("max_model_len", "--context-length"),
                ("dtype", "--dtype"),
                ("max_num_seqs", "--max-running-requests"),
                ("max_num_batched_tokens", "--max-prefill-tokens"),
                ("gpu_memory_utilization", "--mem-fraction-static"),
            ],
            Engine::Llamacpp => &[
                ("max_model_len", "--ctx-size"),
                ("max_num_seqs", "--parallel"),
                ("max_num_batched_tokens", "--batch-size"),
            ],
            Engine::Command => &[],
        };
        flags.iter().find(|(name, _)| *name == arg).map(|(_, flag)| *flag)
    }

    /// Flags assay sets itself, so `extra_args` may not.
    fn own_flags(self) -> &'static [&'static str] {
        match self {
            Engine::Vllm => &["--host", "--port", "--served-model-name", "--model"],
            Engine::Sglang => &["--host", "--port", "--served-model-name", "--model-path"],
            Engine::Llamacpp => &["--host", "--port", "--alias", "-m", "--model", "-hf", "--hf-repo"],
            Engine::Command => &[],
        }
    }
}

/// The engine arguments a config may set; each becomes the engine's own
/// flag (see the README's table). Anything else goes in `extra_args`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EngineArgs {
    /// GPUs one copy of the model is split over.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tensor_parallel_size: Option<u32>,
    /// Copies of the model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_parallel_size: Option<u32>,
    /// Context length.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_model_len: Option<u64>,
    /// Weight and activation type (`auto`, `bfloat16`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dtype: Option<String>,
    /// Sequences in a batch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_num_seqs: Option<u64>,
    /// Tokens in a batch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_num_batched_tokens: Option<u64>,
    /// Share of GPU memory the engine may take.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gpu_memory_utilization: Option<f64>,
}

impl EngineArgs {
    /// Each argument that is set, by name, as the text passed on the command line.
    fn set(&self) -> Vec<(&'static str, String)> {
        let mut set = Vec::new();
        let mut add = |name, value: Option<String>| set.extend(value.map(|v| (name, v)));
        add("tensor_parallel_size", self.tensor_parallel_size.map(|v| v.to_string()));
        add("data_parallel_size", self.data_parallel_size.map(|v| v.to_string()));
        add("max_model_len", self.max_model_len.map(|v| v.to_string()));
        add("dtype", self.dtype.clone());
        add("max_num_seqs", self.max_num_seqs.map(|v| v.to_string()));
        add("max_num_batched_tokens", self.max_num_batched_tokens.map(|v| v.to_string()));
        add("gpu_memory_utilization", self.gpu_memory_utilization.map(|v| v.to_string()));
        set
    }

    /// GPUs the arguments ask for: tensor × data parallel size.
    pub fn gpus(&self) -> usize {
        (self.tensor_parallel_size.unwrap_or(1) * self.data_parallel_size.unwrap_or(1)) as usize
    }
}

/// How assay serves a model: what it runs, on how many GPUs, and how it
/// waits, stops and restarts it. Serialised into `metadata.json`; the
/// values of `env` are not (they may be secrets).
#[derive(Debug, Clone, Serialize)]
pub struct ServeSpec {
    /// The engine.
    pub engine: Engine,
    /// The weights: a local path or a Hub id.
    pub path: String,
    /// The name the server answers to (the model's `model`).
    pub served_name: String,
    /// Engine arguments.
    pub engine_args: EngineArgs,
    /// Passed verbatim after the others.
    pub extra_args: Vec<String>,
    /// `engine: command`: the program and its arguments, with `{port}`,
    /// `{model}` and `{path}` replaced.
    pub command: Vec<String>,
    /// The command printing the engine's version.
    pub version_command: Option<Vec<String>>,
    /// GPUs taken from the run's pool.
    pub gpus: usize,
    /// The port; `None`: a free one, picked when the run starts.
    pub port: Option<u16>,
    /// Seconds to wait for `/v1/models` to answer.
    pub ready_timeout_secs: f64,
    /// Seconds between SIGTERM and SIGKILL when stopping it.
    pub stop_grace_secs: f64,
    /// Seconds between checks that a ready server still answers.
    pub health_interval_secs: f64,
    /// Restarts after it dies mid-run before its jobs fail.
    pub max_restarts: u32,
    /// Set in the server's environment (names only in `metadata.json`).
    #[serde(serialize_with = "names_only")]
    pub env: BTreeMap<String, String>,
}

fn names_only<S: serde::Serializer>(variables: &BTreeMap<String, String>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(variables.keys())
}

impl ServeSpec {
    /// What the server answers as, for job identity and the response
    /// cache: its weights, engine, and the arguments that change replies
    /// (dtype, context length, extra arguments, or the whole command).
    /// Parallelism, batch limits, memory share, port, GPUs, timeouts and
    /// `env` change how fast it answers, not what.
    pub fn served(&self) -> String {
        let mut served = match self.engine {
            Engine::Command => format!("{} by `{}`", self.path, self.command.join(" ")),
            engine => format!("{} by {}", self.path, engine.name()),
        };
        let mut details = Vec::new();
        details.extend(self.engine_args.dtype.as_ref().map(|dtype| format!("dtype {dtype}")));
        details.extend(self.engine_args.max_model_len.map(|len| format!("max_model_len {len}")));
        if !self.extra_args.is_empty() {
            details.push(format!("extra_args {}", self.extra_args.join(" ")));
        }
        if !details.is_empty() {
            served += &format!(" ({})", details.join(", "));
        }
        served
    }

    /// Check the arguments against the engine, before anything starts:
    /// the error names the field (`engine_args.dtype`, `extra_args`).
    pub fn check(&self) -> Result<(), String> {
        for (name, _) in self.engine_args.set() {
            if self.engine.flag(name).is_none() {
                let hint = match self.engine {
                    Engine::Command => "put it in `command`",
                    _ => "pass the engine's own flag in `extra_args`",
                };
                return Err(format!("engine_args.{name}: {} has no such argument ({hint})", self.engine.name()));
            }
        }
        for arg in &self.extra_args {
            let flag = arg.split('=').next().unwrap_or(arg);
            if self.engine.own_flags().contains(&flag) {
                return Err(format!(
                    "extra_args: `{flag}` is set by assay (use the model's `model`, `serve.path` or `serve.port`)"
                ));
            }
        }
        match (self.engine, self.command.is_empty()) {
            (Engine::Command, true) => Err("command: required with `engine: command`".into()),
            (Engine::Command, false) => Ok(()),
            (_, false) => {
                Err(format!("command: only for `engine: command` ({} is run as documented)", self.engine.name()))
            }
            (_, true) => Ok(()),
        }
    }

    /// The command line that serves the model on `port` of 127.0.0.1.
    pub fn argv(&self, port: u16) -> Vec<String> {
        let port = port.to_string();
        let mut argv: Vec<String> = match self.engine {
            Engine::Vllm => vec!["vllm".into(), "serve".into(), self.path.clone(), "--served-model-name".into()],
            Engine::Sglang => {
                let launch = ["python", "-m", "sglang.launch_server", "--model-path"];
                let mut argv: Vec<String> = launch.iter().map(|w| w.to_string()).collect();
                argv.extend([self.path.clone(), "--served-model-name".into()]);
                argv
            }
            Engine::Llamacpp => {
                // A local file is loaded; anything else is a Hub repository.
                let source = if std::path::Path::new(&self.path).exists() { "--model" } else { "--hf-repo" };
                vec!["llama-server".into(), source.into(), self.path.clone(), "--alias".into()]
            }
            Engine::Command => {
                let fill = |word: &String| {
                    word.replace("{port}", &port).replace("{model}", &self.served_name).replace("{path}", &self.path)
                };
                return self.command.iter().map(fill).chain(self.extra_args.iter().cloned()).collect();
            }
        };
        argv.extend([self.served_name.clone(), "--host".into(), "127.0.0.1".into(), "--port".into(), port]);
        for (name, value) in self.engine_args.set() {
            argv.extend([self.engine.flag(name).expect("checked before launch").to_string(), value]);
        }
        argv.extend(self.extra_args.iter().cloned());
        argv
    }

    /// The command printing the engine's version: the config's, else the engine's.
    pub fn version_argv(&self) -> Option<Vec<String>> {
        self.version_command.clone().or_else(|| self.engine.version_command())
    }
}

/// The command line as a shell would take it (words with spaces or quotes quoted).
pub fn shell_words(argv: &[String]) -> String {
    let quote = |word: &String| {
        let plain = !word.is_empty() && word.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:,@+%{}".contains(c));
        if plain { word.clone() } else { format!("'{}'", word.replace('\'', r"'\''")) }
    };
    argv.iter().map(quote).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(engine: Engine) -> ServeSpec {
        ServeSpec {
            engine,
            path: "/ckpt/step-98".into(),
            served_name: "qwen".into(),
            engine_args: EngineArgs {
                tensor_parallel_size: Some(2),
                max_model_len: Some(8192),
                dtype: Some("bfloat16".into()),
                ..Default::default()
            },
            extra_args: vec!["--enable-prefix-caching".into()],
            command: Vec::new(),
            version_command: None,
            gpus: 2,
            port: None,
            ready_timeout_secs: 60.0,
            stop_grace_secs: 10.0,
            health_interval_secs: 10.0,
            max_restarts: 2,
            env: BTreeMap::new(),
        }
    }

    #[test]
    fn what_is_served_names_the_arguments_that_change_replies_only() {
        let vllm = spec(Engine::Vllm);
        assert_eq!(
            vllm.served(),
            "/ckpt/step-98 by vllm (dtype bfloat16, max_model_len 8192, extra_args --enable-prefix-caching)"
        );
        let faster = ServeSpec {
            engine_args: EngineArgs {
                tensor_parallel_size: Some(4),
                max_num_seqs: Some(512),
                ..vllm.engine_args.clone()
            },
            gpus: 4,
            port: Some(9000),
            ..vllm.clone()
        };
        assert_eq!(faster.served(), vllm.served(), "parallelism and batching change speed, not replies");
        let half = ServeSpec {
            engine_args: EngineArgs { dtype: Some("float16".into()), ..vllm.engine_args.clone() },
            ..vllm.clone()
        };
        assert_ne!(half.served(), vllm.served());
        assert_ne!(spec(Engine::Sglang).served(), vllm.served());
        let next = ServeSpec { path: "/ckpt/step-99".into(), ..vllm.clone() };
        assert_ne!(next.served(), vllm.served());
    }

    #[test]
    fn each_engine_gets_its_own_flags() {
        assert_eq!(
            shell_words(&spec(Engine::Vllm).argv(8000)),
            "vllm serve /ckpt/step-98 --served-model-name qwen --host 127.0.0.1 --port 8000 --tensor-parallel-size 2 --max-model-len 8192 --dtype bfloat16 --enable-prefix-caching"
        );
        assert_eq!(
            shell_words(&spec(Engine::Sglang).argv(8000)),
            "python -m sglang.launch_server --model-path /ckpt/step-98 --served-model-name qwen --host 127.0.0.1 --port 8000 --tp-size 2 --context-length 8192 --dtype bfloat16 --enable-prefix-caching"
        );
    }

    #[test]
    fn arguments_an_engine_lacks_are_named() {
        assert_eq!(
            spec(Engine::Llamacpp).check().unwrap_err(),
            "engine_args.tensor_parallel_size: llamacpp has no such argument (pass the engine's own flag in `extra_args`)"
        );
        let mut own = spec(Engine::Vllm);
        own.extra_args.push("--port=9000".into());
        assert!(own.check().unwrap_err().starts_with("extra_args: `--port` is set by assay"));
        let mut command = spec(Engine::Command);
        command.engine_args = EngineArgs::default();
        assert_eq!(command.check().unwrap_err(), "command: required with `engine: command`");
        command.command = vec!["server".into(), "--port".into(), "{port}".into(), "--name={model}".into()];
        command.extra_args.clear();
        assert_eq!(command.check(), Ok(()));
        assert_eq!(command.argv(7), ["server", "--port", "7", "--name=qwen"]);
    }
}
