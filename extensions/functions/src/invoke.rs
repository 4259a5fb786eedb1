//! Calling a defined function: render its template, route the request
//! through the gateway, and check a structured answer against the output
//! schema (one repair attempt, then a clear error).

use std::sync::Arc;

use jsonschema::Validator;
use serde_json::{Map, Value, json};
use switchboard_core::extension::{Gateway, InboundApi, MethodCall, RequestContext};
use switchboard_core::{ChatRequest, Error, Message, ResponseFormat};

use crate::definition::CompiledFunction;
use crate::template;

/// How many schema violations an error message or repair prompt lists.
const MAX_LISTED_PROBLEMS: usize = 5;

/// Runs `function` with `call`'s arguments.
pub(crate) async fn invoke(
    gateway: &Arc<dyn Gateway>,
    function: &CompiledFunction,
    call: &MethodCall,
) -> Result<Value, Error> {
    function.check_arguments(&call.arguments)?;
    let def = &function.definition;
    let empty = Map::new();
    let arguments = call.arguments.as_object().unwrap_or(&empty);
    let prompt = template::render(&def.template, arguments)
        .map_err(|msg| Error::internal(format!("function `{}`: template: {msg}", def.name)))?;

    let mut messages = Vec::with_capacity(4);
    if let Some(system) = &def.system {
        messages.push(Message::system(system.clone()));
    }
    messages.push(Message::user(prompt));
    let mut request = ChatRequest::new(def.model.clone(), messages);
    if let Some(schema) = &def.output_schema {
        request.response_format = Some(ResponseFormat::JsonSchema {
            name: def.name.clone(),
            description: (!def.description.is_empty()).then(|| def.description.clone()),
            schema: schema.clone(),
            strict: None,
        });
    }

    let answer = ask(gateway, call, &request).await?;
    let Some(output) = &function.output else {
        return Ok(json!({ "text": answer }));
    };
    let problems = match check_answer(output, &answer) {
        Ok(value) => return Ok(value),
        Err(problems) => problems,
    };

    // One repair attempt: the previous answer and what was wrong with it.
    let schema_text = def
        .output_schema
        .as_ref()
        .map(Value::to_string)
        .unwrap_or_default();
    request.messages.push(Message::assistant(answer));
    request.messages.push(Message::user(format!(
        "Your answer is not valid: {problems}. Reply again with only the corrected JSON \
         value, valid against this JSON Schema, without explanation or code fences: \
         {schema_text}"
    )));
    let second = ask(gateway, call, &request).await?;
    check_answer(output, &second).map_err(|again| {
        Error::protocol(format!(
            "function `{}`: the model's answer did not match the output schema, even after \
             one repair attempt: {again}",
            def.name
        ))
    })
}

/// Sends `request` through the gateway as part of `call`; the answer's text.
async fn ask(
    gateway: &Arc<dyn Gateway>,
    call: &MethodCall,
    request: &ChatRequest,
) -> Result<String, Error> {
    let mut ctx = RequestContext::new(Arc::clone(&call.request_id), InboundApi::Library);
    ctx.client_key = call.client_key.clone();
    ctx.requested_model = Arc::from(request.model.as_str());
    let response = gateway.chat(ctx, request.clone()).await?;
    Ok(response.text())
}

/// `text` without surrounding whitespace and a Markdown code fence
/// (```` ```json ... ``` ````), if it has one.
pub(crate) fn strip_fences(text: &str) -> &str {
    let trimmed = text.trim();
    let Some(rest) = trimmed.strip_prefix("```") else {
        return trimmed;
    };
    // Drop the info string (`json`) up to the end of the opening line.
    let body = match rest.find('\n') {
        Some(newline) => &rest[newline + 1..],
        None => rest.trim_start_matches(|c: char| c.is_ascii_alphabetic()),
    };
    let body = body.trim_end();
    body.strip_suffix("```").unwrap_or(body).trim()
}

/// The answer as JSON valid against `output`, or what is wrong with it.
pub(crate) fn check_answer(output: &Validator, answer: &str) -> Result<Value, String> {
    let text = strip_fences(answer);
    let value: Value = serde_json::from_str(text).map_err(|e| {
        let shown: String = text.chars().take(200).collect();
        format!("the answer is not JSON ({e}): {shown:?}")
    })?;
    let mut problems = Vec::new();
    let mut total = 0usize;
    for error in output.iter_errors(&value) {
        total += 1;
        if problems.len() < MAX_LISTED_PROBLEMS {
            let path = error.instance_path().as_str();
            let at = if path.is_empty() { "/" } else { path };
            problems.push(format!("at `{at}`: {error}"));
        }
    }
    if problems.is_empty() {
        return Ok(value);
    }
    let more = total.saturating_sub(problems.len());
    let mut message = format!(
        "the answer does not match the schema: {}",
        problems.join("; ")
    );
    if more > 0 {
        message.push_str(&format!(" (and {more} more)"));
    }
    Err(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_code_fences() {
        assert_eq!(strip_fences("  {\"a\":1} "), "{\"a\":1}");
        assert_eq!(strip_fences("```json\n{\"a\":1}\n```"), "{\"a\":1}");
        assert_eq!(strip_fences("```\n[1]\n```\n"), "[1]");
        assert_eq!(strip_fences("```json{\"a\":1}```"), "{\"a\":1}");
    }

    #[test]
    fn names_what_is_wrong_with_an_answer() {
        let schema = json!({
            "type": "object",
            "properties": {"n": {"type": "integer"}},
            "required": ["n"]
        });
        let v = jsonschema::validator_for(&schema).expect("valid schema");
        assert_eq!(
            check_answer(&v, "```json\n{\"n\": 2}\n```"),
            Ok(json!({"n": 2}))
        );
        let err = check_answer(&v, "{\"n\": \"two\"}").expect_err("wrong type");
        assert!(err.contains("/n"), "{err}");
        let err = check_answer(&v, "sure! here it is").expect_err("not JSON");
        assert!(err.contains("not JSON"), "{err}");
    }
}
