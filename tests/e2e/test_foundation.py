"""Piles connect, boot and report status through the serverless path (the stand-in invoking the
same Lambda handlers, DynamoDB Local, LocalStack SQS), judged by the Python `ocpp` library."""

import asyncio
import json
from datetime import datetime, timezone

import pytest
import websockets
from ocpp import exceptions as ocpp_errors
from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16 import call as call16
from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v201 import call as call201

from conftest import charge_point, eventually, pile_socket, register, row_when, station_row


def now() -> str:
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


def assert_rfc3339(value: str):
    datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_ocpp16_pile_boots_heartbeats_reports_status_and_is_listed_online():
    station_id, password = register(("ocpp1.6",))

    async def scenario():
        async with charge_point(ChargePoint16, station_id, password, "ocpp1.6") as (cp, _):
            boot = await cp.call(call16.BootNotification(charge_point_model="E2E-16", charge_point_vendor="Judge"), suppress=False)
            assert boot.status == "Accepted"
            assert boot.interval > 0
            assert_rfc3339(boot.current_time)
            heartbeat = await cp.call(call16.Heartbeat(), suppress=False)
            assert_rfc3339(heartbeat.current_time)
            for connector, status in [(0, "Available"), (1, "Available"), (2, "Preparing")]:
                await cp.call(call16.StatusNotification(connector_id=connector, error_code="NoError", status=status, timestamp=now()), suppress=False)
            row = await eventually(lambda: row_when(station_id, lambda r: len(r["connectors"]) == 3))
            assert row["online"] is True
            assert row["protocol"] == "ocpp1.6"
            assert row["boot"]["status"] == "Accepted"
            assert {c["component"]: c["status"] for c in row["connectors"]} == {
                "connector#0": "Available", "connector#1": "Available", "connector#2": "Preparing"}
        await eventually(lambda: station_row(station_id)["online"] is False)

    asyncio.run(scenario())


def test_ocpp201_pile_boots_heartbeats_reports_status_report_and_event():
    station_id, password = register(("ocpp2.0.1",))

    async def scenario():
        async with charge_point(ChargePoint201, station_id, password, "ocpp2.0.1") as (cp, _):
            boot = await cp.call(call201.BootNotification(
                charging_station={"model": "E2E-201", "vendor_name": "Judge", "firmware_version": "1.0"}, reason="PowerUp"), suppress=False)
            assert boot.status == "Accepted"
            assert_rfc3339(boot.current_time)
            await cp.call(call201.Heartbeat(), suppress=False)
            await cp.call(call201.StatusNotification(timestamp=now(), connector_status="Occupied", evse_id=1, connector_id=1), suppress=False)
            await cp.call(call201.NotifyReport(request_id=1, generated_at=now(), seq_no=0, tbc=False, report_data=[{
                "component": {"name": "ChargingStation"}, "variable": {"name": "Model"},
                "variable_attribute": [{"type": "Actual", "value": "E2E-201", "mutability": "ReadOnly"}]}]), suppress=False)
            await cp.call(call201.NotifyEvent(generated_at=now(), seq_no=0, event_data=[{
                "event_id": 1, "timestamp": now(), "trigger": "Delta", "actual_value": "Occupied",
                "component": {"name": "Connector", "evse": {"id": 1, "connector_id": 1}}, "variable": {"name": "AvailabilityState"},
                "event_notification_type": "HardWiredNotification"}]), suppress=False)
            row = await eventually(lambda: row_when(station_id, lambda r: r["connectors"]))
            assert row["online"] is True and row["protocol"] == "ocpp2.0.1"
            assert row["connectors"][0]["component"] == "evse#1#connector#1"
            assert row["connectors"][0]["status"] == "Occupied"

    asyncio.run(scenario())


def test_a_station_allowed_both_versions_gets_the_one_the_pile_prefers():
    station_id, password = register(("ocpp1.6", "ocpp2.0.1"))

    async def scenario():
        async with pile_socket(station_id, password, ("ocpp2.0.1", "ocpp1.6")) as ws:
            assert ws.subprotocol == "ocpp2.0.1"

    asyncio.run(scenario())


@pytest.mark.parametrize("case", ["unknown station", "wrong password", "other user", "no common protocol"])
def test_handshake_refusals(case):
    station_id, password = register(("ocpp1.6",))
    target, secret, user, protocols, status = {
        "unknown station": ("E2E-NOT-REGISTERED", password, None, ("ocpp1.6",), 404),
        "wrong password": (station_id, password[::-1], None, ("ocpp1.6",), 401),
        "other user": (station_id, password, "SOMEONE-ELSE", ("ocpp1.6",), 401),
        "no common protocol": (station_id, password, None, ("ocpp2.0.1",), 400),
    }[case]

    async def scenario():
        with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
            async with pile_socket(target, secret, protocols, user=user):
                pass
        assert refused.value.response.status_code == status

    asyncio.run(scenario())


async def exchange(ws, frame: str) -> list:
    await ws.send(frame)
    return json.loads(await asyncio.wait_for(ws.recv(), 10))


@pytest.mark.parametrize("protocol,codes", [
    ("ocpp1.6", {"json": "FormationViolation", "missing": "OccurenceConstraintViolation", "type": "TypeConstraintViolation",
                 "length": "PropertyConstraintViolation", "action": "NotImplemented", "early": "SecurityError"}),
    ("ocpp2.0.1", {"json": "RpcFrameworkError", "missing": "OccurenceConstraintViolation", "type": "TypeConstraintViolation",
                   "length": "PropertyConstraintViolation", "action": "NotImplemented", "early": "SecurityError"}),
])
def test_malformed_frames_get_the_versions_callerror_and_the_connection_stays_usable(protocol, codes):
    station_id, password = register((protocol,))
    boot = ('{"chargePointVendor":"Judge","chargePointModel":"%s"}' if protocol == "ocpp1.6"
            else '{"reason":"PowerUp","chargingStation":{"vendorName":"Judge","model":"%s"}}')

    async def scenario():
        async with pile_socket(station_id, password, (protocol,)) as ws:
            early = await exchange(ws, '[2,"e1","Heartbeat",{}]')
            assert early[:3] == [4, "e1", codes["early"]]
            assert (await exchange(ws, "this is not json"))[:3] == [4, "-1", codes["json"]]
            assert (await exchange(ws, '[2,"m1","BootNotification",{}]'))[:3] == [4, "m1", codes["missing"]]
            typed = boot.replace('"%s"', "42")
            assert (await exchange(ws, f'[2,"m2","BootNotification",{typed}]'))[:3] == [4, "m2", codes["type"]]
            assert (await exchange(ws, f'[2,"m3","BootNotification",{boot % ("M" * 21)}]'))[:3] == [4, "m3", codes["length"]]
            assert (await exchange(ws, '[2,"m4","Teleport",{}]'))[:3] == [4, "m4", codes["action"]]
            accepted = await exchange(ws, f'[2,"m5","BootNotification",{boot % "E2E"}]')
            assert accepted[:2] == [3, "m5"] and accepted[2]["status"] == "Accepted"
            assert (await exchange(ws, '[2,"m6","Heartbeat",{}]'))[:2] == [3, "m6"]

    asyncio.run(scenario())


def test_a_pending_station_may_only_boot():
    station_id, password = register(("ocpp1.6",), registration="Pending")

    async def scenario():
        async with charge_point(ChargePoint16, station_id, password, "ocpp1.6") as (cp, _):
            boot = await cp.call(call16.BootNotification(charge_point_model="E2E", charge_point_vendor="Judge"), suppress=False)
            assert boot.status == "Pending"
            with pytest.raises(ocpp_errors.SecurityError):
                await cp.call(call16.Heartbeat(), suppress=False)

    asyncio.run(scenario())


def test_a_reconnect_replaces_the_old_connection():
    station_id, password = register(("ocpp1.6",))

    async def scenario():
        async with charge_point(ChargePoint16, station_id, password, "ocpp1.6") as (first, first_ws):
            await first.call(call16.BootNotification(charge_point_model="E2E", charge_point_vendor="Judge"), suppress=False)
            async with charge_point(ChargePoint16, station_id, password, "ocpp1.6") as (second, _):
                await asyncio.wait_for(first_ws.wait_closed(), 10)
                # The boot survives the reconnect: no new BootNotification is needed.
                await second.call(call16.Heartbeat(), suppress=False)
                row = station_row(station_id)
                assert row["online"] is True
                await asyncio.sleep(0.5)
                assert station_row(station_id)["online"] is True

    asyncio.run(scenario())
