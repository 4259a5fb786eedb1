//! `switchboard chat`: one prompt, the answer streamed to the terminal.

use std::io::{IsTerminal, Read, Write};

use anyhow::{Context, bail};
use futures::StreamExt;
use switchboard::{ChatEvent, ChatRequest, Message, Provider};

/// The built-in provider used when there is no configuration: the mock,
/// slowed down a little so streaming is visible in a terminal.
const DEFAULT_INSTANCE: &str = "mock";
const DEFAULT_MODEL: &str = "mock-1";

/// Arguments of `switchboard chat`.
#[derive(Debug, clap::Args)]
pub(crate) struct ChatArgs {
    /// The prompt; read from stdin when omitted.
    prompt: Option<String>,
    /// The model: `model` or `instance/model`.
    #[arg(short, long, default_value = DEFAULT_MODEL)]
    model: String,
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
}

pub(crate) async fn run(args: ChatArgs) -> anyhow::Result<()> {
    let prompt = read_prompt(args.prompt.as_deref())?;
    let (instance, model) = match args.model.split_once('/') {
        Some((instance, model)) => (instance, model),
        None => (DEFAULT_INSTANCE, args.model.as_str()),
    };
    if instance != DEFAULT_INSTANCE {
        bail!(
            "unknown provider instance `{instance}`: with no configuration file only the built-in `mock` instance exists"
        );
    }
    let provider = switchboard::build_provider(
        "mock",
        serde_json::json!({ "token_delay_ms": 15 }),
        instance,
    )
    .await
    .context("cannot start the built-in mock provider")?;

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
        let response = provider.chat(&request).await?;
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
    stream(provider.as_ref(), &request).await
}

/// Prints text deltas as they arrive; reasoning goes to stderr so stdout
/// stays the answer.
async fn stream(provider: &dyn Provider, request: &ChatRequest) -> anyhow::Result<()> {
    let mut events = provider.chat_stream(request).await?;
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
