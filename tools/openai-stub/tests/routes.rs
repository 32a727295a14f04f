//! The stub's routes over real HTTP (plain `std` sockets, one request per
//! connection).

use openai_stub::{MODEL, REPLY, StubServer};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// Send one request; return the status code and the body.
fn call(server: &StubServer, method: &str, path: &str, body: &str) -> (u16, String) {
    let authority = server.url().trim_start_matches("http://").trim_end_matches("/v1");
    let mut stream = TcpStream::connect(authority).unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, body.to_string())
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap()
}

#[test]
fn answers_counts_and_resets() {
    let server = StubServer::start(Duration::ZERO);
    assert!(server.url().starts_with("http://127.0.0.1:") && server.url().ends_with("/v1"));
    let (status, stats) = call(&server, "GET", "/stats", "");
    assert_eq!(status, 200);
    assert_eq!(
        json(&stats),
        serde_json::json!({"requests": 0, "first_request_unix_ms": null, "last_request_unix_ms": null})
    );

    let (status, chat) = call(&server, "POST", "/v1/chat/completions", r#"{"model":"x","messages":[]}"#);
    assert_eq!(status, 200);
    let chat = json(&chat);
    assert_eq!(chat["choices"][0]["message"]["content"], REPLY);
    assert_eq!(chat["usage"]["total_tokens"], 48);
    let (_, text) = call(&server, "POST", "/v1/completions", r#"{"model":"x","prompt":"Q"}"#);
    assert_eq!(json(&text)["choices"][0]["text"], REPLY);
    let (_, models) = call(&server, "GET", "/v1/models", "");
    assert_eq!(json(&models)["data"][0]["id"], MODEL);

    // Two completions counted; listing models is not a request.
    assert_eq!(server.requests(), 2);
    let stats = json(&call(&server, "GET", "/stats", "").1);
    assert_eq!(stats["requests"], 2);
    let first = stats["first_request_unix_ms"].as_u64().unwrap();
    assert_eq!(server.first_request_unix_ms(), Some(first));
    assert!(stats["last_request_unix_ms"].as_u64().unwrap() >= first);

    assert_eq!(call(&server, "POST", "/stats/reset", "").0, 204);
    assert_eq!(server.requests(), 0);
    assert_eq!(server.first_request_unix_ms(), None);
}

#[test]
fn waits_the_latency() {
    let server = StubServer::start(Duration::from_millis(150));
    let started = Instant::now();
    let (status, _) = call(&server, "POST", "/v1/chat/completions", "{}");
    assert_eq!(status, 200);
    assert!(started.elapsed() >= Duration::from_millis(150));
}

#[test]
fn echoes_prompts_with_deterministic_logprobs() {
    let server = StubServer::start(Duration::ZERO);
    let body = r#"{"model":"x","prompt":["Answer: A","Answer: B"],"echo":true,"logprobs":1,"max_tokens":1}"#;
    let (status, reply) = call(&server, "POST", "/v1/completions", body);
    assert_eq!(status, 200);
    let reply = json(&reply);
    let choices = reply["choices"].as_array().unwrap();
    assert_eq!(choices.len(), 2);
    for (index, choice) in choices.iter().enumerate() {
        assert_eq!(choice["index"], index);
        let logprobs = &choice["logprobs"];
        // Each character a token, and the generated one after the prompt.
        let tokens: Vec<&str> = logprobs["tokens"].as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect();
        assert_eq!(tokens.concat(), format!("Answer: {}{}", ["A", "B"][index], openai_stub::logprobs::GENERATED));
        assert_eq!(logprobs["token_logprobs"][0], serde_json::Value::Null);
        assert_eq!(logprobs["text_offset"][8], 8);
        let top = logprobs["top_logprobs"][8].as_object().unwrap();
        assert_eq!(top.len(), 1);
        assert!(top.values().next().unwrap().as_f64().unwrap() >= logprobs["token_logprobs"][8].as_f64().unwrap());
    }
    // The same (context, token) scores the same alone; another token, not.
    let (_, alone) = call(&server, "POST", "/v1/completions", r#"{"prompt":"Answer: B","echo":true,"logprobs":0}"#);
    let alone = json(&alone);
    assert_eq!(alone["choices"][0]["logprobs"]["token_logprobs"], choices[1]["logprobs"]["token_logprobs"]);
    assert_ne!(choices[0]["logprobs"]["token_logprobs"][8], choices[1]["logprobs"]["token_logprobs"][8]);
    assert_eq!(alone["usage"]["prompt_tokens"], 9);

    // Without echo, the fixed reply; a prompt of token ids is refused.
    let (_, plain) = call(&server, "POST", "/v1/completions", r#"{"prompt":"Q","echo":false,"logprobs":1}"#);
    assert_eq!(json(&plain)["choices"][0]["text"], REPLY);
    let (status, _) = call(&server, "POST", "/v1/completions", r#"{"prompt":[[1,2]],"echo":true,"logprobs":1}"#);
    assert_eq!(status, 400);
    assert_eq!(server.requests(), 4);
}

#[test]
fn a_held_server_answers_completions_only_after_models_were_listed() {
    let server = StubServer::bind_held("127.0.0.1:0".parse().unwrap(), Duration::ZERO).unwrap();
    let waiting = std::thread::scope(|scope| {
        let asked = scope.spawn(|| call(&server, "POST", "/v1/chat/completions", "{}"));
        std::thread::sleep(Duration::from_millis(200));
        let waiting = !asked.is_finished() && server.requests() == 0;
        assert_eq!(call(&server, "GET", "/v1/models", "").0, 200);
        assert_eq!(asked.join().unwrap().0, 200);
        waiting
    });
    assert!(waiting, "the completion was answered before the models were listed");
    assert_eq!(server.requests(), 1);
}
