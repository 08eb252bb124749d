"""Remote commands end to end (issue 3): `csms-registry command` submits a CALL to the commands
queue, the commands function sends it through `@connections` to the pile, and the pile's
CALLRESULT or CALLERROR, arriving on `$default`, completes it. The Python `ocpp` library is the
pile: it validates every CALL we send against the official OCA schemas and answers with its own
validated responses. Raw WebSockets play the piles that misbehave."""

import asyncio
import json
import subprocess
import time
import uuid
from datetime import datetime, timezone

from ocpp.routing import after, on
from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as result16
from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as result201

from conftest import REGISTRY, charge_point, eventually, pile_socket, register, registry


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def add_token() -> str:
    token = f"T{uuid.uuid4().hex[:12].upper()}"
    registry("token", "add", "--token", token)
    return token


def command(station_id: str, action: str, payload: dict | None = None, timeout: int = 30) -> tuple[int, dict]:
    """Runs `csms-registry command ... --wait`; returns its exit code and the command record."""
    out = subprocess.run(
        [REGISTRY, "--json", "command", "--id", station_id, action, json.dumps(payload or {}), "--timeout", str(timeout), "--wait"],
        capture_output=True, text=True, timeout=timeout + 60,
    )
    record = json.loads(out.stdout) if out.stdout.strip() else {"stderr": out.stderr}
    return out.returncode, record


async def command_async(*args, **kwargs) -> tuple[int, dict]:
    return await asyncio.to_thread(command, *args, **kwargs)


def sessions_of(station_id: str) -> list:
    return registry("sessions", "--id", station_id)["sessions"]


def completed_session(station_id: str):
    done = [s for s in sessions_of(station_id) if s["completed"]]
    return done[0] if done else None


# --- 1.6 ---------------------------------------------------------------------------------------


class Pile16(ChargePoint16):
    """A 1.6 pile that starts a transaction when told to remotely, and stops it likewise."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.transaction_id = asyncio.get_event_loop().create_future()
        self.stopped = asyncio.get_event_loop().create_future()

    @on("RemoteStartTransaction")
    def remote_start(self, id_tag, connector_id=None, **_):
        return result16.RemoteStartTransaction(status="Accepted")

    @after("RemoteStartTransaction")
    async def start_after_remote_start(self, id_tag, connector_id=None, **_):
        started = await self.call(call16.StartTransaction(connector_id=connector_id or 1, id_tag=id_tag, meter_start=1_000, timestamp=now()), suppress=False)
        for wh in (2_000, 3_000, 4_000):
            await self.call(call16.MeterValues(connector_id=connector_id or 1, transaction_id=started.transaction_id, meter_value=[{
                "timestamp": now(), "sampled_value": [{"value": str(wh), "measurand": "Energy.Active.Import.Register", "unit": "Wh"}]}]), suppress=False)
        self.transaction_id.set_result(started.transaction_id)

    @on("RemoteStopTransaction")
    def remote_stop(self, transaction_id, **_):
        return result16.RemoteStopTransaction(status="Accepted")

    @after("RemoteStopTransaction")
    async def stop_after_remote_stop(self, transaction_id, **_):
        await self.call(call16.StopTransaction(meter_stop=5_000, timestamp=now(), transaction_id=transaction_id, reason="Remote"), suppress=False)
        self.stopped.set_result(True)

    @on("Reset")
    def reset(self, type, **_):
        return result16.Reset(status="Accepted")

    @on("UnlockConnector")
    def unlock(self, connector_id, **_):
        return result16.UnlockConnector(status="Unlocked")

    @on("ChangeAvailability")
    def change_availability(self, connector_id, type, **_):
        return result16.ChangeAvailability(status="Scheduled")

    @on("ChangeConfiguration")
    def change_configuration(self, key, value, **_):
        return result16.ChangeConfiguration(status="Accepted")

    @on("GetConfiguration")
    def get_configuration(self, key=None, **_):
        return result16.GetConfiguration(configuration_key=[{"key": "HeartbeatInterval", "readonly": False, "value": "300"}], unknown_key=["Nope"])

    @on("ClearCache")
    def clear_cache(self, **_):
        return result16.ClearCache(status="Accepted")

    @on("TriggerMessage")
    def trigger_message(self, requested_message, **_):
        return result16.TriggerMessage(status="Accepted")

    @on("DataTransfer")
    def data_transfer(self, vendor_id, **_):
        return result16.DataTransfer(status="Accepted", data="pong")


def test_ocpp16_remote_start_and_stop_from_the_registry_are_linked_to_the_session():
    station_id, password = register(("ocpp1.6",))
    tag = add_token()

    async def scenario():
        async with charge_point(Pile16, station_id, password, "ocpp1.6") as (cp, _):
            await cp.call(call16.BootNotification(charge_point_model="E2E", charge_point_vendor="Judge"), suppress=False)
            code, start = await command_async(station_id, "RemoteStartTransaction", {"idTag": tag, "connectorId": 1})
            assert code == 0, start
            assert start["state"] == "Answered" and start["answer"] == {"status": "Accepted"}
            transaction_id = await asyncio.wait_for(cp.transaction_id, 20)
            code, stop = await command_async(station_id, "RemoteStopTransaction", {"transactionId": transaction_id})
            assert code == 0 and stop["answer"] == {"status": "Accepted"}, stop
            await asyncio.wait_for(cp.stopped, 20)
            return start["commandId"], stop["commandId"]

    start_id, stop_id = asyncio.run(scenario())
    session = asyncio.run(eventually(lambda: completed_session(station_id)))
    assert session["energyWh"] == 4000
    assert session["stopReason"] == "Remote"
    assert session["remoteStartCommand"] == start_id
    assert session["remoteStopCommand"] == stop_id


def test_ocpp16_every_core_command_reaches_the_pile_and_its_answer_is_recorded():
    station_id, password = register(("ocpp1.6",))
    cases = [
        ("Reset", {"type": "Soft"}, {"status": "Accepted"}),
        ("UnlockConnector", {"connectorId": 1}, {"status": "Unlocked"}),
        ("ChangeAvailability", {"connectorId": 0, "type": "Inoperative"}, {"status": "Scheduled"}),
        ("ChangeConfiguration", {"key": "HeartbeatInterval", "value": "120"}, {"status": "Accepted"}),
        ("GetConfiguration", {"key": ["HeartbeatInterval", "Nope"]},
         {"configurationKey": [{"key": "HeartbeatInterval", "readonly": False, "value": "300"}], "unknownKey": ["Nope"]}),
        ("ClearCache", {}, {"status": "Accepted"}),
        ("TriggerMessage", {"requestedMessage": "StatusNotification", "connectorId": 1}, {"status": "Accepted"}),
        ("DataTransfer", {"vendorId": "com.example", "messageId": "ping", "data": "ping"}, {"status": "Accepted", "data": "pong"}),
    ]

    async def scenario():
        async with charge_point(Pile16, station_id, password, "ocpp1.6") as (cp, _):
            await cp.call(call16.BootNotification(charge_point_model="E2E", charge_point_vendor="Judge"), suppress=False)
            for action, payload, expected in cases:
                code, record = await command_async(station_id, action, payload)
                assert code == 0, (action, record)
                assert record["state"] == "Answered" and record["answer"] == expected, (action, record)

    asyncio.run(scenario())
    listed = registry("commands", "--id", station_id)["commands"]
    assert [c["action"] for c in listed] == [action for action, _, _ in cases]


# --- 2.0.1 -------------------------------------------------------------------------------------


class Pile201(ChargePoint201):
    """A 2.0.1 pile that starts a transaction on RequestStartTransaction, echoing remoteStartId."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.transaction_id = f"tx-{uuid.uuid4().hex[:8]}"
        self.started = asyncio.get_event_loop().create_future()
        self.stopped = asyncio.get_event_loop().create_future()
        self.seq = 0

    async def event(self, kind, trigger, **extra):
        info = {"transaction_id": self.transaction_id, **extra.pop("info", {})}
        await self.call(call201.TransactionEvent(event_type=kind, timestamp=now(), trigger_reason=trigger, seq_no=self.seq,
                                                 transaction_info=info, **extra), suppress=False)
        self.seq += 1

    @staticmethod
    def energy(wh, context="Sample.Periodic"):
        return [{"timestamp": now(), "sampled_value": [
            {"value": wh, "measurand": "Energy.Active.Import.Register", "context": context, "unit_of_measure": {"unit": "Wh"}}]}]

    @on("RequestStartTransaction")
    def request_start(self, id_token, remote_start_id, **_):
        return result201.RequestStartTransaction(status="Accepted")

    @after("RequestStartTransaction")
    async def start_after_request(self, id_token, remote_start_id, evse_id=None, **_):
        await self.event("Started", "RemoteStart", id_token=id_token, evse={"id": evse_id or 1, "connector_id": 1},
                         info={"remote_start_id": remote_start_id}, meter_value=self.energy(10_000, "Transaction.Begin"))
        for wh in (11_000, 12_000, 13_000):
            await self.event("Updated", "MeterValuePeriodic", meter_value=self.energy(wh))
        self.started.set_result(self.transaction_id)

    @on("RequestStopTransaction")
    def request_stop(self, transaction_id, **_):
        return result201.RequestStopTransaction(status="Accepted")

    @after("RequestStopTransaction")
    async def stop_after_request(self, transaction_id, **_):
        await self.event("Ended", "RemoteStop", info={"stopped_reason": "Remote"}, meter_value=self.energy(14_000, "Transaction.End"))
        self.stopped.set_result(True)

    @on("Reset")
    def reset(self, type, **_):
        return result201.Reset(status="Scheduled")

    @on("UnlockConnector")
    def unlock(self, evse_id, connector_id, **_):
        return result201.UnlockConnector(status="Unlocked")

    @on("ChangeAvailability")
    def change_availability(self, operational_status, **_):
        return result201.ChangeAvailability(status="Accepted")

    @on("SetVariables")
    def set_variables(self, set_variable_data, **_):
        return result201.SetVariables(set_variable_result=[
            {"attribute_status": "Accepted", "component": d["component"], "variable": d["variable"]} for d in set_variable_data])

    @on("GetVariables")
    def get_variables(self, get_variable_data, **_):
        return result201.GetVariables(get_variable_result=[
            {"attribute_status": "Accepted", "attribute_value": "300", "component": d["component"], "variable": d["variable"]}
            for d in get_variable_data])

    @on("GetBaseReport")
    def get_base_report(self, request_id, report_base, **_):
        return result201.GetBaseReport(status="Accepted")

    @on("TriggerMessage")
    def trigger_message(self, requested_message, **_):
        return result201.TriggerMessage(status="Accepted")

    @on("ClearCache")
    def clear_cache(self, **_):
        return result201.ClearCache(status="Accepted")


async def boot201(cp):
    await cp.call(call201.BootNotification(charging_station={"model": "E2E", "vendor_name": "Judge"}, reason="PowerUp"), suppress=False)


def test_ocpp201_request_start_and_stop_are_linked_by_remote_start_id():
    station_id, password = register(("ocpp2.0.1",))
    card = add_token()

    async def scenario():
        async with charge_point(Pile201, station_id, password, "ocpp2.0.1") as (cp, _):
            await boot201(cp)
            # No remoteStartId given: the CSMS picks one, and the pile echoes it.
            code, start = await command_async(station_id, "RequestStartTransaction",
                                              {"idToken": {"idToken": card, "type": "ISO14443"}, "evseId": 1})
            assert code == 0 and start["answer"]["status"] == "Accepted", start
            assert start["request"]["remoteStartId"] > 0
            transaction_id = await asyncio.wait_for(cp.started, 20)
            code, stop = await command_async(station_id, "RequestStopTransaction", {"transactionId": transaction_id})
            assert code == 0 and stop["answer"]["status"] == "Accepted", stop
            await asyncio.wait_for(cp.stopped, 20)
            return start, stop["commandId"]

    start, stop_id = asyncio.run(scenario())
    session = asyncio.run(eventually(lambda: completed_session(station_id)))
    assert session["energyWh"] == 4000
    assert session["startReason"] == "RemoteStart" and session["stopReason"] == "Remote"
    assert session["remoteStartId"] == start["request"]["remoteStartId"]
    assert session["remoteStartCommand"] == start["commandId"]
    assert session["remoteStopCommand"] == stop_id


def test_ocpp201_every_command_reaches_the_pile_and_its_answer_is_recorded():
    station_id, password = register(("ocpp2.0.1",))
    component, variable = {"name": "OCPPCommCtrlr"}, {"name": "HeartbeatInterval"}
    cases = [
        ("Reset", {"type": "OnIdle"}, {"status": "Scheduled"}),
        ("UnlockConnector", {"evseId": 1, "connectorId": 1}, {"status": "Unlocked"}),
        ("ChangeAvailability", {"operationalStatus": "Inoperative", "evse": {"id": 1}}, {"status": "Accepted"}),
        ("SetVariables", {"setVariableData": [{"attributeValue": "120", "component": component, "variable": variable}]},
         {"setVariableResult": [{"attributeStatus": "Accepted", "component": component, "variable": variable}]}),
        ("GetVariables", {"getVariableData": [{"component": component, "variable": variable}]},
         {"getVariableResult": [{"attributeStatus": "Accepted", "attributeValue": "300", "component": component, "variable": variable}]}),
        ("GetBaseReport", {"requestId": 7, "reportBase": "SummaryInventory"}, {"status": "Accepted"}),
        ("TriggerMessage", {"requestedMessage": "Heartbeat"}, {"status": "Accepted"}),
        ("ClearCache", {}, {"status": "Accepted"}),
    ]

    async def scenario():
        async with charge_point(Pile201, station_id, password, "ocpp2.0.1") as (cp, _):
            await boot201(cp)
            for action, payload, expected in cases:
                code, record = await command_async(station_id, action, payload)
                assert code == 0, (action, record)
                assert record["state"] == "Answered" and record["answer"] == expected, (action, record)

    asyncio.run(scenario())


# --- piles that misbehave (raw WebSockets) -----------------------------------------------------


def submit(station_id: str, action: str, payload: dict, timeout: int = 30) -> str:
    return registry("command", "--id", station_id, action, json.dumps(payload), "--timeout", str(timeout))["commandId"]


def record_of(station_id: str, command_id: str) -> dict:
    return next(c for c in registry("commands", "--id", station_id)["commands"] if c["commandId"] == command_id)


def final(station_id: str, command_id: str):
    record = record_of(station_id, command_id)
    return record if record["state"] in ("Answered", "Refused", "Failed") else None


async def next_call(ws) -> list:
    frame = json.loads(await asyncio.wait_for(ws.recv(), 20))
    assert frame[0] == 2, frame
    return frame


def test_a_pile_that_hangs_up_before_answering_fails_the_command_at_once():
    station_id, password = register(("ocpp1.6",))

    async def scenario():
        async with pile_socket(station_id, password) as ws:
            command_id = await asyncio.to_thread(submit, station_id, "Reset", {"type": "Hard"}, 60)
            frame = await next_call(ws)
            assert frame[1:] == [command_id, "Reset", {"type": "Hard"}]
        began = time.monotonic()
        record = await eventually(lambda: final(station_id, command_id))
        return record, time.monotonic() - began

    record, _ = asyncio.run(scenario())
    # Failed by $disconnect, not by the 60 s deadline (eventually() gives up after 20 s).
    assert record["state"] == "Failed" and record["failure"]["reason"] == "Disconnected", record
    assert "disconnected before answering" in record["failure"]["description"]


def test_a_silent_pile_fails_the_command_at_its_deadline():
    station_id, password = register(("ocpp1.6",))

    async def scenario():
        async with pile_socket(station_id, password) as ws:
            command_id = await asyncio.to_thread(submit, station_id, "ClearCache", {}, 3)
            await next_call(ws)
            # Stay connected and say nothing: the delayed deadline check fails the command.
            return await eventually(lambda: final(station_id, command_id), timeout=30)

    record = asyncio.run(scenario())
    assert record["state"] == "Failed" and record["failure"]["reason"] == "DeadlineExpired", record


def test_an_offline_station_fails_the_command_unsent():
    station_id, _ = register(("ocpp1.6",))
    code, record = command(station_id, "Reset", {"type": "Soft"}, timeout=10)
    assert code != 0
    assert record["state"] == "Failed" and record["failure"]["reason"] == "StationOffline", record


def test_commands_wait_for_the_outstanding_one_and_keep_their_order():
    station_id, password = register(("ocpp1.6",))

    async def scenario():
        async with pile_socket(station_id, password) as ws:
            first = await asyncio.to_thread(submit, station_id, "ClearCache", {})
            second = await asyncio.to_thread(submit, station_id, "Reset", {"type": "Soft"})
            call = await next_call(ws)
            assert call[1] == first
            await ws.send(json.dumps([3, first, {"status": "Accepted"}]))
            call = await next_call(ws)
            assert call[1:] == [second, "Reset", {"type": "Soft"}]
            # That nothing is sent while a CALL is outstanding is proven where it can be without
            # waiting for nothing to come: the commands handler's test of a busy station
            # (functions/commands/tests/events.rs). Here, the order.
            # A CALLERROR completes the command as refused, with the pile's words.
            await ws.send(json.dumps([4, second, "NotSupported", "no resets here", {}]))
            return first, second

    first, second = asyncio.run(scenario())
    assert asyncio.run(eventually(lambda: final(station_id, first)))["state"] == "Answered"
    refused = asyncio.run(eventually(lambda: final(station_id, second)))
    assert refused["state"] == "Refused" and refused["error"] == {"code": "NotSupported", "description": "no resets here"}


def test_an_answer_that_breaks_the_schema_is_recorded_as_such_and_a_duplicate_changes_nothing():
    station_id, password = register(("ocpp1.6",))

    async def scenario():
        async with pile_socket(station_id, password) as ws:
            command_id = await asyncio.to_thread(submit, station_id, "Reset", {"type": "Soft"})
            await next_call(ws)
            await ws.send(json.dumps([3, command_id, {"status": "Maybe"}]))
            record = await eventually(lambda: final(station_id, command_id))
            # A second answer for the same id (and one for an id we never sent) changes nothing.
            await ws.send(json.dumps([3, command_id, {"status": "Accepted"}]))
            await ws.send(json.dumps([3, "no-such-command", {"status": "Accepted"}]))
            # Instead of waiting a while for nothing to happen: csms-local hands a connection's frames
            # to `$default` one at a time, in order, and `$default` records answers before it
            # returns, so once a CALL sent after them is answered, they were handled.
            await ws.send(json.dumps([2, "after-the-duplicates", "Heartbeat", {}]))
            reply = json.loads(await asyncio.wait_for(ws.recv(), 20))
            assert reply[0] in (3, 4) and reply[1] == "after-the-duplicates", reply
            return record, record_of(station_id, command_id)

    record, later = asyncio.run(scenario())
    assert record["state"] == "Refused", record
    assert record["error"]["code"] == "PropertyConstraintViolation"
    assert record["error"]["description"].startswith("invalid CALLRESULT")
    assert later == record


def test_a_request_that_breaks_the_schema_is_refused_before_it_is_queued():
    station_id, _ = register(("ocpp1.6",))
    out = subprocess.run([REGISTRY, "command", "--id", station_id, "RemoteStartTransaction", json.dumps({"idTag": "X" * 21})],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode != 0 and "idTag" in out.stderr, out.stderr
    assert registry("commands", "--id", station_id)["commands"] == []


# --- local authorization lists -----------------------------------------------------------------


class ListPile16(ChargePoint16):
    """A 1.6 pile that keeps a local list as the spec says, or answers VersionMismatch when told to."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.version, self.entries, self.updates, self.mismatch_next = 0, {}, [], False

    @on("SendLocalList")
    def send_local_list(self, list_version, update_type, local_authorization_list=None, **_):
        self.updates.append((update_type, list_version, len(local_authorization_list or [])))
        if self.mismatch_next:
            self.mismatch_next = False
            return result16.SendLocalList(status="VersionMismatch")
        if update_type == "Full":
            self.entries = {}
        for entry in local_authorization_list or []:
            if entry.get("id_tag_info"):
                self.entries[entry["id_tag"]] = entry["id_tag_info"]["status"]
            else:
                self.entries.pop(entry["id_tag"], None)
        self.version = list_version
        return result16.SendLocalList(status="Accepted")

    @on("GetLocalListVersion")
    def get_local_list_version(self, **_):
        return result16.GetLocalListVersion(list_version=self.version)


def local_list(station_id: str, *args: str) -> dict:
    out = subprocess.run([REGISTRY, "--json", "local-list", "--id", station_id, *args, "--wait"],
                         capture_output=True, text=True, timeout=90)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_ocpp16_local_list_full_then_differential_updates_with_versions():
    station_id, password = register(("ocpp1.6",))
    a, b, c = add_token(), add_token(), add_token()
    registry("token", "add", "--token", b, "--status", "Blocked")

    async def scenario():
        async with charge_point(ListPile16, station_id, password, "ocpp1.6") as (cp, _):
            # The CSMS does not know the pile's list yet: the first update is full.
            first = await asyncio.to_thread(local_list, station_id, "--set", a, b)
            assert first["answer"] == {"status": "Accepted"} and first["request"]["updateType"] == "Full"
            await asyncio.to_thread(local_list, station_id, "--add", c)
            await asyncio.to_thread(local_list, station_id, "--remove", a)
            assert cp.updates == [("Full", 1, 2), ("Differential", 2, 1), ("Differential", 3, 1)]
            assert cp.entries == {b: "Blocked", c: "Accepted"} and cp.version == 3
            code, version = await command_async(station_id, "GetLocalListVersion")
            assert code == 0 and version["answer"] == {"listVersion": 3}
            # After a VersionMismatch the CSMS no longer trusts its picture: the next update is full.
            cp.mismatch_next = True
            mismatch = await asyncio.to_thread(local_list, station_id, "--add", a)
            assert mismatch["answer"] == {"status": "VersionMismatch"}
            repaired = await asyncio.to_thread(local_list, station_id, "--add", a)
            assert repaired["request"]["updateType"] == "Full"
            assert cp.entries == {a: "Accepted", b: "Blocked", c: "Accepted"} and cp.version == repaired["request"]["listVersion"]

    asyncio.run(scenario())


class ListPile201(ChargePoint201):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.received = []

    @on("SendLocalList")
    def send_local_list(self, version_number, update_type, local_authorization_list=None, **_):
        self.received.append((version_number, update_type, local_authorization_list))
        return result201.SendLocalList(status="Accepted")

    @on("GetLocalListVersion")
    def get_local_list_version(self, **_):
        return result201.GetLocalListVersion(version_number=self.received[-1][0] if self.received else 0)


def test_ocpp201_local_list_carries_typed_tokens():
    station_id, password = register(("ocpp2.0.1",))
    card = f"C{uuid.uuid4().hex[:12].upper()}"
    registry("token", "add", "--token", card, "--type", "ISO14443")

    async def scenario():
        async with charge_point(ListPile201, station_id, password, "ocpp2.0.1") as (cp, _):
            await boot201(cp)
            done = await asyncio.to_thread(local_list, station_id, "--set", card)
            assert done["answer"] == {"status": "Accepted"}
            [(version, kind, entries)] = cp.received
            assert (version, kind) == (1, "Full")
            assert entries == [{"id_token": {"id_token": card, "type": "ISO14443"}, "id_token_info": {"status": "Accepted"}}]
            code, answer = await command_async(station_id, "GetLocalListVersion")
            assert code == 0 and answer["answer"] == {"versionNumber": 1}

    asyncio.run(scenario())
