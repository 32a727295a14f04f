//! Parsers for flag values shared by several commands, with messages that
//! say what was expected.

use serde_json::{Map, Value};

/// A JSON object, like `'{"temperature": 0}'`.
pub(super) fn json_object(text: &str) -> Result<Map<String, Value>, String> {
    match serde_json::from_str(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err("expected a JSON object, like '{\"key\": 1}'".into()),
        Err(e) => Err(format!("not valid JSON: {e}")),
    }
}

/// A positive, finite number of seconds.
pub(super) fn positive_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(secs) if secs.is_finite() && secs > 0.0 => Ok(secs),
        _ => Err(format!("expected a positive number of seconds, not `{text}`")),
    }
}

/// An amount of US dollars: finite, 0 or more.
pub(super) fn dollars(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(usd) if usd.is_finite() && usd >= 0.0 => Ok(usd),
        _ => Err(format!("expected an amount of US dollars (0 or more), not `{text}`")),
    }
}

/// `--max-generated-tests N` as the env arg it sets in plugins that take it.
pub(super) fn generated_tests_cap(max: Option<u32>) -> Map<String, Value> {
    max.map(|n| Map::from_iter([("max_generated_tests".to_string(), Value::from(n))])).unwrap_or_default()
}
