"""Doors and abuse (issue 10) end to end through csms-local, with the Python `ocpp` library as the
pile: revocation takes effect at once (item 12)."""

import asyncio

import pytest
from ocpp.exceptions import SecurityError
from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16 import call as call16

from conftest import charge_point, eventually, register, registry, station_row
from test_operator_api import refused_with


async def boot16(cp) -> str:
    answer = await cp.call(call16.BootNotification(charge_point_model="E2E-16", charge_point_vendor="Judge"), suppress=False)
    return answer.status


def test_rotating_the_password_or_rejecting_the_station_closes_its_live_socket():
    """Item 12: like decommissioning, a new password or a Rejected registration ends the open
    connection at once, instead of leaving it up for up to two hours."""
    station_id, password = register(("ocpp1.6",))

    async def scenario():
        async with charge_point(ChargePoint16, station_id, password, "ocpp1.6") as (cp, ws):
            assert await boot16(cp) == "Accepted"
            await eventually(lambda: station_row(station_id)["online"])
            new_password = registry("rotate-password", "--id", station_id)["password"]
            await asyncio.wait_for(ws.wait_closed(), 15)
        assert await refused_with(station_id, password, "ocpp1.6") == 401

        async with charge_point(ChargePoint16, station_id, new_password, "ocpp1.6") as (cp, ws):
            assert await boot16(cp) == "Accepted"
            await eventually(lambda: station_row(station_id)["online"])
            registry("set-registration", "--id", station_id, "--registration", "Rejected")
            await asyncio.wait_for(ws.wait_closed(), 15)

        # It may connect again, but the Accepted boot of before no longer counts: only a
        # BootNotification is answered, and it is Rejected.
        async with charge_point(ChargePoint16, station_id, new_password, "ocpp1.6") as (cp, ws):
            with pytest.raises(SecurityError):
                await cp.call(call16.Heartbeat(), suppress=False)
            assert await boot16(cp) == "Rejected"

    asyncio.run(scenario())
