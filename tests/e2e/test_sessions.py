"""Charging sessions end to end (issue 3, first part): the Python `ocpp` library as the pile
authorizes, starts, sends three meter values and stops, in 1.6 and 2.0.1; the session record built
by the sessions function (through the SQS FIFO queue) shows the right energy and duration."""

import asyncio
import uuid
from datetime import datetime, timedelta, timezone

from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16 import call as call16
from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v201 import call as call201

from conftest import charge_point, eventually, register, registry


def at(base: datetime, minutes: int) -> str:
    return (base + timedelta(minutes=minutes)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def add_token(status="Accepted") -> str:
    token = f"T{uuid.uuid4().hex[:12].upper()}"
    registry("token", "add", "--token", token, "--status", status)
    return token


def sessions_of(station_id: str) -> list:
    return registry("sessions", "--id", station_id)["sessions"]


def completed_session(station_id: str):
    done = [s for s in sessions_of(station_id) if s["completed"]]
    return done[0] if done else None


def test_ocpp16_authorize_start_three_meter_values_stop():
    station_id, password = register(("ocpp1.6",))
    tag, unknown = add_token(), f"U{uuid.uuid4().hex[:10].upper()}"
    base = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=1)

    async def scenario():
        async with charge_point(ChargePoint16, station_id, password, "ocpp1.6") as (cp, _):
            await cp.call(call16.BootNotification(charge_point_model="E2E", charge_point_vendor="Judge"), suppress=False)
            assert (await cp.call(call16.Authorize(id_tag=tag), suppress=False)).id_tag_info["status"] == "Accepted"
            assert (await cp.call(call16.Authorize(id_tag=unknown), suppress=False)).id_tag_info["status"] == "Invalid"
            start = call16.StartTransaction(connector_id=1, id_tag=tag, meter_start=10_000, timestamp=at(base, 0))
            started = await cp.call(start, suppress=False)
            assert started.id_tag_info["status"] == "Accepted" and started.transaction_id > 0
            # The same StartTransaction again (the pile missed our answer) gets the same id.
            assert (await cp.call(start, suppress=False)).transaction_id == started.transaction_id
            for minute, wh in [(10, 12_000), (20, 14_500), (30, 16_000)]:
                await cp.call(call16.MeterValues(connector_id=1, transaction_id=started.transaction_id, meter_value=[{
                    "timestamp": at(base, minute),
                    "sampled_value": [
                        {"value": str(wh), "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
                        {"value": "11.2", "measurand": "Power.Active.Import", "unit": "kW"},
                    ]}]), suppress=False)
            stopped = await cp.call(call16.StopTransaction(meter_stop=17_500, timestamp=at(base, 40), transaction_id=started.transaction_id,
                                                           reason="EVDisconnected", id_tag=tag), suppress=False)
            assert stopped.id_tag_info["status"] == "Accepted"
            # A stop for a transaction we never started is still answered (the CSMS cannot refuse a stop).
            await cp.call(call16.StopTransaction(meter_stop=1, timestamp=at(base, 41), transaction_id=987_654_321), suppress=False)
            return started.transaction_id

    transaction_id = asyncio.run(scenario())
    session = asyncio.run(eventually(lambda: completed_session(station_id)))
    assert session["transactionId"] == str(transaction_id) or session["transactionId"] == transaction_id
    assert session["energyWh"] == 7500
    assert session["durationSeconds"] == 40 * 60
    assert session["stopReason"] == "EVDisconnected"
    assert session["idToken"] == tag
    assert session["readings"] >= 6
    # The stop for a transaction we never started is kept for the operator, with what it said.
    anomalies = registry("anomalies", "--id", station_id)["anomalies"]
    assert len(anomalies) == 1 and "987654321" in anomalies[0]["anomaly"] and "meter_stop_wh: 1" in anomalies[0]["anomaly"]


def test_ocpp201_transaction_events_with_a_duplicate():
    station_id, password = register(("ocpp2.0.1",))
    card = add_token()
    base = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=1)
    tx = f"tx-{uuid.uuid4().hex[:8]}"
    id_token = {"id_token": card, "type": "ISO14443"}

    def energy(minute, wh, context="Sample.Periodic"):
        return [{"timestamp": at(base, minute), "sampled_value": [
            {"value": wh, "measurand": "Energy.Active.Import.Register", "context": context, "unit_of_measure": {"unit": "Wh"}}]}]

    def event(kind, seq, minute, trigger, **extra):
        return call201.TransactionEvent(event_type=kind, timestamp=at(base, minute), trigger_reason=trigger, seq_no=seq,
                                        transaction_info={"transaction_id": tx, **extra.pop("info", {})}, **extra)

    async def scenario():
        async with charge_point(ChargePoint201, station_id, password, "ocpp2.0.1") as (cp, _):
            await cp.call(call201.BootNotification(charging_station={"model": "E2E", "vendor_name": "Judge"}, reason="PowerUp"), suppress=False)
            auth = await cp.call(call201.Authorize(id_token=id_token), suppress=False)
            assert auth.id_token_info["status"] == "Accepted"
            started = await cp.call(event("Started", 0, 0, "Authorized", id_token=id_token, evse={"id": 1, "connector_id": 1},
                                          meter_value=energy(0, 20_000, "Transaction.Begin")), suppress=False)
            assert started.id_token_info["status"] == "Accepted"
            for seq, (minute, wh) in enumerate([(10, 22_000), (20, 24_000), (30, 26_000)], start=1):
                update = event("Updated", seq, minute, "MeterValuePeriodic", meter_value=energy(minute, wh))
                await cp.call(update, suppress=False)
            await cp.call(update, suppress=False)  # a retried Updated: accepted, ignored
            await cp.call(event("Ended", 4, 45, "EVCommunicationLost", info={"stopped_reason": "EVDisconnected"},
                                meter_value=energy(45, 27_000, "Transaction.End")), suppress=False)

    asyncio.run(scenario())
    session = asyncio.run(eventually(lambda: completed_session(station_id)))
    assert session["energyWh"] == 7000
    assert session["durationSeconds"] == 45 * 60
    assert session["stopReason"] == "EVDisconnected"
    assert session["missingSeqNos"] == []


def test_a_reconnect_in_the_middle_of_a_session_loses_nothing():
    station_id, password = register(("ocpp1.6",))
    tag = add_token()
    base = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=1)

    def meter(transaction_id, minute, wh):
        return call16.MeterValues(connector_id=1, transaction_id=transaction_id, meter_value=[{
            "timestamp": at(base, minute), "sampled_value": [{"value": str(wh), "measurand": "Energy.Active.Import.Register", "unit": "Wh"}]}])

    async def first_half():
        async with charge_point(ChargePoint16, station_id, password, "ocpp1.6") as (cp, _):
            await cp.call(call16.BootNotification(charge_point_model="E2E", charge_point_vendor="Judge"), suppress=False)
            started = await cp.call(call16.StartTransaction(connector_id=2, id_tag=tag, meter_start=0, timestamp=at(base, 0)), suppress=False)
            await cp.call(meter(started.transaction_id, 10, 3_000), suppress=False)
            return started.transaction_id

    async def second_half(transaction_id):
        # A new socket (API Gateway ends every one after 2 hours), no new boot, the same session.
        async with charge_point(ChargePoint16, station_id, password, "ocpp1.6") as (cp, _):
            await cp.call(meter(transaction_id, 20, 6_000), suppress=False)
            await cp.call(call16.StopTransaction(meter_stop=9_000, timestamp=at(base, 30), transaction_id=transaction_id), suppress=False)

    transaction_id = asyncio.run(first_half())
    asyncio.run(second_half(transaction_id))
    session = asyncio.run(eventually(lambda: completed_session(station_id)))
    # Both readings arrived: the one sent before and the one sent after the reconnect.
    assert (session["energyWh"], session["durationSeconds"], session["readings"]) == (9000, 1800, 2)
    assert session["stopReason"] == "Local"  # 1.6: a stop without a reason is a local stop


def test_offline_queued_transaction_events_are_accepted_in_seqno_order():
    station_id, password = register(("ocpp2.0.1",))
    card = add_token()
    base = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=1)  # a day-old offline queue
    tx = f"tx-{uuid.uuid4().hex[:8]}"

    def event(kind, seq, minute, wh, **extra):
        context = {"Started": "Transaction.Begin", "Ended": "Transaction.End"}.get(kind, "Sample.Periodic")
        return call201.TransactionEvent(
            event_type=kind, timestamp=at(base, minute), trigger_reason="MeterValuePeriodic", seq_no=seq, offline=True,
            transaction_info={"transaction_id": tx, **extra.pop("info", {})},
            meter_value=[{"timestamp": at(base, minute), "sampled_value": [
                {"value": wh, "measurand": "Energy.Active.Import.Register", "context": context}]}], **extra)

    async def scenario():
        async with charge_point(ChargePoint201, station_id, password, "ocpp2.0.1") as (cp, _):
            await cp.call(call201.BootNotification(charging_station={"model": "E2E", "vendor_name": "Judge"}, reason="PowerUp"), suppress=False)
            # Replayed out of order, as a station's offline queue may after a reconnect.
            for e in [event("Updated", 2, 20, 2_000), event("Started", 0, 0, 0, id_token={"id_token": card, "type": "ISO14443"},
                      evse={"id": 1, "connector_id": 1}), event("Ended", 3, 30, 3_500, info={"stopped_reason": "Local"}),
                      event("Updated", 1, 10, 1_000)]:
                await cp.call(e, suppress=False)

    asyncio.run(scenario())
    session = asyncio.run(eventually(lambda: completed_session(station_id)))
    assert (session["energyWh"], session["durationSeconds"], session["offline"]) == (3500, 1800, True)
    assert session["missingSeqNos"] == []
