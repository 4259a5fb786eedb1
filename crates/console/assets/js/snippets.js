// "Copy as curl / Python" for the playground's last request. The key is
// never written into the snippet: it reads $SWITCHBOARD_API_KEY.

/** `value` as a Python literal (JSON with True/False/None). */
export function pythonLiteral(value, indent = 0) {
  const pad = '    '.repeat(indent + 1);
  const end = '    '.repeat(indent);
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) {
    if (!value.length) return '[]';
    return `[\n${value.map((v) => pad + pythonLiteral(v, indent + 1)).join(',\n')},\n${end}]`;
  }
  const entries = Object.entries(value);
  if (!entries.length) return '{}';
  return `{\n${entries.map(([k, v]) => `${pad}${JSON.stringify(k)}: ${pythonLiteral(v, indent + 1)}`).join(',\n')},\n${end}}`;
}

/** A shell command sending `body` to this gateway. */
export function curl(body, origin = location.origin) {
  const json = JSON.stringify(body, null, 2).replace(/'/g, "'\\''");
  return [
    `curl${body.stream ? ' --no-buffer' : ''} ${origin}/v1/chat/completions \\`,
    '  -H "Authorization: Bearer $SWITCHBOARD_API_KEY" \\',
    "  -H 'Content-Type: application/json' \\",
    `  -d '${json}'`,
  ].join('\n');
}

/** The same request through the official `openai` Python SDK. */
export function python(body, origin = location.origin) {
  const { model, messages, stream, ...rest } = body;
  const lines = [
    'import os',
    'from openai import OpenAI',
    '',
    `client = OpenAI(base_url="${origin}/v1", api_key=os.environ["SWITCHBOARD_API_KEY"])`,
    '',
    `${stream ? 'stream' : 'answer'} = client.chat.completions.create(`,
    `    model=${JSON.stringify(model)},`,
    `    messages=${pythonLiteral(messages, 1)},`,
  ];
  if (stream) lines.push('    stream=True,');
  for (const [k, v] of Object.entries(rest)) {
    if (k === 'stream_options') continue;
    if (['temperature', 'max_tokens', 'top_p', 'tools', 'tool_choice', 'reasoning_effort', 'seed', 'stop'].includes(k)) {
      lines.push(`    ${k}=${pythonLiteral(v, 1)},`);
    } else {
      lines.push(`    extra_body={${JSON.stringify(k)}: ${pythonLiteral(v, 1)}},`);
    }
  }
  lines.push(')');
  if (stream) {
    lines.push('for chunk in stream:', '    if chunk.choices and chunk.choices[0].delta.content:', '        print(chunk.choices[0].delta.content, end="", flush=True)', 'print()');
  } else {
    lines.push('print(answer.choices[0].message)');
  }
  return lines.join('\n');
}
