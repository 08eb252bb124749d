"""A charging pile for the browser tests and the screenshots: the Python `ocpp` library (which
validates every message against the official OCA schemas) speaking OCPP 1.6 to the local stack.

It boots, reports its connectors Available, and does what drivers and operators ask: a remote start
begins a transaction that reports its meter every second (energy and power, the power ramping up),
a remote stop ends it (the meter runs `--speed` times faster than the clock, 60 by default, so
a demo session charges visibly), Reset / UnlockConnector / ChangeAvailability / TriggerMessage /
GetConfiguration / ChangeConfiguration are answered. It prints `ready` once booted and runs until
it is killed, its stdin closes, or the CSMS closes its connection.

    python pile.py --url ws://127.0.0.1:PORT/ocpp/ --id CP-1 --password SECRET [--connectors 2] [--faulted 2]
"""

import argparse
import asyncio
import base64
import sys
import threading
from datetime import datetime, timezone

from ocpp.routing import after, on
from ocpp.v16 import ChargePoint
from ocpp.v16 import call, call_result
from websockets.asyncio.client import connect


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Pile(ChargePoint):
    def __init__(self, station_id, ws, connectors, speed, faulted=()):
        super().__init__(station_id, ws, response_timeout=20)
        self.connectors = connectors
        self.speed = speed
        self.faulted = set(faulted)
        self.meter = {c: 1_000_000 * c for c in range(1, connectors + 1)}
        self.transactions = {}  # connector -> (transaction id, task)

    def free_connector(self):
        return next((c for c in range(1, self.connectors + 1) if c not in self.transactions and c not in self.faulted), None)

    async def status(self, connector, status):
        await self.call(call.StatusNotification(connector_id=connector, error_code="NoError", status=status, timestamp=now()))

    async def boot(self):
        answer = await self.call(call.BootNotification(charge_point_vendor="Helios", charge_point_model="H-22 Duo", firmware_version="2.4.1"))
        assert answer.status == "Accepted", answer
        for c in range(1, self.connectors + 1):
            if c in self.faulted:
                await self.call(call.StatusNotification(connector_id=c, error_code="GroundFailure", status="Faulted", timestamp=now()))
            else:
                await self.status(c, "Available")

    async def meter_loop(self, connector, transaction_id):
        power = 3_000
        while True:
            await asyncio.sleep(1)
            power = min(power + 1_500, 11_000)
            self.meter[connector] += round(power * self.speed / 3600)
            await self.call(call.MeterValues(connector_id=connector, transaction_id=transaction_id, meter_value=[{
                "timestamp": now(),
                "sampled_value": [
                    {"value": str(self.meter[connector]), "measurand": "Energy.Active.Import.Register", "unit": "Wh", "context": "Sample.Periodic"},
                    {"value": str(power), "measurand": "Power.Active.Import", "unit": "W", "context": "Sample.Periodic"},
                ],
            }]))

    @on("RemoteStartTransaction")
    def remote_start(self, id_tag, connector_id=None, **_):
        connector = connector_id or self.free_connector()
        busy = connector is None or connector in self.transactions or connector in self.faulted
        return call_result.RemoteStartTransaction(status="Rejected" if busy else "Accepted")

    @after("RemoteStartTransaction")
    async def start_after_remote(self, id_tag, connector_id=None, **_):
        connector = connector_id or self.free_connector()
        if connector is None or connector in self.transactions or connector in self.faulted:
            return
        self.transactions[connector] = None
        await self.status(connector, "Preparing")
        started = await self.call(call.StartTransaction(connector_id=connector, id_tag=id_tag, meter_start=self.meter[connector], timestamp=now()))
        await self.status(connector, "Charging")
        task = asyncio.create_task(self.meter_loop(connector, started.transaction_id))
        self.transactions[connector] = (started.transaction_id, task)

    @on("RemoteStopTransaction")
    def remote_stop(self, transaction_id, **_):
        known = any(t and t[0] == transaction_id for t in self.transactions.values())
        return call_result.RemoteStopTransaction(status="Accepted" if known else "Rejected")

    @after("RemoteStopTransaction")
    async def stop_after_remote(self, transaction_id, **_):
        for connector, running in list(self.transactions.items()):
            if running and running[0] == transaction_id:
                running[1].cancel()
                del self.transactions[connector]
                await self.call(call.StopTransaction(meter_stop=self.meter[connector], timestamp=now(), transaction_id=transaction_id, reason="Remote"))
                await self.status(connector, "Finishing")
                await self.status(connector, "Available")

    @on("Reset")
    def reset(self, type, **_):
        return call_result.Reset(status="Accepted")

    @on("UnlockConnector")
    def unlock(self, connector_id, **_):
        return call_result.UnlockConnector(status="Unlocked")

    @on("ChangeAvailability")
    def change_availability(self, connector_id, type, **_):
        return call_result.ChangeAvailability(status="Accepted")

    @on("TriggerMessage")
    def trigger(self, requested_message, connector_id=None, **_):
        return call_result.TriggerMessage(status="Accepted")

    @on("GetConfiguration")
    def get_configuration(self, key=None, **_):
        return call_result.GetConfiguration(configuration_key=[
            {"key": "HeartbeatInterval", "readonly": False, "value": "300"},
            {"key": "MeterValueSampleInterval", "readonly": False, "value": "1"},
        ])

    @on("ChangeConfiguration")
    def change_configuration(self, key, value, **_):
        return call_result.ChangeConfiguration(status="Accepted")


def stdin_closed() -> asyncio.Future:
    """Resolves when stdin closes. A daemon thread reads it, so that a connection the CSMS closed
    ends the pile too (an executor thread would hold the process until stdin closes)."""
    loop = asyncio.get_running_loop()
    closed = loop.create_future()

    def wait():
        sys.stdin.read()
        try:
            loop.call_soon_threadsafe(closed.set_result, None)
        except RuntimeError:  # the loop is already gone
            pass

    threading.Thread(target=wait, daemon=True).start()
    return closed


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--id", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--connectors", type=int, default=1)
    parser.add_argument("--speed", type=float, default=60)
    parser.add_argument("--faulted", type=int, action="append", default=[], help="a connector that reports Faulted")
    args = parser.parse_args()
    auth = base64.b64encode(f"{args.id}:{args.password}".encode()).decode()
    async with connect(args.url + args.id, subprotocols=["ocpp1.6"], additional_headers={"Authorization": f"Basic {auth}"}, open_timeout=15) as ws:
        pile = Pile(args.id, ws, args.connectors, args.speed, args.faulted)
        runner = asyncio.create_task(pile.start())
        await pile.boot()
        print("ready", flush=True)
        await asyncio.wait([runner, stdin_closed()], return_when=asyncio.FIRST_COMPLETED)


if __name__ == "__main__":
    asyncio.run(main())
