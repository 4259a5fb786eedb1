"""The official `openai` SDK → Switchboard → a fake OpenAI upstream.

Switchboard runs one `openai-compatible` instance `up` whose `base_url` is a
tiny Python HTTP server answering like OpenAI (shapes from
crates/protocol/tests/data/openai/). Needs the openai-compatible provider
linked into the binary (the default features link every provider). The
Responses API through the same upstream is in test_openai_responses.py.
"""

from __future__ import annotations

import asyncio
import json

import openai
import pytest

from sbtest import UPSTREAM_KEY, UPSTREAM_TOOL_ARGS_FRAGMENTS, FakeOpenAI, upstream_config

pytestmark = pytest.mark.upstream

MODEL = "up/gpt-4o-mini"
UPSTREAM_ARGS = json.loads("".join(UPSTREAM_TOOL_ARGS_FRAGMENTS))

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather in a city",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    }
]


def user(text: str) -> dict:
    return {"role": "user", "content": text}


def last_upstream_request(up: FakeOpenAI) -> tuple[dict, dict]:
    requests = up.chat_requests()
    assert requests, "the upstream received no chat request"
    _, path, headers, body = requests[-1]
    assert path == "/v1/chat/completions"
    return {k.lower(): v for k, v in headers.items()}, body


def test_chat(upstream_gw, fake_upstream):
    client = upstream_gw.openai()
    resp = client.chat.completions.create(model=MODEL, messages=[user("Hi upstream")])
    choice = resp.choices[0]
    assert choice.message.content == "Upstream heard: Hi upstream"
    assert choice.finish_reason == "stop"
    assert resp.usage.prompt_tokens == FakeOpenAI.PROMPT_TOKENS
    assert resp.usage.completion_tokens == 4
    assert resp.usage.total_tokens == FakeOpenAI.PROMPT_TOKENS + 4
    assert "gpt-4o-mini" in resp.model

    headers, body = last_upstream_request(fake_upstream)
    # The gateway's own key goes upstream, never the client's.
    assert headers["authorization"] == f"Bearer {UPSTREAM_KEY}"
    assert body["model"] == "gpt-4o-mini"
    assert body["messages"][-1] == {"role": "user", "content": "Hi upstream"}
    assert not body.get("stream")


async def test_chat_async(upstream_gw):
    async with upstream_gw.async_openai() as client:
        texts = ["first async", "second async", "third async"]
        results = await asyncio.gather(
            *(client.chat.completions.create(model=MODEL, messages=[user(t)]) for t in texts)
        )
    assert [r.choices[0].message.content for r in results] == [f"Upstream heard: {t}" for t in texts]


def test_stream_with_usage(upstream_gw, fake_upstream):
    client = upstream_gw.openai()
    stream = client.chat.completions.create(
        model=MODEL,
        messages=[user("stream through the gateway")],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Upstream heard: stream through the gateway"
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["stop"]
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.prompt_tokens == FakeOpenAI.PROMPT_TOKENS
    assert chunks[-1].usage.completion_tokens == 6
    _, body = last_upstream_request(fake_upstream)
    assert body["stream"] is True


def test_stream_without_usage(upstream_gw):
    client = upstream_gw.openai()
    stream = client.chat.completions.create(model=MODEL, messages=[user("no usage please")], stream=True)
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Upstream heard: no usage please"
    assert all(c.usage is None for c in chunks)
    assert all(c.choices for c in chunks)


def test_tool_call(upstream_gw, fake_upstream):
    client = upstream_gw.openai()
    resp = client.chat.completions.create(model=MODEL, messages=[user("Weather in NYC?")], tools=TOOLS)
    choice = resp.choices[0]
    assert choice.finish_reason == "tool_calls"
    call = choice.message.tool_calls[0]
    assert call.id == "call_up_1"
    assert call.type == "function"
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == UPSTREAM_ARGS
    _, body = last_upstream_request(fake_upstream)
    assert body["tools"][0]["type"] == "function"
    assert body["tools"][0]["function"]["name"] == "get_weather"
    assert body["tools"][0]["function"]["parameters"] == TOOLS[0]["function"]["parameters"]


def test_tool_result(upstream_gw, fake_upstream):
    client = upstream_gw.openai()
    messages = [user("Weather in NYC?")]
    first = client.chat.completions.create(model=MODEL, messages=messages, tools=TOOLS)
    call = first.choices[0].message.tool_calls[0]
    messages.append(first.choices[0].message.model_dump(exclude_none=True))
    messages.append({"role": "tool", "tool_call_id": call.id, "content": "22C and clear"})
    second = client.chat.completions.create(model=MODEL, messages=messages, tools=TOOLS)
    assert second.choices[0].finish_reason == "stop"
    assert second.choices[0].message.content == "The tool said: 22C and clear"
    _, body = last_upstream_request(fake_upstream)
    sent_call, sent_result = body["messages"][-2], body["messages"][-1]
    assert sent_call["role"] == "assistant"
    assert sent_call["tool_calls"][0]["id"] == call.id
    assert sent_call["tool_calls"][0]["function"]["name"] == "get_weather"
    assert json.loads(sent_call["tool_calls"][0]["function"]["arguments"]) == UPSTREAM_ARGS
    assert sent_result == {"role": "tool", "tool_call_id": call.id, "content": "22C and clear"}


def test_tool_call_streamed(upstream_gw):
    client = upstream_gw.openai()
    stream = client.chat.completions.create(
        model=MODEL, messages=[user("Weather in NYC?")], tools=TOOLS, stream=True
    )
    fragments, finishes = [], []
    for chunk in stream:
        if chunk.choices:
            fragments.extend(chunk.choices[0].delta.tool_calls or [])
            if chunk.choices[0].finish_reason:
                finishes.append(chunk.choices[0].finish_reason)
    assert finishes == ["tool_calls"]
    head = fragments[0]
    assert (head.index, head.id, head.type, head.function.name) == (0, "call_up_2", "function", "get_weather")
    assert all(f.index == 0 for f in fragments)
    arguments = "".join(f.function.arguments or "" for f in fragments)
    assert json.loads(arguments) == UPSTREAM_ARGS


def test_tool_result_streamed(upstream_gw):
    client = upstream_gw.openai()
    messages = [
        user("Weather in NYC?"),
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "call_x", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"NYC"}'}}
            ],
        },
        {"role": "tool", "tool_call_id": "call_x", "content": "snow"},
    ]
    stream = client.chat.completions.create(model=MODEL, messages=messages, tools=TOOLS, stream=True)
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == "The tool said: snow"


def test_upstream_429_reaches_the_client(pool, fake_upstream):
    # Its own gateway: a rate-limited instance may cool down, which must not
    # leak into the other tests.
    gw = pool.start(upstream_config(fake_upstream), name="upstream-429")
    client = gw.openai()
    with pytest.raises(openai.RateLimitError) as info:
        client.chat.completions.create(model=MODEL, messages=[user("please 429")])
    assert info.value.status_code == 429
    assert info.value.response.headers["retry-after"] == "1"
    assert info.value.body["type"] == "rate_limit_error"


def test_fake_upstream_speaks_openai(fake_upstream):
    """The harness itself: the SDK talks to the fake upstream directly
    (no gateway), so a failure above is the gateway's, not the fake's."""
    client = openai.OpenAI(base_url=fake_upstream.base_url, api_key="direct", max_retries=0, timeout=5)
    resp = client.chat.completions.create(model="gpt-4o-mini", messages=[user("direct")])
    assert resp.choices[0].message.content == "Upstream heard: direct"
    stream = client.chat.completions.create(
        model="gpt-4o-mini", messages=[user("Weather?")], tools=TOOLS, stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    arguments = "".join(
        tc.function.arguments or "" for c in chunks if c.choices for tc in (c.choices[0].delta.tool_calls or [])
    )
    assert json.loads(arguments) == UPSTREAM_ARGS
    assert chunks[-1].usage.prompt_tokens == FakeOpenAI.PROMPT_TOKENS
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(model="gpt-4o-mini", messages=[user("please 429")])
