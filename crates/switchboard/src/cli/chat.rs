//! `switchboard chat`: one prompt, the answer streamed to the terminal.

use std::io::{IsTerminal, Read, Write};

use anyhow::{Context, bail};
use futures::StreamExt;
use switchboard::{ChatEvent, ChatRequest, Message, Switchboard};

use super::load::ConfigArgs;

/// The model used with the built-in mock configuration.
const BUILTIN_MODEL: &str = "mock/mock-1";

/// Arguments of `switchboard chat`.
#[derive(Debug, clap::Args)]
pub(crate) struct ChatArgs {
    /// The prompt; read from stdin when omitted.
    prompt: Option<String>,
    /// The model: an alias, `instance/model`, or a model only one instance lists
    /// [default: the `default` alias, or the only instance's first model].
    #[arg(short, long)]
    model: Option<String>,
    /// A system prompt.
    #[arg(short, long)]
    system: Option<String>,
    /// Sampling temperature (0 to 2).
    #[arg(short, long)]
    temperature: Option<f32>,
    /// The most tokens to generate.
    #[arg(long)]
    max_tokens: Option<u32>,
    /// Wait for the whole answer instead of streaming it.
    #[arg(long)]
    no_stream: bool,
    /// Print the whole response as JSON (implies --no-stream).
    #[arg(long)]
    json: bool,
    /// Print which instance and model answered, and in how many attempts, to stderr.
    #[arg(long)]
    show_route: bool,
}

pub(crate) async fn run(args: ChatArgs, config: &ConfigArgs) -> anyhow::Result<()> {
    let prompt = read_prompt(args.prompt.as_deref())?;
    let sb = config.switchboard().await?;
    let model = match args.model {
        Some(m) => m,
        None => default_model(&sb, config.has_file())?,
    };
    let mut messages = Vec::with_capacity(2);
    if let Some(system) = args.system {
        messages.push(Message::system(system));
    }
    messages.push(Message::user(prompt));
    let mut request = ChatRequest::new(model, messages);
    request.temperature = args.temperature;
    request.max_tokens = args.max_tokens;
    request.validate()?;

    if args.json || args.no_stream {
        let routed = sb.chat(request).await?;
        if args.show_route {
            show_route(&routed.route);
        }
        let response = routed.value;
        let mut out = std::io::stdout().lock();
        if args.json {
            serde_json::to_writer_pretty(&mut out, &response)?;
            writeln!(out)?;
        } else {
            writeln!(out, "{}", response.text())?;
            for call in &response.tool_calls {
                writeln!(
                    out,
                    "[tool call {}] {}({})",
                    call.id, call.name, call.arguments
                )?;
            }
        }
        return Ok(());
    }
    let routed = sb.chat_stream(request).await?;
    if args.show_route {
        show_route(&routed.route);
    }
    stream(routed.value).await
}

fn show_route(route: &switchboard::gateway::RouteInfo) {
    eprintln!(
        "[{}/{} in {} attempt{}]",
        route.instance,
        route.model,
        route.attempts,
        if route.attempts == 1 { "" } else { "s" }
    );
}

/// The model to use when `-m` is not given.
fn default_model(sb: &Switchboard, has_file: bool) -> anyhow::Result<String> {
    if !has_file {
        return Ok(BUILTIN_MODEL.to_owned());
    }
    if sb.router().aliases().iter().any(|a| a == "default") {
        return Ok("default".to_owned());
    }
    let instances = sb.registry().instances();
    if let [only] = instances.as_slice()
        && let Some(first) = only.models().first()
    {
        return Ok(format!("{}/{}", only.name(), first.id));
    }
    let models: Vec<String> = sb.models().into_iter().map(|m| m.id).collect();
    bail!(
        "no model given: pass -m/--model (available: {}), or define a `[models.default]` alias",
        if models.is_empty() {
            "none".to_owned()
        } else {
            models.join(", ")
        }
    )
}

/// Prints text deltas as they arrive; reasoning goes to stderr so stdout
/// stays the answer.
async fn stream(mut events: switchboard::ChatStream) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    let mut ended_with_newline = true;
    let mut tool_args: Vec<(String, String)> = Vec::new();
    while let Some(event) = events.next().await {
        match event? {
            ChatEvent::TextDelta { text } | ChatEvent::RefusalDelta { text } => {
                out.write_all(text.as_bytes())?;
                out.flush()?;
                if !text.is_empty() {
                    ended_with_newline = text.ends_with('\n');
                }
            }
            ChatEvent::ReasoningDelta { text } => eprint!("{text}"),
            ChatEvent::ToolCallStart { name, .. } => tool_args.push((name, String::new())),
            ChatEvent::ToolCallDelta { arguments, .. } => {
                if let Some((_, args)) = tool_args.last_mut() {
                    args.push_str(&arguments);
                }
            }
            ChatEvent::Start { .. }
            | ChatEvent::ReasoningSignature { .. }
            | ChatEvent::RedactedReasoning { .. }
            | ChatEvent::Extra { .. }
            | ChatEvent::Usage(_)
            | ChatEvent::Finish { .. } => {}
        }
    }
    if !ended_with_newline {
        writeln!(out)?;
    }
    for (name, args) in tool_args {
        writeln!(out, "[tool call] {name}({args})")?;
    }
    Ok(())
}

fn read_prompt(arg: Option<&str>) -> anyhow::Result<String> {
    if let Some(prompt) = arg {
        return Ok(prompt.to_owned());
    }
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        bail!("no prompt: pass it as an argument or pipe it on stdin");
    }
    let mut prompt = String::new();
    stdin
        .lock()
        .read_to_string(&mut prompt)
        .context("cannot read the prompt from stdin")?;
    let prompt = prompt.trim_end_matches(['\n', '\r']).to_owned();
    if prompt.trim().is_empty() {
        bail!("no prompt: stdin was empty");
    }
    Ok(prompt)
}
