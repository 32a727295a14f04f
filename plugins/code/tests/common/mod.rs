//! What the tests stand in for: the model (a fixed reply) and the host's
//! sandbox (a local `python3`, with the request's time limit).

use assay_sdk::testing::Harness;
use assay_sdk::{Action, CodeRequest, CodeResult, Event, Score};
use code::Code;
use serde_json::Value;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

/// The interpreter `python3` resolves to, found once: starting it directly
/// skips wrappers such as pyenv's shims, which would double the time of
/// each of the hundreds of runs.
fn interpreter() -> Option<&'static PathBuf> {
    static INTERPRETER: OnceLock<Option<PathBuf>> = OnceLock::new();
    INTERPRETER
        .get_or_init(|| {
            let out = Command::new("python3").args(["-c", "import sys; print(sys.executable)"]).output().ok()?;
            let path = String::from_utf8(out.stdout).ok()?;
            (out.status.success() && !path.trim().is_empty()).then(|| PathBuf::from(path.trim()))
        })
        .as_ref()
}

/// Whether `python3` can be run; prints a skip notice when it cannot.
pub fn python3_available() -> bool {
    let available = interpreter().is_some();
    if !available {
        println!("skipped: python3 not found");
    }
    available
}

/// Run a request's program with `python3`, killing it at the time limit,
/// and report what the host's sandbox would.
pub fn run_python(request: &CodeRequest) -> CodeResult {
    assert_eq!(request.language, "python");
    let started = Instant::now();
    // `python3 -` reads the whole program from stdin before running it,
    // so the program itself sees an empty stdin, as `stdin: ""` asks.
    let mut child = Command::new(interpreter().expect("python3 is available"))
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 starts");
    child.stdin.take().expect("stdin").write_all(request.source.as_bytes()).expect("program written");
    let stdout = read_in_background(child.stdout.take().expect("stdout"));
    let stderr = read_in_background(child.stderr.take().expect("stderr"));
    let deadline = started + Duration::from_millis(u64::from(request.timeout_ms));
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break Some(status);
        }
        if Instant::now() >= deadline {
            child.kill().expect("kill");
            child.wait().expect("wait");
            break None;
        }
        thread::sleep(Duration::from_millis(5));
    };
    CodeResult {
        exit_code: status.and_then(|s| s.code()).unwrap_or(-1),
        stdout: stdout.join().expect("stdout read"),
        stderr: stderr.join().expect("stderr read"),
        timed_out: status.is_none(),
        duration_ms: u32::try_from(started.elapsed().as_millis()).unwrap_or(u32::MAX),
    }
}

/// Read a pipe to its end on another thread, so a chatty program cannot
/// block on a full pipe.
fn read_in_background(mut pipe: impl Read + Send + 'static) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut text = String::new();
        pipe.read_to_string(&mut text).expect("utf-8 output");
        text
    })
}

/// A whole episode: prepare `record`, reply with `reply`, run the program
/// the environment asks for, and return the final score with the request.
pub fn episode(env: &Harness<Code>, record: &Value, reply: &str) -> (Score, CodeRequest) {
    let prepared = env.prepare(record.clone(), 0).expect("prepare");
    let step = env.advance(&prepared.state, Event::ModelReply(reply.into())).expect("advance with the reply");
    let Action::RunCode(request) = step.action else { panic!("expected run-code, got {:?}", step.action) };
    let result = run_python(&request);
    let step = env.advance(&step.state, Event::CodeOutput(result)).expect("advance with the output");
    let Action::Finish(score) = step.action else { panic!("expected finish, got {:?}", step.action) };
    (score, request)
}
