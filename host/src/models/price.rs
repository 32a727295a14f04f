//! What a model's tokens cost: `price: {input_per_mtok: X, output_per_mtok: Y}`
//! in US dollars per million tokens. Reasoning tokens are output tokens:
//! servers count them in the completion tokens, which is what is priced.

use serde::{Deserialize, Serialize};

/// A model's price, in US dollars per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Price {
    /// Per million prompt (input) tokens.
    #[serde(deserialize_with = "non_negative")]
    pub input_per_mtok: f64,
    /// Per million completion (output) tokens, reasoning included.
    #[serde(deserialize_with = "non_negative")]
    pub output_per_mtok: f64,
}

impl Price {
    /// The cost in US dollars of `prompt` input and `completion` output
    /// tokens (the completion count includes reasoning tokens).
    pub fn cost(&self, prompt: u64, completion: u64) -> f64 {
        (prompt as f64 * self.input_per_mtok + completion as f64 * self.output_per_mtok) / 1e6
    }
}

/// `$0.001234`: dollars to a millionth, as token prices need.
pub fn format_usd(usd: f64) -> String {
    format!("${usd:.6}")
}

fn non_negative<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    let value = f64::deserialize(deserializer)?;
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(serde::de::Error::custom(format!("{value} is not a price (dollars per million tokens, 0 or more)")))
    }
}

#[cfg(test)]
mod tests {
    use super::Price;

    #[test]
    fn prompt_and_completion_tokens_are_priced_per_million() {
        let price = Price { input_per_mtok: 2.5, output_per_mtok: 10.0 };
        assert_eq!(price.cost(1_000_000, 0), 2.5);
        assert_eq!(price.cost(400, 100), (400.0 * 2.5 + 100.0 * 10.0) / 1e6);
    }
}
