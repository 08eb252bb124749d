"""Tenancy and attribution end to end (issue 10 items 15-18): the Python `ocpp` library is the pile,
the app API the operators' and drivers' door. A token works only at its organisation's stations
(both versions); a token registration says nothing about other organisations; a token is a
driver's only when they redeem its claim code, and an operator cannot charge on it; a station id
registered again by another organisation shows nothing of its earlier life."""

import asyncio
import uuid

from ocpp.v16 import call as call16
from ocpp.v201 import call as call201

from conftest import charge_point, eventually, registry
from test_api import http, operator_token, token_for
from test_commands import Pile16, Pile201, boot201, now


def organisation() -> tuple[str, str]:
    """A fresh organisation and one of its operators' tokens."""
    org = f"org-{uuid.uuid4().hex[:8]}"
    return org, operator_token(f"op-{uuid.uuid4().hex[:8]}", org)


def register_station(operator: str, protocol: str, station_id: str | None = None) -> tuple[str, str]:
    station_id = station_id or f"TEN-{uuid.uuid4().hex[:10].upper()}"
    status, body, _ = http("POST", "/v1/operator/stations", operator, {"stationId": station_id, "protocols": [protocol]})
    assert status == 201, body
    return station_id, body["password"]


def issue(operator: str, tag: str, **fields) -> dict:
    status, body, _ = http("POST", "/v1/operator/tokens", operator, {"idToken": tag, **fields})
    assert status == 201, body
    return body


def test_a_token_works_only_at_its_organisations_stations_in_both_versions():
    (_, alpha), (_, beta) = organisation(), organisation()
    foreign, own = f"A{uuid.uuid4().hex[:12].upper()}", f"B{uuid.uuid4().hex[:12].upper()}"
    issue(alpha, foreign, type="ISO14443")
    issue(beta, own, type="ISO14443")
    station16, password16 = register_station(beta, "ocpp1.6")
    station201, password201 = register_station(beta, "ocpp2.0.1")

    async def scenario():
        async with charge_point(Pile16, station16, password16, "ocpp1.6") as (cp, _):
            await cp.call(call16.BootNotification(charge_point_model="E2E", charge_point_vendor="Judge"), suppress=False)
            answer = await cp.call(call16.Authorize(id_tag=foreign), suppress=False)
            assert answer.id_tag_info["status"] == "Invalid", answer
            answer = await cp.call(call16.Authorize(id_tag=own.lower()), suppress=False)
            assert answer.id_tag_info["status"] == "Accepted", answer
            # A pile that let the foreign card charge from a stale cache is told it is Invalid.
            started = await cp.call(call16.StartTransaction(connector_id=1, id_tag=foreign, meter_start=0, timestamp=now()),
                                    suppress=False)
            assert started.id_tag_info["status"] == "Invalid", started
        async with charge_point(Pile201, station201, password201, "ocpp2.0.1") as (cp, _):
            await boot201(cp)
            for tag, expected in ((foreign, "Invalid"), (own, "Accepted")):
                answer = await cp.call(call201.Authorize(id_token={"id_token": tag, "type": "ISO14443"}), suppress=False)
                assert answer.id_token_info["status"] == expected, (tag, answer)

    asyncio.run(scenario())


def test_registering_a_token_another_organisation_holds_reveals_nothing():
    (_, alpha), (_, beta) = organisation(), organisation()
    held, fresh = f"H{uuid.uuid4().hex[:12].upper()}", f"F{uuid.uuid4().hex[:12].upper()}"
    issue(alpha, held, status="Blocked")
    status, body, headers = http("POST", "/v1/operator/tokens", beta, {"idToken": held.lower()})
    status_fresh, body_fresh, _ = http("POST", "/v1/operator/tokens", beta, {"idToken": fresh.lower()})
    assert (status, status_fresh) == (201, 201), (body, body_fresh)
    assert sorted(body) == sorted(body_fresh) and body["status"] == "Accepted"
    assert http("GET", f"/v1/operator/tokens/{held}", alpha)[1]["status"] == "Blocked"


def test_a_token_is_a_drivers_only_by_their_claim_and_operators_cannot_charge_on_it():
    org, olga = organisation()
    station_id, password = register_station(olga, "ocpp1.6")
    card, service = f"C{uuid.uuid4().hex[:12].upper()}", f"S{uuid.uuid4().hex[:12].upper()}"
    issue(olga, card)
    issue(olga, service)
    dave = f"dave-{uuid.uuid4().hex[:6]}"
    dave_token = token_for(dave, ["driver"])

    # The operator cannot name Dave as the owner; Dave redeems the claim code, and the card is his.
    status, body, _ = http("PATCH", f"/v1/operator/tokens/{card}", olga, {"owner": dave})
    assert status == 400, body
    status, offer, headers = http("POST", f"/v1/operator/tokens/{card}/claim-code", olga)
    assert status == 201 and headers.get("Cache-Control", headers.get("cache-control")) == "no-store", offer
    status, body, _ = http("POST", "/v1/me/tokens", dave_token, {"claimCode": offer["claimCode"]})
    assert status == 201 and body["idToken"] == card, body
    status, body, _ = http("POST", "/v1/me/tokens", token_for(f"eve-{uuid.uuid4().hex[:6]}", ["driver"]),
                           {"claimCode": offer["claimCode"]})
    assert status == 404, body

    async def scenario():
        async with charge_point(Pile16, station_id, password, "ocpp1.6") as (cp, _):
            await cp.call(call16.BootNotification(charge_point_model="E2E", charge_point_vendor="Judge"), suppress=False)
            # The operator's remote start on Dave's card is refused; on their service card it goes out.
            path = f"/v1/operator/stations/{station_id}/commands"
            start = lambda tag: {"action": "RemoteStartTransaction", "payload": {"idTag": tag, "connectorId": 1}}
            status, body, _ = http("POST", path, olga, start(card))
            assert status == 403, body
            status, body, _ = http("POST", path, olga, start(service))
            assert status == 202, body
            return await asyncio.wait_for(cp.transaction_id, 20)

    transaction_id = asyncio.run(scenario())

    def session():
        status, body, _ = http("GET", f"/v1/operator/sessions/{station_id}/{transaction_id}", olga)
        return body if status == 200 else None

    assert asyncio.run(eventually(session))["idToken"] == service
    status, mine, _ = http("GET", "/v1/me/sessions", dave_token)
    assert status == 200 and mine["sessions"] == [], "a session Dave did not start is not his"


def test_a_station_id_registered_again_by_another_organisation_starts_afresh():
    (_, alpha), (_, beta) = organisation(), organisation()
    station_id, password = register_station(alpha, "ocpp1.6")

    async def first_life():
        async with charge_point(Pile16, station_id, password, "ocpp1.6") as (cp, _):
            await cp.call(call16.BootNotification(charge_point_model="E2E", charge_point_vendor="Judge"), suppress=False)
            await cp.call(call16.StatusNotification(connector_id=1, error_code="NoError", status="Charging", timestamp=now()),
                          suppress=False)
            status, body, _ = http("POST", f"/v1/operator/stations/{station_id}/commands", alpha,
                                   {"action": "GetConfiguration", "payload": {}})
            assert status == 202, body

            def answered():
                code, listed, _ = http("GET", f"/v1/operator/stations/{station_id}/commands", alpha)
                return code == 200 and [c for c in listed["commands"] if c["state"] == "Answered"]

            await eventually(answered)
            await eventually(lambda: http("GET", f"/v1/operator/stations/{station_id}/status-history", alpha)[1]["entries"])

    asyncio.run(first_life())
    assert http("DELETE", f"/v1/operator/stations/{station_id}", alpha)[0] == 204
    _, password = register_station(beta, "ocpp1.6", station_id)

    status, station, _ = http("GET", f"/v1/operator/stations/{station_id}", beta)
    assert status == 200 and station["connectors"] == [], station
    assert http("GET", f"/v1/operator/stations/{station_id}/status-history", beta)[1]["entries"] == []
    assert http("GET", f"/v1/operator/stations/{station_id}/commands", beta)[1]["commands"] == []

    async def second_life():
        async with charge_point(Pile16, station_id, password, "ocpp1.6") as (cp, _):
            await cp.call(call16.BootNotification(charge_point_model="E2E", charge_point_vendor="Judge"), suppress=False)
            await cp.call(call16.StatusNotification(connector_id=1, error_code="NoError", status="Available", timestamp=now()),
                          suppress=False)
            entries = await eventually(
                lambda: http("GET", f"/v1/operator/stations/{station_id}/status-history", beta)[1]["entries"])
            assert [e["status"] for e in entries] == ["Available"], entries

    asyncio.run(second_life())
    # The first organisation's records are still there for the platform's operator (csms-registry).
    assert registry("commands", "--id", station_id)
