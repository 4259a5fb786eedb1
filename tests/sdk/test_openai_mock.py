"""The official `openai` SDK against Switchboard's OpenAI API, on the mock provider.

The mock echoes `You said: <last user message>` one word per token; usage
counts words in and tokens out (see providers/mock/README.md).
"""

from __future__ import annotations

import array
import asyncio
import base64
import json
import math
import time

import openai
import pytest

from sbtest import GOOD_KEY, LIMITED_KEY, MOCK_FAST, mock_with_fault, schema_errors

pytestmark = pytest.mark.openai

WEATHER_SCHEMA = {
    "type": "object",
    "properties": {
        "city": {"type": "string"},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        "days": {"type": "integer", "minimum": 1, "maximum": 7},
        "tags": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["city", "unit", "days"],
    "additionalProperties": False,
}

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather forecast for a city",
            "parameters": WEATHER_SCHEMA,
        },
    },
    {
        "type": "function",
        "function": {
            "name": "get_time",
            "description": "Local time in a timezone",
            "parameters": {
                "type": "object",
                "properties": {"tz": {"type": "string"}, "24h": {"type": "boolean"}},
                "required": ["tz", "24h"],
            },
        },
    },
]


def user(text: str) -> dict:
    return {"role": "user", "content": text}


# ---------------------------------------------------------------------------
# chat: sync, async, streaming
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["mock/mock-1", "mock-1"])
def test_chat_sync(mock_gw, model):
    client = mock_gw.openai()
    resp = client.chat.completions.create(model=model, messages=[user("Hello there gateway")])
    assert resp.object == "chat.completion"
    assert resp.id.startswith("chatcmpl-")
    assert resp.model.split("/")[-1] == "mock-1", resp.model
    assert len(resp.choices) == 1
    choice = resp.choices[0]
    assert choice.index == 0
    assert choice.message.role == "assistant"
    assert choice.message.content == "You said: Hello there gateway"
    assert not choice.message.tool_calls
    assert choice.finish_reason == "stop"
    assert resp.usage is not None
    assert resp.usage.prompt_tokens == 3
    assert resp.usage.completion_tokens == 5
    assert resp.usage.total_tokens == 8


def test_chat_echoes_the_last_user_message_of_a_conversation(mock_gw):
    client = mock_gw.openai()
    resp = client.chat.completions.create(
        model="mock-1",
        messages=[
            {"role": "system", "content": "Be brief."},
            user("first question"),
            {"role": "assistant", "content": "first answer"},
            user("second question"),
        ],
        max_tokens=100,
        temperature=0.3,
        top_p=0.9,
        seed=7,
        user="user-123",
    )
    assert resp.choices[0].message.content == "You said: second question"
    assert resp.choices[0].finish_reason == "stop"


def test_chat_max_tokens_cuts_the_answer(mock_gw):
    client = mock_gw.openai()
    resp = client.chat.completions.create(
        model="mock-1", messages=[user("one two three four five six")], max_tokens=3
    )
    assert resp.choices[0].finish_reason == "length"
    assert resp.choices[0].message.content == "You said: one"
    assert resp.usage.completion_tokens == 3


def test_chat_raw_response_headers(mock_gw):
    client = mock_gw.openai()
    raw = client.chat.completions.with_raw_response.create(
        model="mock/mock-1", messages=[user("hi")], extra_headers={"x-request-id": "sdk-test-req-1"}
    )
    assert raw.status_code == 200
    assert raw.headers["x-request-id"] == "sdk-test-req-1"
    assert raw.headers["x-switchboard-instance"] == "mock"
    assert raw.headers["x-switchboard-model"] == "mock-1"
    assert raw.parse().choices[0].message.content == "You said: hi"


def test_builtin_mock_without_config_file(pool):
    """No config file in the working directory: the built-in mock provider."""
    gw = pool.start(None, name="builtin")
    client = gw.openai()
    assert "mock/mock-1" in [m.id for m in client.models.list()]
    resp = client.chat.completions.create(model="mock-1", messages=[user("offline works")])
    assert resp.choices[0].message.content == "You said: offline works"


async def test_chat_async(mock_gw):
    async with mock_gw.async_openai() as client:
        texts = [f"async number {i}" for i in range(5)]
        results = await asyncio.gather(
            *(client.chat.completions.create(model="mock-1", messages=[user(t)]) for t in texts)
        )
    for text, resp in zip(texts, results):
        assert resp.choices[0].message.content == f"You said: {text}"
        assert resp.choices[0].finish_reason == "stop"
        assert resp.usage.prompt_tokens == 3
        assert resp.usage.completion_tokens == 5


async def test_chat_async_stream(mock_gw):
    async with mock_gw.async_openai() as client:
        stream = await client.chat.completions.create(
            model="mock-1",
            messages=[user("streamed asynchronously")],
            stream=True,
            stream_options={"include_usage": True},
        )
        chunks = [c async for c in stream]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "You said: streamed asynchronously"
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == 4


def _collect_stream(stream):
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    return chunks, text, finishes


def test_stream_with_usage(mock_gw):
    client = mock_gw.openai()
    stream = client.chat.completions.create(
        model="mock-1",
        messages=[user("stream me please")],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks, text, finishes = _collect_stream(stream)
    assert text == "You said: stream me please"
    assert finishes == ["stop"]
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert len({c.id for c in chunks}) == 1, "every chunk of one completion has the same id"
    first = chunks[0]
    assert first.choices and first.choices[0].delta.role == "assistant"
    # More than one content delta: the answer really arrives in pieces.
    assert sum(1 for c in chunks if c.choices and c.choices[0].delta.content) >= 4
    # The usage chunk is last, has no choices, and is the only one with usage.
    last = chunks[-1]
    assert last.choices == []
    assert last.usage is not None
    assert (last.usage.prompt_tokens, last.usage.completion_tokens, last.usage.total_tokens) == (3, 5, 8)
    assert all(c.usage is None for c in chunks[:-1])


def test_stream_without_usage(mock_gw):
    client = mock_gw.openai()
    stream = client.chat.completions.create(
        model="mock-1", messages=[user("no usage here")], stream=True
    )
    chunks, text, finishes = _collect_stream(stream)
    assert text == "You said: no usage here"
    assert finishes == ["stop"]
    assert all(c.usage is None for c in chunks), [c for c in chunks if c.usage is not None]
    assert all(c.choices for c in chunks), "without include_usage there is no empty-choices usage chunk"


def test_stream_is_not_buffered(slow_gw):
    """40 ms per token: the first delta must arrive well before the last."""
    client = slow_gw.openai()
    stream = client.chat.completions.create(
        model="mock-1", messages=[user("a b c d e f")], stream=True
    )
    times = []
    text = ""
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            times.append(time.monotonic())
            text += chunk.choices[0].delta.content
    assert text == "You said: a b c d e f"
    assert len(times) == 8
    assert times[-1] - times[0] >= 0.2, f"deltas arrived together ({times[-1] - times[0]:.3f}s apart): buffered?"


# ---------------------------------------------------------------------------
# tool calls, both directions
# ---------------------------------------------------------------------------


def test_tool_call(mock_gw):
    client = mock_gw.openai()
    resp = client.chat.completions.create(
        model="mock-1", messages=[user("What's the weather in Paris?")], tools=TOOLS
    )
    choice = resp.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert not choice.message.content
    calls = choice.message.tool_calls
    assert calls is not None and len(calls) == 1
    call = calls[0]
    assert call.type == "function"
    assert call.id == "call_mock_0"
    assert call.function.name == "get_weather"
    args = json.loads(call.function.arguments)
    assert schema_errors(args, WEATHER_SCHEMA) == []


def test_tool_choice_names_the_tool(mock_gw):
    client = mock_gw.openai()
    resp = client.chat.completions.create(
        model="mock-1",
        messages=[user("What time is it in Tokyo?")],
        tools=TOOLS,
        tool_choice={"type": "function", "function": {"name": "get_time"}},
    )
    call = resp.choices[0].message.tool_calls[0]
    assert call.function.name == "get_time"
    args = json.loads(call.function.arguments)
    assert schema_errors(args, TOOLS[1]["function"]["parameters"]) == []


def test_tool_choice_none_answers_text(mock_gw):
    client = mock_gw.openai()
    resp = client.chat.completions.create(
        model="mock-1", messages=[user("just talk")], tools=TOOLS, tool_choice="none"
    )
    assert resp.choices[0].finish_reason == "stop"
    assert resp.choices[0].message.content == "You said: just talk"
    assert not resp.choices[0].message.tool_calls


def test_tool_result_round_trip(mock_gw):
    client = mock_gw.openai()
    messages = [user("What's the weather in Paris?")]
    first = client.chat.completions.create(model="mock-1", messages=messages, tools=TOOLS)
    call = first.choices[0].message.tool_calls[0]
    # The assistant message exactly as the SDK returned it, then the tool's result.
    messages.append(first.choices[0].message.model_dump(exclude_none=True))
    messages.append({"role": "tool", "tool_call_id": call.id, "content": "sunny, 21 degrees"})
    second = client.chat.completions.create(model="mock-1", messages=messages, tools=TOOLS)
    choice = second.choices[0]
    assert choice.finish_reason == "stop"
    assert choice.message.content == "Tool result received: sunny, 21 degrees"
    assert not choice.message.tool_calls


def test_tool_call_streamed(mock_gw):
    client = mock_gw.openai()
    stream = client.chat.completions.create(
        model="mock-1",
        messages=[user("What's the weather in Paris?")],
        tools=TOOLS,
        stream=True,
        stream_options={"include_usage": True},
    )
    fragments = []
    finishes = []
    for chunk in stream:
        if not chunk.choices:
            continue
        delta = chunk.choices[0].delta
        if delta.tool_calls:
            fragments.extend(delta.tool_calls)
        if chunk.choices[0].finish_reason:
            finishes.append(chunk.choices[0].finish_reason)
    assert finishes == ["tool_calls"]
    assert len(fragments) >= 2, "arguments should arrive in several fragments"
    head = fragments[0]
    assert head.index == 0
    assert head.id == "call_mock_0"
    assert head.type == "function"
    assert head.function.name == "get_weather"
    assert all(f.index == 0 for f in fragments)
    assert all(f.id is None for f in fragments[1:]), "id only on the first fragment"
    assert all(f.function.name is None for f in fragments[1:]), "name only on the first fragment"
    arguments = "".join(f.function.arguments or "" for f in fragments)
    args = json.loads(arguments)
    assert schema_errors(args, WEATHER_SCHEMA) == []


def test_tool_result_streamed(mock_gw):
    client = mock_gw.openai()
    messages = [
        user("What's the weather in Paris?"),
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_abc",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Paris","unit":"celsius","days":1}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_abc", "content": "rain all day"},
    ]
    stream = client.chat.completions.create(model="mock-1", messages=messages, tools=TOOLS, stream=True)
    chunks, text, finishes = _collect_stream(stream)
    assert text == "Tool result received: rain all day"
    assert finishes == ["stop"]
    assert not any(c.choices and c.choices[0].delta.tool_calls for c in chunks)


# ---------------------------------------------------------------------------
# models, embeddings
# ---------------------------------------------------------------------------


def test_models_list(mock_gw):
    client = mock_gw.openai()
    models = list(client.models.list())
    ids = [m.id for m in models]
    assert "mock/mock-1" in ids
    assert all(m.object == "model" for m in models)


def test_models_list_multi_instance(multi_gw):
    ids = {m.id for m in multi_gw.openai().models.list()}
    assert {"alpha/mock-1", "beta/mock-2", "beta/mock-3", "fast"} <= ids, ids


def _norm(v):
    return math.sqrt(sum(x * x for x in v))


def test_embeddings_float(mock_gw):
    client = mock_gw.openai()
    resp = client.embeddings.create(model="mock-1", input=["alpha", "beta gamma"], encoding_format="float")
    assert resp.object == "list"
    assert len(resp.data) == 2
    assert [d.index for d in resp.data] == [0, 1]
    for d in resp.data:
        assert d.object == "embedding"
        assert isinstance(d.embedding, list) and len(d.embedding) == 8
        assert all(isinstance(x, float) for x in d.embedding)
        assert abs(_norm(d.embedding) - 1.0) < 1e-3
    assert resp.data[0].embedding != resp.data[1].embedding
    again = client.embeddings.create(model="mock-1", input="alpha", encoding_format="float")
    assert len(again.data) == 1
    assert again.data[0].embedding == pytest.approx(resp.data[0].embedding, abs=1e-6)
    assert resp.usage.prompt_tokens > 0


def test_embeddings_dimensions(mock_gw):
    client = mock_gw.openai()
    resp = client.embeddings.create(model="mock-1", input="sized", dimensions=16, encoding_format="float")
    assert len(resp.data[0].embedding) == 16


def test_embeddings_sdk_default_is_base64_decoded(mock_gw):
    """Without `encoding_format` the SDK asks for base64 and decodes it itself."""
    client = mock_gw.openai()
    floats = client.embeddings.create(model="mock-1", input=["one", "two"], encoding_format="float")
    decoded = client.embeddings.create(model="mock-1", input=["one", "two"])
    for f, d in zip(floats.data, decoded.data):
        assert isinstance(d.embedding, list) and len(d.embedding) == 8
        assert d.embedding == pytest.approx(f.embedding, abs=1e-6)


def test_embeddings_explicit_base64(mock_gw):
    client = mock_gw.openai()
    floats = client.embeddings.create(model="mock-1", input="encode me", encoding_format="float")
    b64 = client.embeddings.create(model="mock-1", input="encode me", encoding_format="base64")
    raw = b64.data[0].embedding
    assert isinstance(raw, str), "an explicit base64 request returns the string"
    values = array.array("f", base64.b64decode(raw)).tolist()
    assert values == pytest.approx(floats.data[0].embedding, abs=1e-6)


# ---------------------------------------------------------------------------
# errors
# ---------------------------------------------------------------------------


def test_400_invalid_temperature(mock_gw):
    client = mock_gw.openai()
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="mock-1", messages=[user("hi")], temperature=5)
    err = info.value
    assert err.status_code == 400
    assert "temperature" in err.message
    assert err.body["param"] == "temperature"
    assert err.body["type"] == "invalid_request_error"


@pytest.mark.parametrize(
    "override, field",
    [
        ({"messages": "not a list"}, "messages"),
        ({"max_tokens": "lots"}, "max_tokens"),
        ({"messages": [{"role": "wizard", "content": "hi"}]}, "role"),
        ({"model": 42}, "model"),
    ],
    ids=["messages-not-list", "max_tokens-string", "unknown-role", "model-number"],
)
def test_400_malformed_request(mock_gw, override, field):
    client = mock_gw.openai()
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="mock-1", messages=[user("hi")], extra_body=override)
    err = info.value
    assert err.status_code == 400
    assert field in err.message, err.message
    assert err.body["type"] == "invalid_request_error"


def test_400_invalid_json_body(mock_gw):
    status, headers, body = mock_gw.post_raw("/v1/chat/completions", b'{"model": "mock-1", "messages": [')
    assert status == 400
    assert headers.get("content-type", headers.get("Content-Type")) == "application/json"
    error = json.loads(body)["error"]
    assert error["type"] == "invalid_request_error"
    assert "JSON" in error["message"]


def test_401_wrong_or_missing_key(keyed_gw):
    with pytest.raises(openai.AuthenticationError) as info:
        keyed_gw.openai(api_key="sk-wrong").chat.completions.create(model="mock-1", messages=[user("hi")])
    assert info.value.status_code == 401
    assert info.value.body["type"] == "authentication_error"
    assert info.value.body["code"] == "invalid_api_key"
    assert GOOD_KEY not in info.value.message
    with pytest.raises(openai.AuthenticationError):
        keyed_gw.openai(api_key="sk-wrong").models.list()
    with pytest.raises(openai.AuthenticationError):
        keyed_gw.openai(api_key="sk-wrong").embeddings.create(model="mock-1", input="x")
    # No Authorization header at all (the SDK always sends one).
    status, _, body = keyed_gw.post_raw(
        "/v1/chat/completions", json.dumps({"model": "mock-1", "messages": [user("hi")]}).encode()
    )
    assert status == 401
    error = json.loads(body)["error"]
    assert error["type"] == "authentication_error"
    assert "Authorization" in error["message"]


def test_401_right_key_works(keyed_gw):
    client = keyed_gw.openai(api_key=GOOD_KEY)
    resp = client.chat.completions.create(model="mock-1", messages=[user("let me in")])
    assert resp.choices[0].message.content == "You said: let me in"
    assert {"mock/mock-1", "mock/mock-2"} <= {m.id for m in client.models.list()}


def test_key_limited_to_some_models(keyed_gw):
    client = keyed_gw.openai(api_key=LIMITED_KEY)
    resp = client.chat.completions.create(model="mock/mock-1", messages=[user("allowed")])
    assert resp.choices[0].message.content == "You said: allowed"
    assert [m.id for m in client.models.list()] == ["mock/mock-1"]
    with pytest.raises(openai.PermissionDeniedError) as info:
        client.chat.completions.create(model="mock/mock-2", messages=[user("denied")])
    assert info.value.status_code == 403
    assert "mock/mock-2" in info.value.message


def test_404_unknown_model_lists_available(multi_gw):
    client = multi_gw.openai()
    with pytest.raises(openai.NotFoundError) as info:
        client.chat.completions.create(model="gpt-nope", messages=[user("hi")])
    err = info.value
    assert err.status_code == 404
    assert "gpt-nope" in err.message
    for available in ("alpha/mock-1", "beta/mock-2", "beta/mock-3", "fast"):
        assert available in err.message, err.message
    with pytest.raises(openai.NotFoundError):
        client.embeddings.create(model="gpt-nope", input="x")


def test_429_rate_limited(pool):
    gw = pool.start(mock_with_fault('{ kind = "rate_limited", retry_after_ms = 1000 }'), name="ratelimited")
    client = gw.openai(max_retries=0)
    with pytest.raises(openai.RateLimitError) as info:
        client.chat.completions.create(model="mock-1", messages=[user("hi")])
    err = info.value
    assert err.status_code == 429
    assert err.response.headers["retry-after"] == "1"
    assert err.body["type"] == "rate_limit_error"
    assert err.body["code"] == "rate_limit_exceeded"
    # Streaming requests fail the same way, before any chunk.
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(model="mock-1", messages=[user("hi")], stream=True)


def test_429_then_sdk_retry_succeeds(pool):
    """The SDK honours Retry-After: one injected 429, then success."""
    gw = pool.start(
        mock_with_fault('{ kind = "rate_limited", retry_after_ms = 500, times = 1 }'), name="ratelimited-once"
    )
    client = gw.openai(max_retries=2)
    raw = client.chat.completions.with_raw_response.create(model="mock-1", messages=[user("eventually")])
    assert raw.retries_taken == 1
    assert raw.parse().choices[0].message.content == "You said: eventually"


def test_429_per_request_override(pool):
    gw = pool.start(MOCK_FAST + "\n[router]\nmax_attempts = 1\n", name="override")
    client = gw.openai()
    with pytest.raises(openai.RateLimitError) as info:
        client.chat.completions.create(
            model="mock-1",
            messages=[user("hi")],
            extra_body={"mock": {"fault": {"kind": "rate_limited", "retry_after_ms": 3000}}},
        )
    assert info.value.response.headers["retry-after"] == "3"
    # The same gateway answers normally without the override.
    ok = client.chat.completions.create(model="mock-1", messages=[user("fine")])
    assert ok.choices[0].message.content == "You said: fine"


@pytest.mark.parametrize(
    "fault, status",
    [
        ('{ kind = "unavailable" }', 503),
        ('{ kind = "upstream", status = 500 }', 502),
        ('{ kind = "timeout" }', 504),
    ],
    ids=["unavailable", "upstream-500", "timeout"],
)
def test_5xx_on_upstream_failure(pool, fault, status):
    gw = pool.start(mock_with_fault(fault), name="upstream-fail")
    client = gw.openai()
    with pytest.raises(openai.InternalServerError) as info:
        client.chat.completions.create(model="mock-1", messages=[user("hi")])
    assert info.value.status_code == status
    assert info.value.status_code >= 500
    assert "injected" in info.value.message


def test_error_after_stream_started(pool):
    gw = pool.start(mock_with_fault('{ kind = "unavailable", after_events = 2 }'), name="midstream")
    client = gw.openai()
    stream = client.chat.completions.create(
        model="mock-1", messages=[user("this answer will break")], stream=True
    )
    received = []
    with pytest.raises(openai.APIError) as info:
        for chunk in stream:
            received.append(chunk)
    err = info.value
    # An in-stream error event is a plain APIError (the HTTP status was 200).
    assert type(err) is openai.APIError, type(err)
    assert not isinstance(err, openai.APIStatusError)
    assert err.message == "injected unavailable fault"
    assert err.body["code"] == "unavailable"
    assert len(received) >= 1, "chunks before the error reach the client"
    text = "".join(c.choices[0].delta.content or "" for c in received if c.choices)
    assert "You said: this answer will break".startswith(text)
    assert not any(c.choices and c.choices[0].finish_reason for c in received)


async def test_error_after_stream_started_async(pool):
    gw = pool.start(mock_with_fault('{ kind = "unavailable", after_events = 2 }'), name="midstream-async")
    async with gw.async_openai() as client:
        stream = await client.chat.completions.create(
            model="mock-1", messages=[user("this answer will break")], stream=True
        )
        with pytest.raises(openai.APIError) as info:
            async for _ in stream:
                pass
    assert type(info.value) is openai.APIError
    assert info.value.body["code"] == "unavailable"
