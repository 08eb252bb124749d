"""Operators run their organisation's stations and id tokens through the app API, end to end: an
operator registers a station, the Python `ocpp` pile connects with the password shown once, boots
and reports status; the operator sees it online with its declared connectors and their live
status, and its status history; rotates its password and changes its protocols (the pile feels
both at its next connect); issues a token to a driver, who sees it; and decommissions the station,
which closes its socket and refuses it from then on."""

import asyncio
import subprocess
import uuid

import pytest
import websockets
from ocpp.v201 import call as call201

from conftest import charge_point, eventually, pile_socket, registry
from test_api import http, token_for
from test_commands import Pile16, Pile201, boot201, now


def operator_token(organisation: str) -> str:
    """The one place this test gets an operator's token (how organisations are assigned may change)."""
    return token_for(f"op-{uuid.uuid4().hex[:8]}", ["operator"], organisation=organisation)


async def refused_with(station_id: str, password: str, subprotocol: str) -> int:
    with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
        async with pile_socket(station_id, password, (subprotocol,)):
            pass
    return refused.value.response.status_code


def test_an_operator_runs_a_station_and_a_token_through_the_api():
    organisation = f"org-{uuid.uuid4().hex[:8]}"
    operator = operator_token(organisation)
    station_id = f"OPS-{uuid.uuid4().hex[:10].upper()}"
    status, body, headers = http("POST", "/v1/operator/stations", operator, {
        "stationId": station_id,
        "protocols": ["ocpp2.0.1"],
        "site": "Depot 7",
        "location": {"latitude": -33.91, "longitude": 18.42},
        "connectors": [
            {"evseId": 1, "connectorId": 1, "type": "cCCS2", "maxPowerW": 150000},
            {"evseId": 2, "connectorId": 1, "type": "cType2", "maxPowerW": 22000},
        ],
    })
    assert status == 201, body
    assert headers.get("cache-control", headers.get("Cache-Control")) == "no-store"
    password = body["password"]
    # The id is taken now, also for another organisation.
    assert http("POST", "/v1/operator/stations", operator_token(f"org-{uuid.uuid4().hex[:8]}"),
                {"stationId": station_id, "protocols": ["ocpp1.6"]})[0] == 409
    path = f"/v1/operator/stations/{station_id}"

    async def scenario():
        async with charge_point(Pile201, station_id, password, "ocpp2.0.1") as (cp, _):
            await boot201(cp)
            for evse, status in [(1, "Occupied"), (2, "Available")]:
                await cp.call(call201.StatusNotification(timestamp=now(), connector_status=status, evse_id=evse,
                                                         connector_id=1), suppress=False)

            def seen_live():
                code, view, _ = http("GET", path, operator)
                assert code == 200, view
                statuses = [c["status"] for c in view["connectors"]]
                return view if view["online"] and statuses == ["Occupied", "Available"] else None

            view = await eventually(seen_live)
            assert view["connectors"][0] == {
                "evseId": 1, "connectorId": 1, "type": "cCCS2", "maxPowerW": 150000, "status": "Occupied",
                "since": view["connectors"][0]["since"]}
            assert view["connectors"][1]["type"] == "cType2" and view["connectors"][1]["maxPowerW"] == 22000
            assert view["protocols"] == ["ocpp2.0.1"] and view["boot"]["status"] == "Accepted"
            # Drivers see the same connectors.
            driver_view = http("GET", f"/v1/stations/{station_id}", token_for("someone", ["driver"]))[1]
            assert driver_view["connectors"] == view["connectors"]
            # The organisation's list has it (and only its stations).
            listed = http("GET", "/v1/operator/stations", operator)[1]
            assert [s["stationId"] for s in listed["stations"]] == [station_id]
            assert listed["stations"][0]["online"] is True

            # Status history, newest first, in pages.
            first = http("GET", f"{path}/status-history?limit=1", operator)[1]
            assert first["entries"][0]["evseId"] == 2 and first["entries"][0]["status"] == "Available"
            rest = http("GET", f"{path}/status-history?limit=5&cursor={first['nextCursor']}", operator)[1]
            assert [e["status"] for e in rest["entries"]] == ["Occupied"]
            assert "nextCursor" not in rest
            assert http("GET", f"{path}/status-history?cursor=bm90LWEtY3Vyc29y", operator)[0] == 400

            # A new password: the open connection stays; the old one is refused at the next connect.
            code, rotated, headers = http("POST", f"{path}/password", operator)
            assert code == 200 and headers.get("cache-control", headers.get("Cache-Control")) == "no-store"
            new_password = rotated["password"]
            assert new_password != password
        assert await refused_with(station_id, password, "ocpp2.0.1") == 401
        async with charge_point(Pile201, station_id, new_password, "ocpp2.0.1") as (cp, _):
            await boot201(cp)

        # Protocols: from 2.0.1 to 1.6; a 2.0.1 pile finds no common protocol from then on.
        code, changed, _ = http("PATCH", path, operator, {"protocols": ["ocpp1.6"]})
        assert code == 200 and changed["protocols"] == ["ocpp1.6"], changed
        assert await refused_with(station_id, new_password, "ocpp2.0.1") == 400

        # Decommissioning closes the live socket and refuses the pile from then on.
        async with charge_point(Pile16, station_id, new_password, "ocpp1.6") as (_, ws):
            await eventually(lambda: http("GET", path, operator)[1]["online"])
            assert http("DELETE", path, operator)[0] == 204
            await asyncio.wait_for(ws.wait_closed(), 15)
        assert await refused_with(station_id, new_password, "ocpp1.6") == 404
        assert http("GET", path, operator)[0] == 404
        assert http("GET", "/v1/operator/stations", operator)[1]["stations"] == []

    asyncio.run(scenario())


def test_an_operator_issues_a_token_to_a_driver():
    organisation = f"org-{uuid.uuid4().hex[:8]}"
    operator = operator_token(organisation)
    driver = f"driver-{uuid.uuid4().hex[:8]}"
    tag = f"C{uuid.uuid4().hex[:10].upper()}"
    status, token, _ = http("POST", "/v1/operator/tokens", operator, {"idToken": tag, "type": "ISO14443"})
    assert status == 201, token
    # The driver makes it theirs with the claim code the operator hands over.
    status, offer, _ = http("POST", f"/v1/operator/tokens/{tag}/claim-code", operator)
    assert status == 201, offer
    status, claimed, _ = http("POST", "/v1/me/tokens", token_for(driver, ["driver"]), {"claimCode": offer["claimCode"]})
    assert status == 201, claimed
    mine = http("GET", "/v1/me/tokens", token_for(driver, ["driver"]))[1]
    assert [(t["idToken"], t["type"], t["status"]) for t in mine["tokens"]] == [(tag, "ISO14443", "Accepted")]

    # Another organisation sees nothing of it: the same value is a token of its own registry.
    other = operator_token(f"org-{uuid.uuid4().hex[:8]}")
    assert http("GET", f"/v1/operator/tokens/{tag}", other)[0] == 404
    assert http("PATCH", f"/v1/operator/tokens/{tag}", other, {"status": "Blocked"})[0] == 404
    assert http("POST", "/v1/operator/tokens", other, {"idToken": tag, "status": "Blocked"})[0] == 201
    assert http("GET", f"/v1/operator/tokens/{tag}", operator)[1]["status"] == "Accepted"

    code, blocked, _ = http("PATCH", f"/v1/operator/tokens/{tag.lower()}", operator, {"status": "Blocked"})
    assert code == 200 and blocked["status"] == "Blocked", blocked
    mine = http("GET", "/v1/me/tokens", token_for(driver, ["driver"]))[1]
    assert mine["tokens"][0]["status"] == "Blocked"
    listed = http("GET", "/v1/operator/tokens", operator)[1]
    assert [t["idToken"] for t in listed["tokens"]] == [tag]

    assert http("DELETE", f"/v1/operator/tokens/{tag}", operator)[0] == 204
    assert http("GET", "/v1/me/tokens", token_for(driver, ["driver"]))[1]["tokens"] == []


def test_the_registry_tool_does_the_same_through_the_same_domain():
    organisation = f"org-{uuid.uuid4().hex[:8]}"
    operator = operator_token(organisation)
    station_id = f"CLI-{uuid.uuid4().hex[:10].upper()}"
    password = registry("register", "--id", station_id, "--protocol", "ocpp1.6", "--organisation", organisation,
                        "--connector", "1:sType2:11000")["password"]
    view = http("GET", f"/v1/operator/stations/{station_id}", operator)[1]
    assert view["connectors"] == [{"connectorId": 1, "type": "sType2", "maxPowerW": 11000, "status": "Unknown"}]
    registry("set-protocols", "--id", station_id, "--protocol", "ocpp2.0.1")
    registry("update", "--id", station_id, "--connector", "1/1:cG105:50000", "--site", "Lot 4")
    view = http("GET", f"/v1/operator/stations/{station_id}", operator)[1]
    assert view["protocols"] == ["ocpp2.0.1"] and view["site"] == "Lot 4"
    assert view["connectors"][0]["type"] == "cG105" and view["connectors"][0]["evseId"] == 1
    tag = f"K{uuid.uuid4().hex[:10].upper()}"
    registry("token", "add", "--token", tag, "--organisation", organisation)
    assert http("GET", f"/v1/operator/tokens/{tag}", operator)[0] == 200
    # An organisation id is checked like the API's (it keys a token registry).
    with pytest.raises(subprocess.CalledProcessError):
        registry("token", "add", "--token", tag, "--organisation", "no#such")
    registry("decommission", "--id", station_id)

    async def refused():
        return await refused_with(station_id, password, "ocpp2.0.1")

    assert asyncio.run(refused()) == 404
