"""End-to-end fixtures: the running local stack (scripts/test.sh starts it) and the Python `ocpp`
library as the pile. That library validates every message it sends and receives against the
official OCA JSON schemas, so it is the judge of our conformance, not code we wrote."""

import asyncio
import base64
import json
import os
import subprocess
import uuid
from contextlib import asynccontextmanager

import pytest
from websockets.asyncio.client import connect as ws_connect

OCPP_URL = os.environ.get("CSMS_OCPP_URL")
REGISTRY = os.environ.get("CSMS_REGISTRY_BIN", "target/debug/csms-registry")


def pytest_configure(config):
    if not OCPP_URL:
        raise pytest.UsageError("CSMS_OCPP_URL is not set: run the end-to-end tests through scripts/test.sh")


def registry(*args: str) -> dict | list:
    out = subprocess.run([REGISTRY, "--json", *args], check=True, capture_output=True, text=True, timeout=60)
    return json.loads(out.stdout) if out.stdout.strip() else {}


def register(protocols=("ocpp1.6",), registration="Accepted", password=None) -> tuple[str, str]:
    """Registers a fresh station; returns (station id, password)."""
    station_id = f"E2E-{uuid.uuid4().hex[:12].upper()}"
    args = ["register", "--id", station_id, "--registration", registration]
    for p in protocols:
        args += ["--protocol", p]
    if password:
        args += ["--password", password]
    result = registry(*args)
    return station_id, result["password"]


def basic_auth(user: str, password: str) -> dict:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@asynccontextmanager
async def pile_socket(station_id: str, password: str, subprotocols=("ocpp1.6",), user=None):
    async with ws_connect(
        OCPP_URL + station_id,
        subprotocols=list(subprotocols),
        additional_headers=basic_auth(user or station_id, password),
        open_timeout=15,
    ) as ws:
        yield ws


@asynccontextmanager
async def charge_point(cp_class, station_id: str, password: str, subprotocol: str):
    """A running `ocpp` ChargePoint on an open socket."""
    async with pile_socket(station_id, password, (subprotocol,)) as ws:
        assert ws.subprotocol == subprotocol
        cp = cp_class(station_id, ws, response_timeout=15)
        task = asyncio.create_task(cp.start())
        try:
            yield cp, ws
        finally:
            task.cancel()


async def eventually(check, timeout=20.0, interval=0.25):
    """Polls `check` until it returns a truthy value (status flows through SQS, so it lags)."""
    deadline = asyncio.get_event_loop().time() + timeout
    while True:
        value = check()
        if value:
            return value
        if asyncio.get_event_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s; last value: {value!r}")
        await asyncio.sleep(interval)


def station_row(station_id: str) -> dict:
    return next(s for s in registry("list") if s["stationId"] == station_id)


def row_when(station_id: str, predicate) -> dict | None:
    """The station's `csms-registry list` row once `predicate` holds for it, else None."""
    row = station_row(station_id)
    return row if predicate(row) else None

