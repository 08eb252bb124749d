"""Reservations end to end (issue 13): a driver reserves through the app API, the pile (the Python
`ocpp` library, which validates every ReserveNow and CancelReservation we send against the OCA
schemas) gets ReserveNow and reports the connector Reserved, the holder starts (remote start, or
their card at the pile) and the reservation is Consumed; reservations expire on the CSMS's clock
(the stand-in fires the EventBridge Scheduler schedule), also while the pile is offline, which is
told to cancel when it is back and still holds it; drivers and operators cancel; the pile's
refusals reach the driver; of twenty drivers racing for one connector exactly one gets it."""

import asyncio
import concurrent.futures
import subprocess
import uuid
from datetime import datetime, timezone

from ocpp.routing import after, on
from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as result16
from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as result201

from conftest import REGISTRY, charge_point, eventually, registry
from test_api import http, token_for
from test_commands import now

# The shortest reservation the API takes: one minute.
SHORT = 1


# The organisation of this module's stations, which issues its drivers' cards (a card works only
# at its issuer's stations).
ORG = f"org-{uuid.uuid4().hex[:8]}"


def station_with(protocol: str, connectors: list[str], organisation: str = ORG) -> tuple[str, str, str]:
    """A registered station declaring `connectors`; returns (station id, password, organisation)."""
    station_id = f"RSV-{uuid.uuid4().hex[:10].upper()}"
    args = ["register", "--id", station_id, "--protocol", protocol, "--organisation", organisation]
    for c in connectors:
        args += ["--connector", c]
    return station_id, registry(*args)["password"], organisation


def driver(organisation: str = ORG) -> tuple[str, str, str]:
    """A driver with a card `organisation` issued, made theirs by redeeming its claim code:
    (subject, bearer token, their id token)."""
    subject = f"driver-{uuid.uuid4().hex[:8]}"
    tag = f"R{uuid.uuid4().hex[:12].upper()}"
    bearer = token_for(subject, ["driver"])
    registry("token", "add", "--token", tag, "--organisation", organisation)
    code = registry("token", "claim-code", "--token", tag, "--organisation", organisation)["claimCode"]
    status, body, _ = http("POST", "/v1/me/tokens", bearer, {"claimCode": code})
    assert status == 201 and body["idToken"] == tag, body
    return subject, bearer, tag


def reserve(token: str, station_id: str, tag: str, minutes: int = 15, **extra) -> tuple[int, dict]:
    status, body, _ = http("POST", "/v1/me/reservations", token,
                           {"stationId": station_id, "idToken": tag, "minutes": minutes, **extra})
    return status, body


def reservation_path(r: dict) -> str:
    return f"/v1/me/reservations/{r['stationId']}/{r['reservationId']}"


async def state_becomes(token: str, r: dict, state: str, timeout: float = 20.0) -> dict:
    def check():
        code, body, _ = http("GET", reservation_path(r), token)
        assert code == 200, body
        return body if body["state"] == state else None
    return await eventually(check, timeout=timeout)


class Reserving16(ChargePoint16):
    """A 1.6 pile that holds reservations (answering ReserveNow with `answer`), reports held
    connectors Reserved, and starts a remote start with the reservation it holds for the tag."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.answer = "Accepted"
        self.held: dict[int, tuple[int, str]] = {}  # reservation id -> (connector, idTag)
        self.reserve_calls: asyncio.Queue = asyncio.Queue()
        self.cancel_calls: asyncio.Queue = asyncio.Queue()
        self.started: asyncio.Queue = asyncio.Queue()

    async def report(self, connector: int, status: str):
        await self.call(call16.StatusNotification(connector_id=connector, error_code="NoError", status=status, timestamp=now()),
                        suppress=False)

    @on("ReserveNow")
    def reserve_now(self, connector_id, expiry_date, id_tag, reservation_id, parent_id_tag=None, **_):
        self.reserve_calls.put_nowait({"connector_id": connector_id, "id_tag": id_tag, "reservation_id": reservation_id,
                                       "expiry_date": expiry_date})
        if self.answer == "Accepted":
            self.held[reservation_id] = (connector_id, id_tag)
        return result16.ReserveNow(status=self.answer)

    @after("ReserveNow")
    async def report_reserved(self, connector_id, reservation_id, **_):
        if reservation_id in self.held:
            await self.report(connector_id, "Reserved")

    @on("CancelReservation")
    def cancel_reservation(self, reservation_id, **_):
        self.cancel_calls.put_nowait(reservation_id)
        return result16.CancelReservation(status="Accepted" if reservation_id in self.held else "Rejected")

    @after("CancelReservation")
    async def report_available(self, reservation_id, **_):
        if (held := self.held.pop(reservation_id, None)) is not None:
            await self.report(held[0], "Available")

    async def charge(self, connector: int, id_tag: str, send_reservation_id: bool = True) -> int:
        """A start at the pile: for the reservation held there for the tag, if any (1.6 section 5.13)."""
        reservation = next((r for r, (c, t) in self.held.items() if c == connector and t.upper() == id_tag.upper()), None)
        if reservation is not None:
            del self.held[reservation]
        started = await self.call(call16.StartTransaction(
            connector_id=connector, id_tag=id_tag, meter_start=0, timestamp=now(),
            reservation_id=reservation if send_reservation_id else None), suppress=False)
        await self.report(connector, "Charging")
        return started.transaction_id

    @on("RemoteStartTransaction")
    def remote_start(self, id_tag, connector_id=None, **_):
        return result16.RemoteStartTransaction(status="Accepted")

    @after("RemoteStartTransaction")
    async def start_after_remote_start(self, id_tag, connector_id=None, **_):
        self.started.put_nowait((connector_id, await self.charge(connector_id or 1, id_tag)))


class Reserving201(ChargePoint201):
    """The same pile in 2.0.1: EVSEs, TransactionEvent with reservationId, ReservationStatusUpdate."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.answer = "Accepted"
        self.held: dict[int, tuple[int, str]] = {}  # reservation id -> (EVSE, idToken)
        self.reserve_calls: asyncio.Queue = asyncio.Queue()
        self.cancel_calls: asyncio.Queue = asyncio.Queue()
        self.started: asyncio.Queue = asyncio.Queue()

    async def report(self, evse: int, status: str):
        await self.call(call201.StatusNotification(timestamp=now(), connector_status=status, evse_id=evse, connector_id=1),
                        suppress=False)

    @on("ReserveNow")
    def reserve_now(self, id, expiry_date_time, id_token, evse_id=None, connector_type=None, group_id_token=None, **_):
        self.reserve_calls.put_nowait({"evse_id": evse_id, "id_token": id_token, "id": id, "connector_type": connector_type})
        if self.answer == "Accepted":
            self.held[id] = (evse_id, id_token["id_token"])
        return result201.ReserveNow(status=self.answer)

    @after("ReserveNow")
    async def report_reserved(self, id, evse_id=None, **_):
        if id in self.held:
            await self.report(evse_id, "Reserved")

    @on("CancelReservation")
    def cancel_reservation(self, reservation_id, **_):
        self.cancel_calls.put_nowait(reservation_id)
        return result201.CancelReservation(status="Accepted" if reservation_id in self.held else "Rejected")

    @after("CancelReservation")
    async def report_available(self, reservation_id, **_):
        if (held := self.held.pop(reservation_id, None)) is not None:
            await self.report(held[0], "Available")

    async def charge(self, evse: int, id_token: dict, remote_start_id: int | None = None) -> str:
        """A transaction started by the token on the EVSE, naming the reservation held for it (H01)."""
        reservation = next((r for r, (e, t) in self.held.items() if e == evse and t.upper() == id_token["id_token"].upper()), None)
        if reservation is not None:
            del self.held[reservation]
        transaction_id = f"tx-{uuid.uuid4().hex[:8]}"
        info = {"transaction_id": transaction_id}
        if remote_start_id is not None:
            info["remote_start_id"] = remote_start_id
        await self.call(call201.TransactionEvent(
            event_type="Started", timestamp=now(), trigger_reason="Authorized", seq_no=0, transaction_info=info,
            id_token=id_token, evse={"id": evse, "connector_id": 1}, reservation_id=reservation), suppress=False)
        await self.report(evse, "Occupied")
        return transaction_id

    async def expire(self, reservation_id: int):
        """The pile's own expiry (H04): it lets go and tells the CSMS."""
        evse, _ = self.held.pop(reservation_id)
        await self.call(call201.ReservationStatusUpdate(reservation_id=reservation_id, reservation_update_status="Expired"),
                        suppress=False)
        await self.report(evse, "Available")

    @on("RequestStartTransaction")
    def request_start(self, id_token, remote_start_id, **_):
        return result201.RequestStartTransaction(status="Accepted")

    @after("RequestStartTransaction")
    async def start_after_request(self, id_token, remote_start_id, evse_id=None, **_):
        self.started.put_nowait((evse_id, await self.charge(evse_id or 1, id_token, remote_start_id)))


async def boot16(cp):
    await cp.call(call16.BootNotification(charge_point_model="E2E", charge_point_vendor="Judge"), suppress=False)


async def boot201(cp):
    await cp.call(call201.BootNotification(charging_station={"model": "E2E", "vendor_name": "Judge"}, reason="PowerUp"),
                  suppress=False)


def connector_view(token: str, station_id: str, evse: int | None, connector: int) -> dict:
    code, view, _ = http("GET", f"/v1/stations/{station_id}", token)
    assert code == 200, view
    return next(c for c in view["connectors"] if c.get("evseId") == evse and c["connectorId"] == connector)


def test_ocpp16_the_holder_starts_remotely_and_by_card_and_nobody_else_can():
    station_id, password, _ = station_with("ocpp1.6", ["1:cType2:22000", "2:cType2:22000"])
    _, alice, alice_tag = driver()
    _, bob, bob_tag = driver()

    async def scenario():
        async with charge_point(Reserving16, station_id, password, "ocpp1.6") as (cp, _):
            await boot16(cp)
            for c in (1, 2):
                await cp.report(c, "Available")
            # Alice reserves; the CSMS picks connector 1 and sends ReserveNow for it.
            status, r = reserve(alice, station_id, alice_tag)
            assert status == 201 and r["state"] == "Requested" and r["connectorId"] == 1, r
            sent = await asyncio.wait_for(cp.reserve_calls.get(), 20)
            assert (sent["connector_id"], sent["id_tag"], sent["reservation_id"]) == (1, alice_tag, r["reservationId"])
            assert sent["expiry_date"].startswith(r["expiresAt"][:19]), (sent, r)
            await state_becomes(alice, r, "Accepted")
            # The pile reports it Reserved; Alice sees it is hers, Bob that it is not.
            await eventually(lambda: connector_view(alice, station_id, None, 1)["status"] == "Reserved")
            assert connector_view(alice, station_id, None, 1)["reservedForYou"] is True
            assert connector_view(bob, station_id, None, 1)["reservedForYou"] is False
            # Bob cannot start on it, nor reserve it.
            code, problem, _ = http("POST", "/v1/charging/start", bob, {"stationId": station_id, "idToken": bob_tag, "connector": 1})
            assert code == 409 and "reserved for someone else" in problem["detail"], problem
            code, problem = reserve(bob, station_id, bob_tag, connector=1)
            assert code == 409, problem
            # Nor through the operator's tool, which starts charging by the same use case.
            out = await asyncio.to_thread(subprocess.run, [REGISTRY, "start", "--id", station_id, "--token", bob_tag, "--connector", "1"],
                                          capture_output=True, text=True, timeout=60)
            assert out.returncode != 0 and "reserved for someone else" in out.stderr, out
            # Alice starts without naming the connector: the remote start goes to hers, the pile
            # starts for the reservation, and it is Consumed.
            code, command, _ = http("POST", "/v1/charging/start", alice, {"stationId": station_id, "idToken": alice_tag})
            assert code == 202 and command["request"] == {"connectorId": 1, "idTag": alice_tag}, command
            connector, transaction = await asyncio.wait_for(cp.started.get(), 20)
            consumed = await state_becomes(alice, r, "Consumed")
            assert consumed["reason"] == f"transaction {transaction} started", consumed

            # Her second reservation, on connector 2: she starts there with her card, and the pile
            # does not name the reservation: the tag on the reserved connector consumes it.
            status, r2 = reserve(alice, station_id, alice_tag, connector=2)
            assert status == 201, r2
            await asyncio.wait_for(cp.reserve_calls.get(), 20)
            await state_becomes(alice, r2, "Accepted")
            await cp.charge(2, alice_tag.lower(), send_reservation_id=False)
            await state_becomes(alice, r2, "Consumed")
            # Both consumed reservations freed their connectors and Alice.
            assert connector_view(alice, station_id, None, 2).get("reservedUntil") is None

    asyncio.run(scenario())


def test_ocpp201_the_holder_starts_remotely_and_by_card():
    station_id, password, _ = station_with("ocpp2.0.1", ["1/1:cCCS2:150000", "2/1:cType2:22000"])
    _, alice, alice_tag = driver()

    async def scenario():
        async with charge_point(Reserving201, station_id, password, "ocpp2.0.1") as (cp, _):
            await boot201(cp)
            for evse in (1, 2):
                await cp.report(evse, "Available")
            # A CCS2 connector: EVSE 1, with the type in ReserveNow.
            status, r = reserve(alice, station_id, alice_tag, connectorType="cCCS2")
            assert status == 201 and r["evseId"] == 1, r
            sent = await asyncio.wait_for(cp.reserve_calls.get(), 20)
            assert (sent["evse_id"], sent["id"], sent["connector_type"]) == (1, r["reservationId"], "cCCS2"), sent
            assert sent["id_token"]["id_token"] == alice_tag
            await state_becomes(alice, r, "Accepted")
            await eventually(lambda: connector_view(alice, station_id, 1, 1)["status"] == "Reserved")
            code, command, _ = http("POST", "/v1/charging/start", alice, {"stationId": station_id, "idToken": alice_tag})
            assert code == 202 and command["request"]["evseId"] == 1, command
            _, transaction = await asyncio.wait_for(cp.started.get(), 20)
            consumed = await state_becomes(alice, r, "Consumed")
            assert transaction in consumed["reason"]

            # The card at the pile: the TransactionEvent names the reservation.
            status, r2 = reserve(alice, station_id, alice_tag, connector=2)
            assert status == 201 and r2["evseId"] == 2, r2
            await asyncio.wait_for(cp.reserve_calls.get(), 20)
            await state_becomes(alice, r2, "Accepted")
            await cp.charge(2, {"id_token": alice_tag, "type": "Central"})
            await state_becomes(alice, r2, "Consumed")

    asyncio.run(scenario())


def test_reservations_expire_on_the_csms_clock_in_both_versions_and_while_the_pile_is_offline():
    """Three one-minute reservations run at once (the API's shortest): a 1.6 pile whose clock lags
    still shows the connector Reserved at the expiry and is told to cancel, a 2.0.1 pile sends
    ReservationStatusUpdate Expired, and a 1.6 pile goes offline, comes back after the expiry
    still holding the reservation and is told to cancel it."""
    s16, p16, _ = station_with("ocpp1.6", ["1:cType2:22000"])
    s201, p201, _ = station_with("ocpp2.0.1", ["1/1:cCCS2:150000"])
    s_off, p_off, _ = station_with("ocpp1.6", ["1:cType2:22000"])

    def expired_on_time(token, r):
        expired = next(h for h in r["history"] if h["state"] == "Expired")
        late = (datetime.fromisoformat(expired["at"]) - datetime.fromisoformat(r["expiresAt"])).total_seconds()
        # At its expiry (the schedule fires on the second, rounded up), never before.
        assert 0 <= late < 15, (late, r)

    async def pile16_still_shows_it():
        _, token, tag = driver()
        async with charge_point(Reserving16, s16, p16, "ocpp1.6") as (cp, _):
            await boot16(cp)
            await cp.report(1, "Available")
            status, r = reserve(token, s16, tag, minutes=SHORT)
            assert status == 201, r
            sent = await asyncio.wait_for(cp.reserve_calls.get(), 20)
            await state_becomes(token, r, "Accepted")
            done = await state_becomes(token, r, "Expired", timeout=90)
            expired_on_time(token, done)
            # The pile's clock lags: it still shows the connector Reserved, so it is told to let
            # go, and reports the connector Available.
            assert await asyncio.wait_for(cp.cancel_calls.get(), 20) == sent["reservation_id"]
            await eventually(lambda: connector_view(token, s16, None, 1)["status"] == "Available")

    async def pile201_reports_expired():
        _, token, tag = driver()
        async with charge_point(Reserving201, s201, p201, "ocpp2.0.1") as (cp, _):
            await boot201(cp)
            await cp.report(1, "Available")
            status, r = reserve(token, s201, tag, minutes=SHORT)
            assert status == 201, r
            await asyncio.wait_for(cp.reserve_calls.get(), 20)
            await state_becomes(token, r, "Accepted")
            # The pile's clock runs a little fast: it reports Expired first, which ends it here.
            seconds = (datetime.fromisoformat(r["expiresAt"]) - datetime.now(timezone.utc)).total_seconds()
            await asyncio.sleep(max(0.0, seconds - 5))
            await cp.expire(r["reservationId"])
            done = await state_becomes(token, r, "Expired", timeout=20)
            assert done["reason"] == "expired at the station", done

    async def offline_pile_is_told_when_back():
        _, token, tag = driver()
        async with charge_point(Reserving16, s_off, p_off, "ocpp1.6") as (cp, ws):
            await boot16(cp)
            await cp.report(1, "Available")
            status, r = reserve(token, s_off, tag, minutes=SHORT)
            assert status == 201, r
            sent = await asyncio.wait_for(cp.reserve_calls.get(), 20)
            await state_becomes(token, r, "Accepted")
            held = dict(cp.held)
        # Offline from here: the reservation still ends on time in the CSMS's records.
        done = await state_becomes(token, r, "Expired", timeout=90)
        expired_on_time(token, done)
        # Back, with a clock that has not reached the expiry: it still holds it and says so.
        async with charge_point(Reserving16, s_off, p_off, "ocpp1.6") as (cp, _):
            cp.held = held
            await boot16(cp)
            await cp.report(1, "Reserved")
            cancelled = await asyncio.wait_for(cp.cancel_calls.get(), 20)
            assert cancelled == sent["reservation_id"]
            # It was taken off the pile, which reports the connector Available again.
            await eventually(lambda: connector_view(token, s_off, None, 1)["status"] == "Available")

    async def all_three():
        await asyncio.gather(pile16_still_shows_it(), pile201_reports_expired(), offline_pile_is_told_when_back())

    asyncio.run(all_three())


def test_drivers_and_operators_cancel_and_the_pile_is_told():
    station_id, password, organisation = station_with("ocpp1.6", ["1:cType2:22000", "2:cType2:22000"])
    _, alice, alice_tag = driver()
    operator = token_for(f"op-{uuid.uuid4().hex[:8]}", ["operator"], organisation=organisation)
    stranger = token_for(f"op-{uuid.uuid4().hex[:8]}", ["operator"], organisation=f"org-{uuid.uuid4().hex[:8]}")

    async def scenario():
        async with charge_point(Reserving16, station_id, password, "ocpp1.6") as (cp, _):
            await boot16(cp)
            status, r = reserve(alice, station_id, alice_tag, connector=1)
            assert status == 201, r
            await asyncio.wait_for(cp.reserve_calls.get(), 20)
            await state_becomes(alice, r, "Accepted")
            # The driver cancels: ended at once, and the pile is told.
            code, cancelled, _ = http("DELETE", reservation_path(r), alice)
            assert code == 200 and cancelled["state"] == "Cancelled", cancelled
            assert await asyncio.wait_for(cp.cancel_calls.get(), 20) == r["reservationId"]
            # The operator of the station's organisation sees and cancels the next one; another
            # organisation's operator does neither.
            status, r2 = reserve(alice, station_id, alice_tag, connector=2)
            assert status == 201, r2
            await asyncio.wait_for(cp.reserve_calls.get(), 20)
            await state_becomes(alice, r2, "Accepted")
            code, listed, _ = http("GET", f"/v1/operator/reservations?stationId={station_id}&state=Accepted", operator)
            assert code == 200 and [x["reservationId"] for x in listed["reservations"]] == [r2["reservationId"]], listed
            operator_path = reservation_path(r2).replace("/v1/me/", "/v1/operator/")
            assert http("DELETE", operator_path, stranger)[0] == 404
            code, cancelled, _ = http("DELETE", operator_path, operator)
            assert code == 200 and cancelled["reason"].startswith("cancelled by operator"), cancelled
            assert await asyncio.wait_for(cp.cancel_calls.get(), 20) == r2["reservationId"]
            code, listed, _ = http("GET", f"/v1/operator/reservations?stationId={station_id}&state=Cancelled", operator)
            assert len(listed["reservations"]) == 2, listed

    asyncio.run(scenario())


def test_the_piles_refusals_reach_the_driver():
    s16, p16, _ = station_with("ocpp1.6", ["1:cType2:22000"])
    s201, p201, _ = station_with("ocpp2.0.1", ["1/1:cCCS2:150000"])
    _, token, tag = driver()

    async def scenario():
        async with charge_point(Reserving16, s16, p16, "ocpp1.6") as (cp, _):
            await boot16(cp)
            for answer in ("Occupied", "Unavailable", "Rejected"):
                cp.answer = answer
                status, r = reserve(token, s16, tag, connector=1)
                assert status == 201, r
                refused = await state_becomes(token, r, "Refused")
                assert refused["reason"] == f"the station answered {answer}", refused
        async with charge_point(Reserving201, s201, p201, "ocpp2.0.1") as (cp, _):
            await boot201(cp)
            cp.answer = "Faulted"
            status, r = reserve(token, s201, tag)
            assert status == 201, r
            refused = await state_becomes(token, r, "Refused")
            assert refused["reason"] == "the station answered Faulted", refused
        # Offline now: refused at once with the reason.
        def offline():
            code, view, _ = http("GET", f"/v1/stations/{s16}", token)
            return code == 200 and view["online"] is False
        await eventually(offline)
        status, problem = reserve(token, s16, tag)
        assert status == 409 and "offline" in problem["detail"], problem

    asyncio.run(scenario())


def test_of_twenty_drivers_racing_for_the_last_connector_exactly_one_gets_it():
    station_id, password, _ = station_with("ocpp1.6", ["1:cType2:22000"])
    drivers = [driver() for _ in range(20)]

    async def scenario():
        async with charge_point(Reserving16, station_id, password, "ocpp1.6") as (cp, _):
            await boot16(cp)
            await cp.report(1, "Available")
            await eventually(lambda: connector_view(drivers[0][1], station_id, None, 1)["status"] == "Available")
            # Twenty requests at once, through the real API (a thread each: the default pool has
            # fewer workers than that on a small machine).
            loop = asyncio.get_running_loop()
            with concurrent.futures.ThreadPoolExecutor(max_workers=len(drivers)) as pool:
                answers = await asyncio.gather(*[
                    loop.run_in_executor(pool, lambda t=token, g=tag: reserve(t, station_id, g, 15, connector=1))
                    for _, token, tag in drivers
                ])
            won = [(i, body) for i, (status, body) in enumerate(answers) if status == 201]
            lost = [body for status, body in answers if status != 201]
            assert len(won) == 1, answers
            assert all(b["status"] == 409 and "reserved by someone else" in b["detail"] for b in lost), lost
            i, r = won[0]
            await asyncio.wait_for(cp.reserve_calls.get(), 20)
            await state_becomes(drivers[i][1], r, "Accepted")
            # Exactly one ReserveNow went to the pile, and exactly one reservation is Accepted.
            await asyncio.sleep(2)
            assert cp.reserve_calls.empty()
            accepted = [http("GET", "/v1/me/reservations?state=Accepted", token)[1]["reservations"] for _, token, _ in drivers]
            assert sum(len(a) for a in accepted) == 1

    asyncio.run(scenario())
