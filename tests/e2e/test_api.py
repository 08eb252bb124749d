"""The app API end to end through the stand-in's HTTP API (issue 4, first slice): a driver's bearer
token from the local development issuer finds a station near a point, starts charging on it with
one of their id tokens (the Python `ocpp` library is the pile, answering the remote start and
charging), follows the command, and stops; bad tokens never get through, and one user never
reaches another's objects."""

import asyncio
import base64
import json
import os
import urllib.error
import urllib.request
import uuid

from ocpp.exceptions import GenericError
from ocpp.routing import after, on
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as result16

from conftest import charge_point, eventually, registry
from test_commands import Pile16, now

API_URL = os.environ.get("CSMS_API_URL", "")
ISSUER_URL = os.environ.get("CSMS_ISSUER_URL", "")


def http(method: str, path: str, token: str | None = None, body: dict | None = None, headers: dict | None = None):
    """(status, parsed JSON body or None, response headers) of one request to the API."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(API_URL + path, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
            return response.status, (json.loads(raw) if raw else None), dict(response.headers)
    except urllib.error.HTTPError as e:
        raw = e.read()
        return e.code, (json.loads(raw) if raw else None), dict(e.headers)


def operator_of(organisation: str, subject: str) -> None:
    """Makes `subject` an operator of `organisation` (created if need be) through the admin API:
    memberships, not token claims, say who operates for which organisation."""
    admin = token_for(f"admin-{uuid.uuid4().hex[:6]}", ["admin"])
    status, body, _ = http("POST", "/v1/admin/organisations", admin, {"id": organisation, "name": organisation})
    assert status in (201, 409), body
    status, body, _ = http("PUT", f"/v1/admin/organisations/{organisation}/operators/{subject}", admin)
    assert status == 200, body


def token_for(subject: str, roles=(), organisation=None, lifetime_seconds=None) -> str:
    """A token from the development issuer; with `organisation`, the subject is made its operator."""
    if organisation:
        operator_of(organisation, subject)
    body = {"subject": subject, "roles": list(roles)}
    if lifetime_seconds is not None:
        body["lifetime_seconds"] = lifetime_seconds
    request = urllib.request.Request(ISSUER_URL + "/dev/token", data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["access_token"]


def register_at(latitude: float, longitude: float, organisation: str | None = None) -> tuple[str, str]:
    station_id = f"API-{uuid.uuid4().hex[:12].upper()}"
    args = ["register", "--id", station_id, "--protocol", "ocpp1.6", "--latitude", str(latitude), "--longitude", str(longitude)]
    if organisation:
        args += ["--organisation", organisation]
    return station_id, registry(*args)["password"]


def own_token(driver_token: str, organisation: str | None = None) -> str:
    """A card `organisation` issues (the one whose stations accept it), made the driver's the only
    way there is: its organisation makes a claim code, and the driver redeems it in the app."""
    tag = f"D{uuid.uuid4().hex[:12].upper()}"
    issuer = ["--organisation", organisation] if organisation else []
    registry("token", "add", "--token", tag, *issuer)
    code = registry("token", "claim-code", "--token", tag, *issuer)["claimCode"]
    status, body, _ = http("POST", "/v1/me/tokens", driver_token, {"claimCode": code})
    assert status == 201 and body["idToken"] == tag, body
    return tag


def b64(data: dict | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_a_driver_finds_a_station_starts_and_stops_charging():
    # A point somewhere unlikely to hold other tests' stations, and a station 300 m from it.
    lat, lon = -33.8568 + (uuid.uuid4().int % 1000) / 1e5, 151.2153
    station_id, password = register_at(lat + 0.0027, lon)
    driver = f"driver-{uuid.uuid4().hex[:8]}"
    token = token_for(driver, ["driver"])
    tag = own_token(token)

    async def scenario():
        async with charge_point(Pile16, station_id, password, "ocpp1.6") as (cp, _):
            await cp.call(call16.BootNotification(charge_point_model="E2E", charge_point_vendor="Judge"), suppress=False)
            status, body, _ = http("GET", f"/v1/stations?latitude={lat}&longitude={lon}&radius=1000", token)
            assert status == 200, body
            [found] = [s for s in body["stations"] if s["stationId"] == station_id]
            assert 250 < found["distance"] < 350 and found["online"] is True

            status, started, _ = http("POST", "/v1/charging/start", token, {"stationId": station_id, "idToken": tag, "connector": 1})
            assert status == 202 and started["action"] == "RemoteStartTransaction", started
            path = f"/v1/commands/{station_id}/{started['commandId']}"

            def answered():
                code, record, _ = http("GET", path, token)
                return record if code == 200 and record["state"] == "Answered" else None

            record = await eventually(answered)
            assert record["answer"] == {"status": "Accepted"}
            transaction_id = await asyncio.wait_for(cp.transaction_id, 20)

            status, stopping, _ = http("POST", "/v1/charging/stop", token, {"stationId": station_id, "transactionId": str(transaction_id)})
            assert status == 202 and stopping["action"] == "RemoteStopTransaction", stopping
            await asyncio.wait_for(cp.stopped, 20)
            return transaction_id

    asyncio.run(scenario())

    def completed():
        sessions = registry("sessions", "--id", station_id)["sessions"]
        return sessions[0] if sessions and sessions[0]["completed"] else None

    session = asyncio.run(eventually(completed))
    assert session["energyWh"] == 4000 and session["stopReason"] == "Remote"
    assert session["idToken"] == tag


def operator_token(subject: str, organisation: str) -> str:
    """An operator of `organisation` (the one place that knows how operators get theirs)."""
    return token_for(subject, ["operator"], organisation=organisation)


class PacedPile16(Pile16):
    """Pile16, but each meter value (energy and power) goes out only when the test puts it in
    `readings`, so a driver can watch the live session grow one reading at a time."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.readings: asyncio.Queue = asyncio.Queue()

    @after("RemoteStartTransaction")
    async def start_after_remote_start(self, id_tag, connector_id=None, **_):
        connector = connector_id or 1
        started = await self.call(call16.StartTransaction(connector_id=connector, id_tag=id_tag, meter_start=1_000, timestamp=now()), suppress=False)
        self.transaction_id.set_result(started.transaction_id)
        while (reading := await self.readings.get()) is not None:
            wh, watts = reading
            await self.call(call16.MeterValues(connector_id=connector, transaction_id=started.transaction_id, meter_value=[{
                "timestamp": now(), "sampled_value": [
                    {"value": str(wh), "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
                    {"value": str(watts), "measurand": "Power.Active.Import", "unit": "W"},
                ]}]), suppress=False)


def test_a_driver_watches_their_session_grow_then_finds_it_in_their_history():
    organisation = f"org-{uuid.uuid4().hex[:8]}"
    station_id, password = register_at(-37.81, 144.96, organisation)
    driver = f"driver-{uuid.uuid4().hex[:8]}"
    token = token_for(driver, ["driver"])
    tag = own_token(token, organisation)
    live_path = None

    async def scenario():
        nonlocal live_path
        async with charge_point(PacedPile16, station_id, password, "ocpp1.6") as (cp, _):
            await cp.call(call16.BootNotification(charge_point_model="E2E", charge_point_vendor="Judge"), suppress=False)
            status, started, _ = http("POST", "/v1/charging/start", token, {"stationId": station_id, "idToken": tag, "connector": 1})
            assert status == 202, started
            transaction_id = await asyncio.wait_for(cp.transaction_id, 20)
            live_path = f"/v1/me/sessions/{station_id}/{transaction_id}"

            # The session is live and mine as soon as the start is projected.
            # The series is written before the record's summary: wait for both.
            def live(samples: int, energy=None):
                def check():
                    code, body, _ = http("GET", live_path, token)
                    grown = code == 200 and len(body["samples"]) == samples
                    return body if grown and (energy is None or body["energyWh"] == energy) else None
                return check

            session = await eventually(live(0))
            assert session["state"] == "active" and session["idToken"] == tag, session
            # Each reading the pile sends shows up: the series grows, energy and power follow.
            for k, (wh, watts) in enumerate([(2_000, 7_100), (3_000, 7_200), (4_000, 7_300)], 1):
                await cp.readings.put((wh, watts))
                session = await eventually(live(2 * k, wh - 1_000))
                assert session["energyWh"] == wh - 1_000 and session["latestPowerW"] == watts, session
                assert session["state"] == "active"
            await cp.readings.put(None)

            status, stopping, _ = http("POST", "/v1/charging/stop", token, {"stationId": station_id, "transactionId": str(transaction_id)})
            assert status == 202, stopping
            await asyncio.wait_for(cp.stopped, 20)
            return transaction_id

    transaction_id = asyncio.run(scenario())

    # The completed session is in my history.
    def in_history():
        code, body, _ = http("GET", "/v1/me/sessions?state=completed", token)
        assert code == 200, body
        return [s for s in body["sessions"] if s["stationId"] == station_id]

    [done] = asyncio.run(eventually(in_history))
    assert done["transactionId"] == str(transaction_id) and done["state"] == "completed"
    assert done["energyWh"] == 4_000 and done["stopReason"] == "Remote"
    status, detail, _ = http("GET", live_path, token)
    assert status == 200 and detail["durationSeconds"] >= 0 and len(detail["samples"]) == 6, detail

    # Its station's operators see it; another organisation's operators and other drivers do not.
    own = operator_token(f"op-{uuid.uuid4().hex[:8]}", organisation)
    status, body, _ = http("GET", f"/v1/operator/sessions?stationId={station_id}", own)
    assert status == 200 and [s["transactionId"] for s in body["sessions"]] == [str(transaction_id)], body
    assert http("GET", f"/v1/operator/sessions/{station_id}/{transaction_id}", own)[0] == 200
    other = operator_token(f"op-{uuid.uuid4().hex[:8]}", f"org-{uuid.uuid4().hex[:8]}")
    status, body, _ = http("GET", "/v1/operator/sessions", other)
    assert status == 200 and body["sessions"] == [], body
    assert http("GET", f"/v1/operator/sessions/{station_id}/{transaction_id}", other)[0] == 404
    stranger = token_for(f"driver-{uuid.uuid4().hex[:8]}", ["driver"])
    assert http("GET", live_path, stranger)[0] == 404
    assert http("GET", "/v1/me/sessions", stranger)[1]["sessions"] == []
    # A forged cursor is the client's fault.
    status, body, _ = http("GET", "/v1/me/sessions?cursor=bm90LWEtY3Vyc29y", token)
    assert status == 400 and body["status"] == 400, body


def test_bad_tokens_never_get_through():
    station_id, _ = register_at(48.1, 11.5)
    path = f"/v1/stations/{station_id}"
    good = token_for("reader", ["driver"])
    assert http("GET", path, good)[0] == 200

    header = json.loads(base64.urlsafe_b64decode(good.split(".")[0] + "=="))
    claims = json.loads(base64.urlsafe_b64decode(good.split(".")[1] + "=" * (-len(good.split(".")[1]) % 4)))
    bad = {
        "no token": None,
        "expired": token_for("reader", ["driver"], lifetime_seconds=-300),
        "alg none": f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}.",
        "HS256 with the key id": f"{b64({**header, 'alg': 'HS256'})}.{b64(claims)}.{b64(b'x' * 32)}",
        "tampered claims": f"{good.split('.')[0]}.{b64({**claims, 'sub': 'someone-else'})}.{good.split('.')[2]}",
        "wrong audience": None,  # filled below
        "garbage": "not-a-jwt",
    }
    bad["wrong audience"] = f"{good.split('.')[0]}.{b64({**claims, 'client_id': 'other-app'})}.{good.split('.')[2]}"
    for name, token in bad.items():
        status, body, headers = http("GET", path, token)
        assert status == 401, (name, status, body)
        assert "Bearer" in headers.get("WWW-Authenticate", headers.get("www-authenticate", "")), name
    # The OpenAPI document is public.
    status, document, _ = http("GET", "/openapi.json")
    assert status == 200 and document["openapi"].startswith("3.1") and "/v1/charging/start" in document["paths"]


def test_users_never_reach_each_others_objects():
    station_id, password = register_at(52.52, 13.40, organisation=f"org-{uuid.uuid4().hex[:6]}")
    other_org_station, _ = register_at(52.53, 13.41, organisation=f"org-{uuid.uuid4().hex[:6]}")
    alice, bob = f"alice-{uuid.uuid4().hex[:6]}", f"bob-{uuid.uuid4().hex[:6]}"
    alice_token, bob_token = token_for(alice, ["driver"]), token_for(bob, ["driver"])
    organisation = registry("show", "--id", station_id)["organisation"]
    alice_tag = own_token(alice_token, organisation)
    operator = token_for(f"op-{uuid.uuid4().hex[:6]}", ["operator"], organisation=organisation)

    # Bob cannot charge with Alice's token, and is told nothing about it.
    status, body, _ = http("POST", "/v1/charging/start", bob_token, {"stationId": station_id, "idToken": alice_tag})
    assert status == 404, body
    # A driver is not an operator, an operator is not a driver.
    assert http("GET", f"/v1/operator/stations/{station_id}", alice_token)[0] == 403
    assert http("POST", "/v1/charging/start", operator, {"stationId": station_id, "idToken": alice_tag})[0] == 403
    # The operator sees their organisation's station, not another organisation's.
    assert http("GET", f"/v1/operator/stations/{station_id}", operator)[0] == 200
    assert http("GET", f"/v1/operator/stations/{other_org_station}", operator)[0] == 404
    assert http("GET", f"/v1/operator/stations/{other_org_station}/commands", operator)[0] == 404
    assert http("POST", f"/v1/operator/stations/{other_org_station}/commands", operator,
                {"action": "Reset", "payload": {"type": "Soft"}})[0] == 404

    # Alice's command is hers alone (the station is offline, so it fails at once, which is fine here).
    status, started, _ = http("POST", "/v1/charging/start", alice_token, {"stationId": station_id, "idToken": alice_tag})
    assert status == 202, started
    path = f"/v1/commands/{station_id}/{started['commandId']}"
    asyncio.run(eventually(lambda: http("GET", path, alice_token)[0] == 200))
    assert http("GET", path, bob_token)[0] == 404
    assert http("GET", path, operator)[0] == 404
    # The operator sees it among the station's commands.
    status, listed, _ = http("GET", f"/v1/operator/stations/{station_id}/commands", operator)
    assert status == 200 and [c["commandId"] for c in listed["commands"]] == [started["commandId"]]
    # Invalid input gets a problem document, not a crash.
    status, problem, headers = http("POST", f"/v1/operator/stations/{station_id}/commands", operator,
                                    {"action": "Reset", "payload": {"type": "Sideways"}})
    assert status == 400 and problem["status"] == 400 and "type" in problem["detail"], problem
    assert headers.get("Content-Type", headers.get("content-type")) == "application/problem+json"


class RefusingPile16(Pile16):
    """A pile that rejects remote starts (RemoteStartTransaction.conf Rejected) and answers a
    ChangeAvailability with a CALLERROR, as real piles do when a connector is faulted or busy."""

    @on("RemoteStartTransaction")
    def remote_start(self, id_tag, connector_id=None, **_):
        return result16.RemoteStartTransaction(status="Rejected")

    @after("RemoteStartTransaction")
    async def start_after_remote_start(self, **_):
        pass

    @on("ChangeAvailability")
    def change_availability(self, connector_id, type, **_):
        raise GenericError(description="connector 1 is faulted")


def test_a_rejected_remote_start_and_a_refused_command_read_as_such():
    organisation = f"org-{uuid.uuid4().hex[:8]}"
    station_id, password = register_at(-36.85, 174.76, organisation)
    driver = f"driver-{uuid.uuid4().hex[:8]}"
    token = token_for(driver, ["driver"])
    tag = own_token(token, organisation)
    operator = operator_token(f"op-{uuid.uuid4().hex[:8]}", organisation)

    async def scenario():
        async with charge_point(RefusingPile16, station_id, password, "ocpp1.6") as (cp, _):
            await cp.call(call16.BootNotification(charge_point_model="E2E", charge_point_vendor="Judge"), suppress=False)
            status, started, _ = http("POST", "/v1/charging/start", token, {"stationId": station_id, "idToken": tag, "connector": 1})
            assert status == 202, started
            path = f"/v1/commands/{station_id}/{started['commandId']}"
            record = await eventually(lambda: (lambda r: r if r[0] == 200 and r[1]["state"] != "Sent" and r[1]["state"] != "Queued" else None)(http("GET", path, token)))
            # The pile's answer is an answer: the start was Rejected, no error of the command itself.
            assert record[1]["state"] == "Answered" and record[1]["answer"] == {"status": "Rejected"}, record
            assert "errorCode" not in record[1]

            status, submitted, _ = http("POST", f"/v1/operator/stations/{station_id}/commands", operator,
                                        {"action": "ChangeAvailability", "payload": {"connectorId": 1, "type": "Inoperative"}})
            assert status == 202, submitted
            listed = f"/v1/operator/stations/{station_id}/commands"

            def refused():
                commands = http("GET", listed, operator)[1]["commands"]
                return next((c for c in commands if c["commandId"] == submitted["commandId"] and c["state"] == "Refused"), None)

            command = await eventually(refused)
            assert command["errorCode"] == "GenericError" and command["errorDescription"] == "connector 1 is faulted", command

    asyncio.run(scenario())
    # No session came of the rejected start.
    assert registry("sessions", "--id", station_id)["sessions"] == []
