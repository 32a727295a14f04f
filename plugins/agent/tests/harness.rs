//! The agent's loop driven natively, the test standing in for the model
//! and the workspace: tools offered, calls carried out in order, results
//! answering them, submit, diff, tests, score.

use agent::Agent;
use assay_sdk::testing::Harness;
use assay_sdk::{Action, CodeResult, Event, Reply, Role, ToolCall, WorkspaceRequest, WorkspaceResult};
use serde_json::{Value, json};

fn task() -> Value {
    json!({"id": "t", "instructions": "Fix add().", "test_command": "python3 -m unittest", "test_count": 2})
}

fn call(id: &str, name: &str, arguments: Value) -> ToolCall {
    ToolCall { id: id.into(), name: name.into(), arguments_json: arguments.to_string() }
}

fn calls(calls: Vec<ToolCall>) -> Event {
    Event::ModelReply(Reply { content: String::new(), tool_calls: calls, finish_reason: Some("tool_calls".into()) })
}

fn ran(exit_code: i32, stdout: &str) -> Event {
    let run = CodeResult { exit_code, stdout: stdout.into(), stderr: String::new(), timed_out: false, duration_ms: 5 };
    Event::WorkspaceOutput(WorkspaceResult::Exec(run))
}

/// Advance and return the action and the new state.
fn step(env: &Harness<Agent>, state: &str, event: Event) -> (Action, String) {
    let step = env.advance(state, event).unwrap();
    (step.action, step.state)
}

#[test]
fn a_tool_loop_runs_the_calls_then_the_tests() {
    let env = Harness::<Agent>::new(json!({})).unwrap();
    let prepared = env.prepare(task(), 0).unwrap();
    let names: Vec<&str> = prepared.prompt.tools.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["bash", "read_file", "write_file", "submit"]);
    assert_eq!(prepared.prompt.messages[1].content, "Fix add().");

    let reply = calls(vec![
        call("c1", "read_file", json!({"path": "calc.py"})),
        call("c2", "write_file", json!({"path": "calc.py", "content": "fixed"})),
    ]);
    let (action, state) = step(&env, &prepared.state, reply);
    assert!(matches!(action, Action::Workspace(WorkspaceRequest::ReadFile(ref p)) if p == "calc.py"), "{action:?}");
    let (action, state) = step(&env, &state, Event::WorkspaceOutput(WorkspaceResult::File(Some("old".into()))));
    assert!(matches!(action, Action::Workspace(WorkspaceRequest::WriteFile(ref w)) if w.content == "fixed"));
    let (action, state) = step(&env, &state, Event::WorkspaceOutput(WorkspaceResult::Written));
    let Action::AskModel(prompt) = action else { panic!("the model is asked again: {action:?}") };
    let roles: Vec<Role> = prompt.messages.iter().map(|m| m.role).collect();
    assert_eq!(roles, [Role::System, Role::User, Role::Assistant, Role::Tool, Role::Tool]);
    assert_eq!(prompt.messages[2].tool_calls.len(), 2);
    assert_eq!(prompt.messages[3].tool_call_id.as_deref(), Some("c1"));
    assert_eq!(prompt.messages[3].content, "old");
    assert_eq!(prompt.messages[4].content, "Written.");

    let (action, state) = step(&env, &state, calls(vec![call("c3", "submit", json!({}))]));
    assert!(matches!(action, Action::Workspace(WorkspaceRequest::Diff)), "{action:?}");
    let diff = "--- a/calc.py\n+++ b/calc.py\n@@ -1 +1 @@\n-old\n+fixed\n";
    let (action, state) = step(&env, &state, Event::WorkspaceOutput(WorkspaceResult::Diff(diff.into())));
    let Action::Workspace(WorkspaceRequest::Exec(tests)) = action else { panic!("tests run: {action:?}") };
    assert_eq!(tests.command, "python3 -m unittest");
    let (action, _) = step(&env, &state, ran(0, "Ran 2 tests\n\nOK\n"));
    let Action::Finish(score) = action else { panic!("{action:?}") };
    assert_eq!(score.reward, 1.0);
    assert_eq!(score.info["stop"], "submitted");
    assert_eq!(score.info["changed_lines"], 2);
}

#[test]
fn bad_calls_are_answered_and_turns_run_out() {
    let env = Harness::<Agent>::new(json!({"max_turns": 2})).unwrap();
    let prepared = env.prepare(task(), 0).unwrap();
    let (action, state) = step(&env, &prepared.state, calls(vec![call("x", "rm_rf", json!({}))]));
    let Action::AskModel(prompt) = action else { panic!("{action:?}") };
    assert!(prompt.messages.last().unwrap().content.contains("there is no tool `rm_rf`"));
    let (action, state) = step(&env, &state, Event::ModelReply(Reply::text("I am done thinking.")));
    assert!(matches!(action, Action::Workspace(WorkspaceRequest::Diff)), "out of turns: {action:?}");
    let (_, state) = step(&env, &state, Event::WorkspaceOutput(WorkspaceResult::Diff(String::new())));
    let (action, _) = step(&env, &state, ran(1, "Ran 2 tests\n\nFAILED (failures=1)\n"));
    let Action::Finish(score) = action else { panic!("{action:?}") };
    assert_eq!((score.reward, score.info["stop"].clone()), (0.5, json!("max_turns")));
}

#[test]
fn a_spent_token_budget_goes_straight_to_the_tests() {
    let env = Harness::<Agent>::new(json!({})).unwrap();
    let prepared = env.prepare(task(), 0).unwrap();
    let spent = Reply { content: String::new(), tool_calls: Vec::new(), finish_reason: Some("token_budget".into()) };
    let (action, _) = step(&env, &prepared.state, Event::ModelReply(spent));
    assert!(matches!(action, Action::Workspace(WorkspaceRequest::Diff)), "{action:?}");
}

#[test]
fn text_mode_describes_the_tools_and_reads_calls_from_text() {
    let env = Harness::<Agent>::new(json!({"tool_format": "text"})).unwrap();
    let prepared = env.prepare(task(), 0).unwrap();
    assert!(prepared.prompt.tools.is_empty());
    assert!(prepared.prompt.messages[0].content.contains("<tool_call>"));
    let reply = Reply::text("<tool_call>{\"name\": \"bash\", \"arguments\": {\"command\": \"ls\"}}</tool_call>");
    let (action, state) = step(&env, &prepared.state, Event::ModelReply(reply));
    assert!(matches!(action, Action::Workspace(WorkspaceRequest::Exec(ref e)) if e.command == "ls"));
    let (action, _) = step(&env, &state, ran(0, "calc.py\n"));
    let Action::AskModel(prompt) = action else { panic!("{action:?}") };
    let last = prompt.messages.last().unwrap();
    assert_eq!(last.role, Role::User);
    assert!(last.content.starts_with("Result of `bash`:\nexit code 0\n[stdout]\ncalc.py"), "{}", last.content);
}

#[test]
fn the_reference_applies_the_solution_patch_then_submits() {
    let env = Harness::<Agent>::new(json!({})).unwrap();
    let mut record = task();
    record["solution_patch"] = json!("--- a/x\n+++ b/x\n");
    let prepared = env.prepare(record, 0).unwrap();
    let reference = env.reference(&prepared).unwrap().unwrap();
    let calls = agent::tools::from_text(&reference, 1);
    assert_eq!(calls.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["bash", "submit"]);
    assert!(calls[0].arguments.contains("patch -p1"));
    assert!(env.reference(&env.prepare(task(), 0).unwrap()).unwrap().is_none(), "no patch, no reference");
}
