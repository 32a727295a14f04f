//! A test environment that misbehaves on request: each record's `behavior`
//! field says what `prepare` does (`ok`, `loop`, `alloc`, `panic`,
//! `read_file`, `recurse`, `huge_prompt`) or, for `huge_answer`, what
//! `grade` does. The sandbox tests run a job mixing these with
//! well-behaved records and check that only the hostile ones fail.

use assay_sdk::{Environment, Error, NoArgs, Prompt, Result, Rng, Score};
use serde::{Deserialize, Serialize};

struct Hostile;

#[derive(Deserialize)]
struct Record {
    behavior: String,
}

#[derive(Serialize, Deserialize)]
struct State {
    behavior: String,
}

/// Size of the strings the `huge_*` behaviours hand back to the host:
/// 100 MiB, well within the guest's memory limit but far more than any
/// prompt or answer should be.
const HUGE: usize = 100 << 20;

impl Environment for Hostile {
    type Args = NoArgs;
    type Record = Record;
    type State = State;

    fn new(_args: NoArgs) -> Result<Self> {
        Ok(Hostile)
    }

    fn prepare(&self, record: Record, _rng: &mut Rng) -> Result<(Prompt, State)> {
        misbehave(&record.behavior)?;
        let prompt = match record.behavior.as_str() {
            "huge_prompt" => "x".repeat(HUGE),
            _ => "Say ok.".into(),
        };
        Ok((Prompt::new().user(prompt), State { behavior: record.behavior }))
    }

    fn grade(&self, state: &State, completion: &str) -> Result<Score> {
        let answer = match state.behavior.as_str() {
            "huge_answer" => "x".repeat(HUGE),
            _ => completion.trim().to_string(),
        };
        Ok(Score::correct_if(completion.trim() == "ok").answer(answer))
    }

    fn reference(&self, _state: &State) -> Option<String> {
        Some("ok".into())
    }
}

fn misbehave(behavior: &str) -> Result<()> {
    match behavior {
        // The huge_* behaviours misbehave through what they return.
        "ok" | "huge_prompt" | "huge_answer" => Ok(()),
        "loop" => {
            let mut n: u64 = 0;
            loop {
                n = std::hint::black_box(n.wrapping_add(1));
            }
        }
        "alloc" => {
            let mut hoard: Vec<Vec<u8>> = Vec::new();
            loop {
                hoard.push(vec![1u8; 1 << 20]);
                std::hint::black_box(&hoard);
            }
        }
        "panic" => panic!("hostile plugin panics on purpose"),
        "read_file" => {
            let text = std::fs::read_to_string("/etc/passwd")
                .map_err(|e| Error::internal(format!("cannot read /etc/passwd: {e}")))?;
            Err(Error::internal(format!("read {} bytes it should not see", text.len())))
        }
        "recurse" => {
            // Recursion deep enough to overflow any wasm stack.
            fn deeper(n: u64) -> u64 {
                if n == u64::MAX { 0 } else { std::hint::black_box(deeper(n + 1)) + 1 }
            }
            std::hint::black_box(deeper(0));
            Ok(())
        }
        other => Err(Error::bad_record(format!("field `behavior`: unknown value `{other}`"))),
    }
}

assay_sdk::register_environment!(Hostile);
