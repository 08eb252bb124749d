"""Object-level authorization, generated from the live `/openapi.json`: every operation that names an
object (in its path, or in its body) is called by a second driver and by an operator of a second
organisation with the ids of objects that belong to driver A / organisation A, and must refuse (403 or
404: never 2xx, never 5xx, never a 400 that would hide the question; creating an object under A's id,
in a namespace all share, is 409, and in the caller's own namespace makes the caller's own object and
leaves A's as it was); every list answers user B
without any of A's ids. Each request is then sent by its owner too, so a refusal is known to be about
who asks, not about the request.

A new route joins by itself; a new parameter name fails `test_every_parameter_has_a_value` until it
gets a value below (an object of A made by the `world_a` fixture)."""

import asyncio
import json
import re
import urllib.parse
import uuid
from datetime import datetime, timezone

import pytest
from ocpp.v16 import call as call16

from conftest import charge_point, eventually, registry
from test_api import http, own_token, register_at, token_for
from test_commands import Pile16

# Where A's objects come from: parameter (path, query or body property) name -> key in `world_a`.
PATH_VALUES = {
    "stationId": "station",
    "commandId": "command",
    "transactionId": "transaction",
    "idToken": "id_token",
    "organisationId": "organisation",
    "subject": "driver",
    "reservationId": "reservation",
}
# Query parameters lists need (not objects of anyone): name -> value.
QUERY_VALUES = {"latitude": "latitude", "longitude": "longitude", "radius": 2000, "limit": 100}
# Bodies the schema alone cannot make valid: "METHOD path" -> body (world_a keys as "{key}").
BODIES = {
    "POST /v1/operator/stations/{stationId}/commands": {"action": "Reset", "payload": {"type": "Soft"}},
    "POST /v1/operator/stations": {"stationId": "{station}", "protocols": ["ocpp1.6"]},
}
# Operations that create an object under an id the caller chooses, in a namespace every organisation
# shares (piles connect with their station id): naming A's id gets 409 for anyone, A included, and
# must never take the object over.
CREATES = {"POST /v1/operator/stations"}
# Operations that create an object under an id the caller chooses in the caller's own namespace
# (each organisation issues its own tokens): naming A's id makes B's own object, answered like any
# new one, and never touches A's. -> where B's copy is deleted again, so lists stay B's own.
OWN_NAMESPACE = {"POST /v1/operator/tokens": "/v1/operator/tokens/{idToken}"}
# Objects anyone signed in may see, by operation: their answer is checked for A's other ids instead.
PUBLIC_OBJECTS = {"GET /v1/stations/{stationId}": {"station"}}
# Lists in which some of A's ids are public (drivers find every station).
PUBLIC_IN_LIST = {"GET /v1/stations": {"station"}}
# Ids too short to search for in a body (1.6 transaction ids are small counters).
MIN_SCANNED_ID = 6
METHODS = ("get", "post", "put", "patch", "delete")


def document() -> dict:
    status, body, _ = http("GET", "/openapi.json")
    assert status == 200
    return body


def operations(doc: dict):
    """(method, path, operation) of every documented operation, deletes last (they destroy A's objects)."""
    found = [(m, p, op) for p, item in doc["paths"].items() for m, op in item.items() if m in METHODS]
    return sorted(found, key=lambda o: (o[0] == "delete", o[1], o[0]))


def parameters(op: dict, where: str) -> list[dict]:
    return [p for p in op.get("parameters", []) if p["in"] == where]


def resolve(doc: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def body_schema(doc: dict, op: dict) -> dict | None:
    content = op.get("requestBody", {}).get("content", {})
    return resolve(doc, content["application/json"]["schema"]) if "application/json" in content else None


def example(doc: dict, schema: dict, world: dict, name: str = ""):
    """A value valid for `schema`: A's object where the property names one, else a plain one."""
    schema = resolve(doc, schema)
    if name in PATH_VALUES:
        return world[PATH_VALUES[name]]
    for key in ("oneOf", "anyOf"):
        if key in schema:
            options = [s for s in schema[key] if resolve(doc, s).get("type") != "null"]
            return example(doc, options[0], world, name)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next(k for k in kind if k != "null")
    if "enum" in schema:
        return schema["enum"][0]
    if kind == "object" or "properties" in schema:
        properties = schema.get("properties", {})
        required = set(schema.get("required", []))
        return {prop: example(doc, sub, world, prop) for prop, sub in properties.items()
                if prop in required or prop in PATH_VALUES}
    if kind == "array":
        return [example(doc, schema.get("items", {}), world)] if schema.get("minItems") else []
    if kind == "integer":
        return max(schema.get("minimum", 1), 1)
    if kind == "number":
        return schema.get("minimum", 0)
    if kind == "boolean":
        return False
    return "x" * max(schema.get("minLength", 1), 1)


def fill(template, world: dict):
    if isinstance(template, dict):
        return {k: fill(v, world) for k, v in template.items()}
    if isinstance(template, str) and re.fullmatch(r"\{\w+\}", template):
        return world[template[1:-1]]
    return template


def request_for(doc: dict, method: str, path: str, op: dict, world: dict):
    """(url path with query, body) of a valid request for `op` about A's objects."""
    url = path
    for p in parameters(op, "path"):
        url = url.replace("{" + p["name"] + "}", urllib.parse.quote(str(world[PATH_VALUES[p["name"]]]), safe=""))
    query = {}
    for p in parameters(op, "query"):
        if p["name"] in QUERY_VALUES:
            value = QUERY_VALUES[p["name"]]
            query[p["name"]] = world[value] if isinstance(value, str) else value
        elif p.get("required"):
            pytest.fail(f"{method.upper()} {path}: required query parameter {p['name']!r} has no value in QUERY_VALUES")
    if query:
        url += "?" + urllib.parse.urlencode(query)
    key = f"{method.upper()} {path}"
    if key in BODIES:
        body = fill(BODIES[key], world)
    else:
        schema = body_schema(doc, op)
        body = example(doc, schema, world) if schema is not None else None
    return url, body


def url_of(path: str, world: dict) -> str:
    """`path` with A's objects for its parameters."""
    for name, key in PATH_VALUES.items():
        path = path.replace("{" + name + "}", urllib.parse.quote(str(world[key]), safe=""))
    return path


def names_an_object(doc: dict, op: dict) -> bool:
    if parameters(op, "path"):
        return True
    schema = body_schema(doc, op)
    return schema is not None and any(p in PATH_VALUES for p in schema.get("properties", {}))


def owner_of(path: str, world: dict) -> str:
    if path.startswith("/v1/operator/"):
        return world["operator_token"]
    if path.startswith("/v1/admin/"):
        return world["admin_token"]
    return world["driver_token"]


def now() -> str:
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


@pytest.fixture(scope="module")
def world_a() -> dict:
    """Driver A, organisation A and their objects: a station, an id token, a command, a session, a
    reservation."""
    organisation = f"org-a-{uuid.uuid4().hex[:6]}"
    lat, lon = -41.28 + (uuid.uuid4().int % 1000) / 1e5, 174.77
    station, password = register_at(lat, lon, organisation=organisation)
    driver = f"alice-{uuid.uuid4().hex[:6]}"
    driver_token = token_for(driver, ["driver"])
    tag = own_token(driver_token, organisation)

    async def charge():
        async with charge_point(Pile16, station, password, "ocpp1.6") as (cp, _):
            await cp.call(call16.BootNotification(charge_point_model="Authz", charge_point_vendor="Judge"), suppress=False)
            started = await cp.call(call16.StartTransaction(connector_id=1, id_tag=tag, meter_start=0, timestamp=now()), suppress=False)
            # A's reservation, made while the station is online.
            status, reserved, _ = http("POST", "/v1/me/reservations", driver_token,
                                       {"stationId": station, "idToken": tag, "connector": 2, "minutes": 5})
            assert status == 201, reserved
            return started.transaction_id, reserved["reservationId"]

    transaction, reservation = asyncio.run(charge())
    asyncio.run(eventually(lambda: registry("sessions", "--id", station)["sessions"]))
    status, started, _ = http("POST", "/v1/charging/start", driver_token, {"stationId": station, "idToken": tag})
    assert status == 202, started
    return {
        "organisation": organisation, "station": station, "latitude": lat, "longitude": lon,
        "driver": driver, "id_token": tag, "command": started["commandId"], "transaction": str(transaction),
        "reservation": str(reservation),
        "driver_token": driver_token,
        "operator_token": token_for(f"op-a-{uuid.uuid4().hex[:6]}", ["operator"], organisation=organisation),
        "admin_token": token_for(f"admin-{uuid.uuid4().hex[:6]}", ["admin"]),
    }


@pytest.fixture(scope="module")
def users_b() -> dict[str, str]:
    """A second driver (with a token of their own) and an operator of a second organisation (with a station)."""
    bob = f"bob-{uuid.uuid4().hex[:6]}"
    bob_token = token_for(bob, ["driver"])
    own_token(bob_token)
    organisation = f"org-b-{uuid.uuid4().hex[:6]}"
    register_at(-41.0, 174.0, organisation=organisation)
    return {
        "second driver": bob_token,
        "operator of another organisation": token_for(f"op-b-{uuid.uuid4().hex[:6]}", ["operator"], organisation=organisation),
    }


def test_every_parameter_has_a_value():
    doc = document()
    unknown = set()
    for method, path, op in operations(doc):
        for p in op.get("parameters", []):
            if p["in"] == "path" and p["name"] not in PATH_VALUES:
                unknown.add(f"{method.upper()} {path}: path parameter {p['name']!r}")
            if p["in"] == "query" and p.get("required") and p["name"] not in QUERY_VALUES:
                unknown.add(f"{method.upper()} {path}: query parameter {p['name']!r}")
    assert not unknown, "add A's object for these to PATH_VALUES / QUERY_VALUES and world_a: " + "; ".join(sorted(unknown))


def private_ids(world: dict, public=frozenset()) -> dict[str, str]:
    return {key: str(world[key]) for key in set(PATH_VALUES.values()) - set(public)
            if len(str(world[key])) >= MIN_SCANNED_ID}


def test_nobody_else_reaches_a_objects(world_a, users_b):
    doc = document()
    checked, failures = [], []
    for method, path, op in operations(doc):
        if not names_an_object(doc, op):
            continue
        url, body = request_for(doc, method, path, op, world_a)
        key = f"{method.upper()} {path}"
        public = PUBLIC_OBJECTS.get(key)
        refusals = (403, 404, 409) if key in CREATES else (403, 404)
        for who, token in users_b.items():
            before = http("GET", url_of(OWN_NAMESPACE[key], world_a), owner_of(path, world_a))[1] if key in OWN_NAMESPACE else None
            status, answer, _ = http(method.upper(), url, token, body)
            if key in OWN_NAMESPACE and status == 201:
                http("DELETE", url_of(OWN_NAMESPACE[key], world_a), token)
                after = http("GET", url_of(OWN_NAMESPACE[key], world_a), owner_of(path, world_a))[1]
                if after != before:
                    failures.append(f"{method.upper()} {url} as {who} changed A's object: {before} -> {after}")
            elif public is not None and status == 200:
                leaked = [k for k, v in private_ids(world_a, public).items() if v in json.dumps(answer)]
                if leaked:
                    failures.append(f"{method.upper()} {url} as {who} shows A's {leaked}")
            elif status not in refusals:
                failures.append(f"{method.upper()} {url} as {who}: {status} {answer}")
        # The same request by its owner is not refused as such: the body and parameters are valid.
        status, answer, _ = http(method.upper(), url, owner_of(path, world_a), body)
        if key in CREATES:
            if status not in (200, 409):
                failures.append(f"{method.upper()} {url} as its owner: {status} {answer}")
        elif status in (400, 401, 403, 404, 422) or status >= 500:
            failures.append(f"{method.upper()} {url} as its owner: {status} {answer} (fix BODIES / the fixtures)")
        checked.append(f"{method.upper()} {path}")
    assert not failures, "\n".join(failures)
    assert checked, "no operation names an object"


def test_lists_never_show_b_any_of_a_ids(world_a, users_b):
    doc = document()
    secrets = private_ids(world_a)
    lists, failures = [], []
    for method, path, op in operations(doc):
        paginated = any(p["name"] == "cursor" for p in parameters(op, "query"))
        if method != "get" or (parameters(op, "path") and not paginated):
            continue
        url, _ = request_for(doc, method, path, op, world_a)
        public = PUBLIC_IN_LIST.get(f"GET {path}", set())
        for who, token in users_b.items():
            page_url, pages = url, 0
            while page_url and pages < 20:
                status, answer, _ = http("GET", page_url, token)
                if status in (403, 404):
                    break
                if status != 200:
                    failures.append(f"GET {page_url} as {who}: {status} {answer}")
                    break
                text = json.dumps(answer)
                for key, value in secrets.items():
                    if key not in public and value in text:
                        failures.append(f"GET {page_url} as {who} shows A's {key} {value}")
                cursor, pages = (answer or {}).get("nextCursor"), pages + 1
                page_url = f"{url}{'&' if '?' in url else '?'}cursor={urllib.parse.quote(cursor)}" if cursor else None
        lists.append(path)
    assert not failures, "\n".join(failures)
    assert lists, "no list operation"
