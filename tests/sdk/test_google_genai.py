"""Google's official `google-genai` SDK against Switchboard's Gemini API
(`POST /v1beta/models/{model}:generateContent`, `:streamGenerateContent?alt=sse`),
on the mock provider.

Run these alone with `bash tests/sdk/run.sh -k genai`.
"""

from __future__ import annotations

import json

import pytest
from google import genai
from google.genai import errors, types

from sbtest import GOOD_KEY

MODEL = "mock-1"

WEATHER = types.FunctionDeclaration(
    name="get_weather",
    description="Get the current weather in a given location",
    parameters=types.Schema(
        type="OBJECT",
        properties={"location": types.Schema(type="STRING", description="The city and state")},
        required=["location"],
    ),
)


# `genai.Client` closes its HTTP client when it is garbage-collected, which
# breaks `client(gw).models.generate_content(...)` in one expression: keep them.
_CLIENTS: list[genai.Client] = []


def client(gw, api_key: str = "test-key", api_version: str = "v1beta") -> genai.Client:
    c = genai.Client(
        api_key=api_key,
        http_options=types.HttpOptions(base_url=gw.base_url, api_version=api_version, timeout=15_000),
    )
    _CLIENTS.append(c)
    return c


def tool_config(**kwargs) -> types.GenerateContentConfig:
    return types.GenerateContentConfig(
        tools=[types.Tool(function_declarations=[WEATHER])],
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
        **kwargs,
    )


@pytest.mark.parametrize("api_version", ["v1beta", "v1"])
def test_generate_content(mock_gw, api_version):
    resp = client(mock_gw, api_version=api_version).models.generate_content(
        model=MODEL, contents="Hello there"
    )
    assert resp.text == "You said: Hello there"
    cand = resp.candidates[0]
    assert cand.finish_reason == types.FinishReason.STOP
    assert cand.content.role == "model"
    usage = resp.usage_metadata
    assert usage.prompt_token_count > 0
    assert usage.candidates_token_count > 0
    assert usage.total_token_count == usage.prompt_token_count + usage.candidates_token_count
    assert resp.model_version
    assert resp.response_id


@pytest.mark.parametrize("model", ["mock/mock-1", "models/mock/mock-1"])
def test_model_names_with_a_slash(mock_gw, model):
    resp = client(mock_gw).models.generate_content(model=model, contents="slashed")
    assert resp.text == "You said: slashed"


def test_system_instruction_and_generation_config(mock_gw):
    resp = client(mock_gw).models.generate_content(
        model=MODEL,
        contents="one two three four five six",
        config=types.GenerateContentConfig(
            system_instruction="You are terse.", temperature=0.2, top_p=0.9, max_output_tokens=3
        ),
    )
    # The mock cuts the answer at the limit: finish MAX_TOKENS.
    assert resp.candidates[0].finish_reason == types.FinishReason.MAX_TOKENS
    assert resp.text == "You said: one"


def test_generate_content_stream(mock_gw):
    chunks = list(
        client(mock_gw).models.generate_content_stream(model=MODEL, contents="stream me please")
    )
    assert len(chunks) > 2
    text = "".join(c.text or "" for c in chunks)
    assert text == "You said: stream me please"
    last = chunks[-1]
    assert last.candidates[0].finish_reason == types.FinishReason.STOP
    assert last.usage_metadata.total_token_count > 0
    assert all(c.candidates[0].finish_reason is None for c in chunks[:-1])


async def test_generate_content_stream_async(mock_gw):
    text = ""
    async for chunk in await client(mock_gw).aio.models.generate_content_stream(
        model=MODEL, contents="async hello"
    ):
        text += chunk.text or ""
    assert text == "You said: async hello"


def test_function_calling_round_trip(mock_gw):
    c = client(mock_gw)
    config = tool_config()
    question = types.Content(role="user", parts=[types.Part(text="What is the weather like in Boston?")])
    first = c.models.generate_content(model=MODEL, contents=[question], config=config)
    calls = first.function_calls
    assert calls and len(calls) == 1
    assert calls[0].name == "get_weather"
    assert isinstance(calls[0].args, dict)
    assert isinstance(calls[0].args["location"], str)
    assert first.candidates[0].finish_reason == types.FinishReason.STOP

    result = types.Part.from_function_response(name="get_weather", response={"temperature": "22C"})
    second = c.models.generate_content(
        model=MODEL,
        contents=[question, first.candidates[0].content, types.Content(role="user", parts=[result])],
        config=config,
    )
    assert second.function_calls is None
    assert second.text.startswith("Tool result received: ")
    assert json.loads(second.text.removeprefix("Tool result received: ")) == {"temperature": "22C"}


def test_function_calling_stream_and_tool_config(mock_gw):
    config = tool_config(
        tool_config=types.ToolConfig(
            function_calling_config=types.FunctionCallingConfig(
                mode="ANY", allowed_function_names=["get_weather"]
            )
        )
    )
    chunks = list(
        client(mock_gw).models.generate_content_stream(model=MODEL, contents="Weather?", config=config)
    )
    calls = [fc for ch in chunks for fc in (ch.function_calls or [])]
    assert [fc.name for fc in calls] == ["get_weather"]
    assert isinstance(calls[0].args["location"], str)
    # Mode NONE: no call, plain text.
    none = tool_config(
        tool_config=types.ToolConfig(function_calling_config=types.FunctionCallingConfig(mode="NONE"))
    )
    resp = client(mock_gw).models.generate_content(model=MODEL, contents="just talk", config=none)
    assert resp.function_calls is None
    assert resp.text == "You said: just talk"


def test_json_schema_output(mock_gw):
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
        "required": ["city", "days"],
    }
    resp = client(mock_gw).models.generate_content(
        model=MODEL,
        contents="a forecast",
        config=types.GenerateContentConfig(response_mime_type="application/json", response_json_schema=schema),
    )
    value = json.loads(resp.text)
    assert isinstance(value["city"], str)
    assert isinstance(value["days"], int)
    # Gemini's own schema dialect (upper-case types) works too.
    resp = client(mock_gw).models.generate_content(
        model=MODEL,
        contents="a forecast",
        config=types.GenerateContentConfig(
            response_mime_type="application/json",
            response_schema=types.Schema(
                type="OBJECT", properties={"ok": types.Schema(type="BOOLEAN")}, required=["ok"]
            ),
        ),
    )
    assert isinstance(json.loads(resp.text)["ok"], bool)


def test_auth_by_x_goog_api_key(keyed_gw):
    resp = client(keyed_gw, api_key=GOOD_KEY).models.generate_content(model=MODEL, contents="hi")
    assert resp.text == "You said: hi"
    with pytest.raises(errors.ClientError) as e:
        client(keyed_gw, api_key="wrong-key").models.generate_content(model=MODEL, contents="hi")
    assert e.value.code == 401
    assert e.value.status == "UNAUTHENTICATED"


def test_errors_in_googles_format(multi_gw):
    with pytest.raises(errors.ClientError) as e:
        client(multi_gw).models.generate_content(model="no-such-model", contents="hi")
    assert e.value.code == 404
    assert e.value.status == "NOT_FOUND"
    assert e.value.message
    with pytest.raises(errors.ClientError) as e:
        client(multi_gw).models.generate_content(
            model="alpha/mock-1",
            contents="hi",
            config=types.GenerateContentConfig(candidate_count=2),
        )
    assert e.value.code == 400
    assert e.value.status == "INVALID_ARGUMENT"


def test_key_in_the_query_and_raw_error_body(keyed_gw):
    body = json.dumps({"contents": [{"role": "user", "parts": [{"text": "q"}]}]}).encode()
    status, _, raw = keyed_gw.post_raw(f"/v1beta/models/{MODEL}:generateContent?key={GOOD_KEY}", body)
    assert status == 200, raw
    assert json.loads(raw)["candidates"][0]["content"]["parts"] == [{"text": "You said: q"}]
    status, headers, raw = keyed_gw.post_raw(f"/v1beta/models/{MODEL}:generateContent", body)
    assert status == 401
    err = json.loads(raw)["error"]
    assert err["code"] == 401 and err["status"] == "UNAUTHENTICATED"
    assert "x-goog-api-key" in err["message"]


def test_thinking_config_gives_thought_parts(mock_gw):
    config = types.GenerateContentConfig(
        thinking_config=types.ThinkingConfig(include_thoughts=True, thinking_budget=1024)
    )
    resp = client(mock_gw).models.generate_content(model=MODEL, contents="ponder", config=config)
    parts = resp.candidates[0].content.parts
    thoughts = [p for p in parts if p.thought]
    assert [p.text for p in thoughts] == ["Thinking about: ponder"]
    # The mock's signature is not Gemini's: it is not handed to a Gemini client.
    assert all(p.thought_signature is None for p in parts)
    assert resp.text == "You said: ponder"
    chunks = list(
        client(mock_gw).models.generate_content_stream(model=MODEL, contents="ponder", config=config)
    )
    streamed = [p for c in chunks if c.candidates[0].content for p in c.candidates[0].content.parts]
    assert "".join(p.text for p in streamed if p.thought) == "Thinking about: ponder"
    assert "".join(p.text for p in streamed if not p.thought) == "You said: ponder"
