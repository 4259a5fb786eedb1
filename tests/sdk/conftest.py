"""Fixtures: spawned `switchboard serve` processes on free ports.

The binary is `$SWITCHBOARD_BIN` (default `target/debug/switchboard` under the
workspace root); nothing is built here. Each gateway gets its own temp dir with
its config file, waits for `GET /readyz`, and is stopped (SIGTERM, then kill)
when its fixture ends. Tests that inject faults start their own gateway, so the
instance health of the shared ones is never affected.
"""

from __future__ import annotations

import pytest

from sbtest import MOCK_FAST, MOCK_KEYED, MOCK_MULTI, MOCK_SLOW, FakeOpenAI, GatewayPool, upstream_config


@pytest.fixture(scope="session")
def session_pool(tmp_path_factory):
    pool = GatewayPool(tmp_path_factory.mktemp("gateways"))
    yield pool
    pool.close()


@pytest.fixture
def pool(tmp_path):
    """Gateways that live for one test."""
    p = GatewayPool(tmp_path)
    yield p
    p.close()


@pytest.fixture(scope="session")
def mock_gw(session_pool):
    return session_pool.start(MOCK_FAST, name="mock")


@pytest.fixture(scope="session")
def slow_gw(session_pool):
    return session_pool.start(MOCK_SLOW, name="slow")


@pytest.fixture(scope="session")
def multi_gw(session_pool):
    return session_pool.start(MOCK_MULTI, name="multi")


@pytest.fixture(scope="session")
def keyed_gw(session_pool):
    return session_pool.start(MOCK_KEYED, name="keyed")


@pytest.fixture(scope="module")
def fake_upstream():
    up = FakeOpenAI().start()
    yield up
    up.stop()


@pytest.fixture(scope="module")
def upstream_gw(tmp_path_factory, fake_upstream):
    """Switchboard with one `openai-compatible` instance `up` pointing at the
    fake upstream."""
    pool = GatewayPool(tmp_path_factory.mktemp("upstream"))
    yield pool.start(upstream_config(fake_upstream), name="upstream")
    pool.close()
