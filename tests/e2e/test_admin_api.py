"""Admins manage organisations and their operators through the app API (issue 4): an admin
creates an organisation and makes a user its operator; that operator sees the organisation's
station; after the admin ends the membership, the operator's same, still valid token gets 403 at
once; drivers and operators get 403 on every admin route."""

import uuid

from test_api import http, register_at, token_for


def test_an_admin_makes_an_operator_and_ending_the_membership_holds_at_once():
    admin = token_for(f"admin-{uuid.uuid4().hex[:6]}", ["admin"])
    organisation = f"org-{uuid.uuid4().hex[:8]}"
    status, created, headers = http("POST", "/v1/admin/organisations", admin,
                                    {"id": organisation, "name": "Harbour Charging"})
    assert status == 201, created
    assert created["id"] == organisation and created["name"] == "Harbour Charging"
    assert headers.get("Location", headers.get("location")) == f"/v1/admin/organisations/{organisation}"
    assert http("POST", "/v1/admin/organisations", admin, {"id": organisation, "name": "again"})[0] == 409
    status, renamed, _ = http("PATCH", f"/v1/admin/organisations/{organisation}", admin, {"name": "Harbour"})
    assert status == 200 and renamed["name"] == "Harbour", renamed
    assert http("GET", f"/v1/admin/organisations/{organisation}", admin)[1]["name"] == "Harbour"

    station_id, _ = register_at(48.85, 2.35, organisation=organisation)
    subject = f"op-{uuid.uuid4().hex[:8]}"
    # One token for the whole test, minted before the membership exists.
    operator = token_for(subject, ["operator"])
    station = f"/v1/operator/stations/{station_id}"
    assert http("GET", station, operator)[0] == 403

    membership = f"/v1/admin/organisations/{organisation}/operators/{subject}"
    for _ in range(2):  # idempotent
        status, body, _ = http("PUT", membership, admin)
        assert status == 200 and body["subject"] == subject and body["organisationId"] == organisation, body
    status, body, _ = http("GET", station, operator)
    assert status == 200 and body["stationId"] == station_id, body
    status, listed, _ = http("GET", f"/v1/admin/organisations/{organisation}/operators", admin)
    assert status == 200 and [o["subject"] for o in listed["operators"]] == [subject], listed

    for _ in range(2):  # idempotent
        assert http("DELETE", membership, admin)[0] == 204
    status, problem, _ = http("GET", station, operator)
    assert status == 403 and problem["status"] == 403, problem
    assert http("GET", f"/v1/admin/organisations/{organisation}/operators", admin)[1]["operators"] == []
    # An unknown organisation is 404.
    assert http("PUT", f"/v1/admin/organisations/nope-{uuid.uuid4().hex[:6]}/operators/{subject}", admin)[0] == 404


def test_organisations_are_listed_in_pages():
    admin = token_for(f"admin-{uuid.uuid4().hex[:6]}", ["admin"])
    prefix = f"page-{uuid.uuid4().hex[:6]}"
    mine = [f"{prefix}-{n}" for n in range(3)]
    for organisation in mine:
        assert http("POST", "/v1/admin/organisations", admin, {"id": organisation, "name": organisation})[0] == 201
    seen, path = [], "/v1/admin/organisations?limit=2"
    while True:
        status, page, _ = http("GET", path, admin)
        assert status == 200 and len(page["organisations"]) <= 2, page
        seen += [o["id"] for o in page["organisations"]]
        if "nextCursor" not in page:
            break
        path = f"/v1/admin/organisations?limit=2&cursor={page['nextCursor']}"
    assert [o for o in seen if o.startswith(prefix)] == mine
    assert len(seen) == len(set(seen))
    assert http("GET", "/v1/admin/organisations?cursor=forged", admin)[0] == 400


def test_drivers_and_operators_get_403_on_admin_routes():
    organisation = f"org-{uuid.uuid4().hex[:8]}"
    driver = token_for(f"driver-{uuid.uuid4().hex[:6]}", ["driver"])
    operator = token_for(f"op-{uuid.uuid4().hex[:6]}", ["operator"], organisation=organisation)
    routes = [
        ("POST", "/v1/admin/organisations", {"id": "x", "name": "x"}),
        ("GET", "/v1/admin/organisations", None),
        ("GET", f"/v1/admin/organisations/{organisation}", None),
        ("PATCH", f"/v1/admin/organisations/{organisation}", {"name": "x"}),
        ("GET", f"/v1/admin/organisations/{organisation}/operators", None),
        ("PUT", f"/v1/admin/organisations/{organisation}/operators/someone", None),
        ("DELETE", f"/v1/admin/organisations/{organisation}/operators/someone", None),
    ]
    for token in (driver, operator):
        for method, path, body in routes:
            status, problem, _ = http(method, path, token, body)
            assert status == 403 and problem["status"] == 403, (method, path, problem)
    assert http("GET", "/v1/admin/organisations")[0] == 401
