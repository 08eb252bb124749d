"""A driver's data on request (issue 17, item 7): `csms-registry driver export` hands over everything
stored about one driver, `driver erase` deletes their tokens and keeps their charged sessions under a
pseudonym. The session is made by the Python `ocpp` library as a 1.6 pile, through csms-local, into
DynamoDB Local."""

import asyncio
import subprocess
import uuid
from datetime import datetime, timedelta, timezone

from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16 import call as call16

from conftest import REGISTRY, charge_point, eventually, register, registry
from test_api import own_token, token_for


def at(base: datetime, minutes: int) -> str:
    return (base + timedelta(minutes=minutes)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def export(subject: str) -> dict:
    return registry("driver", "export", "--subject", subject)


def charge(station_id: str, password: str, tag: str) -> None:
    base = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=1)

    async def scenario():
        async with charge_point(ChargePoint16, station_id, password, "ocpp1.6") as (cp, _):
            await cp.call(call16.BootNotification(charge_point_model="E2E", charge_point_vendor="Judge"), suppress=False)
            started = await cp.call(call16.StartTransaction(connector_id=1, id_tag=tag, meter_start=1_000, timestamp=at(base, 0)),
                                    suppress=False)
            await cp.call(call16.MeterValues(connector_id=1, transaction_id=started.transaction_id, meter_value=[{
                "timestamp": at(base, 10),
                "sampled_value": [{"value": "2500", "measurand": "Energy.Active.Import.Register", "unit": "Wh"}]}]), suppress=False)
            await cp.call(call16.StopTransaction(meter_stop=4_000, timestamp=at(base, 20), transaction_id=started.transaction_id,
                                                 reason="Local", id_tag=tag), suppress=False)

    asyncio.run(scenario())


def test_export_then_erase_a_driver():
    driver, other = f"driver-{uuid.uuid4().hex[:8]}", f"driver-{uuid.uuid4().hex[:8]}"
    # Tokens without an organisation (they work at stations registered without one), each made
    # its driver's by redeeming its claim code in the app.
    driver_jwt, other_jwt = token_for(driver, ["driver"]), token_for(other, ["driver"])
    tag, second = own_token(driver_jwt), own_token(driver_jwt)
    others = own_token(other_jwt)
    station_id, password = register(("ocpp1.6",))
    charge(station_id, password, tag)
    charge(station_id, password, others)

    # The sessions consumer resolves the owner from the token; the owner index lags a little.
    data = asyncio.run(eventually(lambda: (lambda d: d if len(d["sessions"]) == 1 and d["sessions"][0]["completed"] else None)(export(driver))))
    assert data["subject"] == driver
    assert sorted(t["token"] for t in data["tokens"]) == sorted([tag, second])
    [session] = data["sessions"]
    assert session["stationId"] == station_id and session["idToken"] == tag and session["owner"] == driver
    assert session["energyWh"] == 3000
    assert [m["value"] for m in session["meterValues"] if m["measurand"] == "Energy.Active.Import.Register"] == [2500]
    assert data["operatorMembership"] is None
    asyncio.run(eventually(lambda: len(export(other)["sessions"]) == 1))

    erased = registry("driver", "erase", "--subject", driver)
    assert erased["pseudonym"].startswith("erased:")
    assert sorted(erased["tokensDeleted"]) == sorted([tag, second])
    assert erased["sessionsPseudonymised"] == 1

    # Nothing is left under the driver; the session is kept, under the pseudonym, with its energy.
    asyncio.run(eventually(lambda: export(driver)["sessions"] == []))
    assert export(driver)["tokens"] == []
    kept = [s for s in registry("sessions", "--id", station_id)["sessions"] if s["idToken"] == tag]
    assert len(kept) == 1 and kept[0]["owner"] == erased["pseudonym"] and kept[0]["energyWh"] == 3000
    assert all(t["token"] not in (tag, second) for t in registry("token", "list"))
    # The other driver is untouched.
    assert [t["token"] for t in export(other)["tokens"]] == [others]
    assert len(export(other)["sessions"]) == 1

    # Running it again finishes nothing more and fails nothing.
    again = registry("driver", "erase", "--subject", driver, "--pseudonym", erased["pseudonym"])
    assert (again["tokensDeleted"], again["sessionsPseudonymised"]) == ([], 0)


def test_a_pseudonym_that_does_not_say_so_is_refused():
    out = subprocess.run([REGISTRY, "driver", "erase", "--subject", "driver-x", "--pseudonym", "someone-else"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode != 0
    assert 'a pseudonym starts with "erased:"' in out.stderr
