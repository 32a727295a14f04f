//! Tool calling in an episode: the plugin's messages and tools into the
//! model's types, the model's calls back to the plugin, and the token
//! budget.

use super::{Episode, SampleSpec, failure};
use crate::models::{self, Message, Role};
use crate::runtime::{self, CallContext, ModelReply};
use crate::store::{ErrorKind, SampleError};

/// The finish reason of the reply the host gives in the model's place once
/// the sample's `token_budget` is spent.
pub(super) const BUDGET_SPENT: &str = "token_budget";

impl From<&runtime::Message> for Message {
    fn from(message: &runtime::Message) -> Self {
        let role = match message.role {
            runtime::Role::System => Role::System,
            runtime::Role::User => Role::User,
            runtime::Role::Assistant => Role::Assistant,
            runtime::Role::Tool => Role::Tool,
        };
        Message {
            role,
            content: message.content.clone(),
            tool_calls: message.tool_calls.iter().map(from_plugin).collect(),
            tool_call_id: message.tool_call_id.clone(),
        }
    }
}

fn from_plugin(call: &runtime::ToolCall) -> models::ToolCall {
    models::ToolCall { id: call.id.clone(), name: call.name.clone(), arguments: call.arguments_json.clone() }
}

/// A call the model made, as the plugin receives it.
pub(super) fn to_plugin(call: &models::ToolCall) -> runtime::ToolCall {
    runtime::ToolCall { id: call.id.clone(), name: call.name.clone(), arguments_json: call.arguments.clone() }
}

/// The tools a prompt offers, with their schemas parsed. Offering tools
/// the env does not grant (`tools`), or a schema that is not JSON, is the
/// plugin's error.
pub(super) fn offered(tools: &[runtime::Tool], granted: bool, record: &str) -> Result<Vec<models::Tool>, SampleError> {
    if !tools.is_empty() && !granted {
        let message = format!("record {record}: the plugin offered tools, but the env does not grant `tools`");
        return Err(failure(ErrorKind::Episode, message));
    }
    tools
        .iter()
        .map(|tool| {
            let parameters = serde_json::from_str(&tool.parameters_json).map_err(|e| {
                failure(
                    ErrorKind::Plugin,
                    format!("record {record}: tool `{}`: its parameters are not JSON: {e}", tool.name),
                )
            })?;
            Ok(models::Tool { name: tool.name.clone(), description: tool.description.clone(), parameters })
        })
        .collect()
}

impl Episode {
    /// Once the sample's tokens (prompt and completion, over its turns)
    /// reach the budget, the model is not asked: the plugin gets an empty
    /// reply with finish reason [`BUDGET_SPENT`], once, to wrap up (score
    /// what is there); asking again is an error.
    pub(super) fn budget_reply(
        &mut self,
        spec: &SampleSpec,
        ctx: CallContext<'_>,
    ) -> Result<Option<ModelReply>, SampleError> {
        let Some(budget) = spec.token_budget else { return Ok(None) };
        let spent = self.tokens.prompt + self.tokens.completion;
        if spent < budget {
            return Ok(None);
        }
        if self.budget_spent {
            let message = format!(
                "record {}: the plugin asked the model again after the token budget ({budget}) was spent",
                ctx.record
            );
            return Err(failure(ErrorKind::Episode, message));
        }
        self.budget_spent = true;
        Ok(Some(ModelReply {
            content: String::new(),
            tool_calls: Vec::new(),
            finish_reason: Some(BUDGET_SPENT.into()),
        }))
    }
}
