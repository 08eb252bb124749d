"""Differential conformance test: csms-ocpp's payload validator against the official OCA JSON schemas.

The judge is the `jsonschema` package applying the schemas that ship inside the PyPI package
`ocpp` (`ocpp/v16/schemas/*.json`, `ocpp/v201/schemas/*Request.json` and the `*Response.json` of
both), loaded from the installed package at test time, with each schema's own draft (draft-04 for
1.6, draft-06 for 2.0.1) and its `date-time` format check. Our side is the `ocpp-validate` binary of
the `csms-ocpp` crate (found via `OCPP_VALIDATE_BIN`, else built and taken from
`target/debug/ocpp-validate`).

Three validators are judged: a pile's CALL (`decode_request`, for every action the crate covers),
and for every remote command the CSMS sends, the request it sends and the pile's CALLRESULT
(`validate_command_request` / `validate_command_response`). Payloads are generated from the official
schema itself (not from our Rust description of it): one with every property present, valid ones
with random optional fields, lengths, enum values and nesting, and mutations of them (a required
field dropped, a wrong JSON type, `null`, a string one character too long, a bad enum value, an
extra property, bad and odd date-times, integral floats, out-of-range numbers, values beside a
`minimum` or `multipleOf`, empty and over-long arrays), at every depth. For each one our
accept/reject verdict must equal jsonschema's; where jsonschema finds exactly one error, our
CALLERROR code must be the one that error maps to. The only disagreements allowed are the
documented ones in `known_divergence`, each counted and printed.

Schemas with `multipleOf` (1.6 charging profiles: `multipleOf: 0.1`) are judged as the `ocpp` library
itself judges them: schema and payload parsed with `decimal.Decimal`, because in binary floating
point 0.3 is no multiple of 0.1 (jsonschema issue 247).

Environment: OCPP_VALIDATE_BIN, OCPP_CONFORMANCE_SEED (default 20240501),
OCPP_CONFORMANCE_INSTANCES (valid payloads per message schema, default 60).
"""

import copy
import decimal
import importlib.resources
import json
import os
import pathlib
import random
import subprocess
from collections import Counter

import jsonschema
import pytest

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
SEED = int(os.environ.get("OCPP_CONFORMANCE_SEED", "20240501"))
INSTANCES = int(os.environ.get("OCPP_CONFORMANCE_INSTANCES", "60"))
MUTATIONS_PER_INSTANCE = 30

# Subprotocol -> (folder inside the `ocpp` package, schema file name of an action's request).
VERSIONS = {
    "ocpp1.6": ("v16", "{}.json"),
    "ocpp2.0.1": ("v201", "{}Request.json"),
}

# The code each jsonschema keyword maps to, as each version spells it (see csms-ocpp `schema.rs`).
CODE_FOR_KEYWORD = {
    "ocpp1.6": {
        "required": "OccurenceConstraintViolation",
        "type": "TypeConstraintViolation",
        "additionalProperties": "FormationViolation",
        "maxLength": "PropertyConstraintViolation",
        "enum": "PropertyConstraintViolation",
        "format": "PropertyConstraintViolation",
        "minItems": "PropertyConstraintViolation",
        "maxItems": "PropertyConstraintViolation",
        "minimum": "PropertyConstraintViolation",
        "multipleOf": "PropertyConstraintViolation",
    },
    "ocpp2.0.1": {
        "required": "OccurenceConstraintViolation",
        "type": "TypeConstraintViolation",
        "additionalProperties": "FormatViolation",
        "maxLength": "PropertyConstraintViolation",
        "enum": "PropertyConstraintViolation",
        "format": "PropertyConstraintViolation",
        "minItems": "PropertyConstraintViolation",
        "maxItems": "PropertyConstraintViolation",
        "minimum": "PropertyConstraintViolation",
        "multipleOf": "PropertyConstraintViolation",
    },
}

# What ocpp-validate validates: a pile's CALL, or a remote command's request / the pile's response.
REQUEST, COMMAND_REQUEST, COMMAND_RESPONSE = "request", "commandRequest", "commandResponse"

I32 = (-(2**31), 2**31 - 1)
DECIMAL_MAX = 79228162514264337593543950335  # rust_decimal::Decimal::MAX


# --- our side -------------------------------------------------------------------------------------


def validator_binary():
    explicit = os.environ.get("OCPP_VALIDATE_BIN")
    if explicit:
        return pathlib.Path(explicit)
    # Build it so the test never judges a stale binary; a no-op when it is up to date.
    subprocess.run(
        ["cargo", "build", "--quiet", "-p", "csms-ocpp", "--bin", "ocpp-validate"],
        cwd=REPO_ROOT,
        check=True,
    )
    return REPO_ROOT / "target" / "debug" / "ocpp-validate"


_BINARY = None


def binary():
    global _BINARY
    if _BINARY is None:
        _BINARY = validator_binary()
        assert _BINARY.exists(), f"{_BINARY} not found: cargo build -p csms-ocpp --bin ocpp-validate"
    return _BINARY


def ours_raw(requests):
    """Our verdicts for `{"version", "action", "payload"}` dicts, from one run of the binary."""
    lines = "".join(json.dumps(r) + "\n" for r in requests)
    out = subprocess.run(
        [str(binary())], input=lines, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert len(out) == len(requests), "ocpp-validate must answer every line"
    answers = [json.loads(line) for line in out]
    assert not [a for a in answers if a.get("code") == "BadInput"], "payload not transmitted"
    return answers


def ours(version, action, payloads, kind=REQUEST):
    return ours_raw([{"version": version, "action": action, "kind": kind, "payload": p} for p in payloads])


def action_lists(flag):
    out = subprocess.run([str(binary()), flag], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def covered():
    return action_lists("--covered")


# --- the judge ------------------------------------------------------------------------------------


def schema_dir(version):
    folder, _ = VERSIONS[version]
    return importlib.resources.files("ocpp") / folder / "schemas"


def request_actions(version):
    """Every request action the official schema set of the version has."""
    _, pattern = VERSIONS[version]
    suffix = pattern.format("")
    names = [f.name for f in schema_dir(version).iterdir() if f.name.endswith(".json")]
    return sorted(
        n[: -len(suffix)] for n in names if n.endswith(suffix) and not n.endswith("Response.json")
    )


def schema_file(version, action, kind=REQUEST):
    _, pattern = VERSIONS[version]
    name = "{}Response.json".format(action) if kind == COMMAND_RESPONSE else pattern.format(action)
    return schema_dir(version) / name


def load_schema(version, action, kind=REQUEST, parse_float=float):
    # The OCA 2.0.1 files start with a byte order mark.
    return json.loads(schema_file(version, action, kind).read_text(encoding="utf-8-sig"), parse_float=parse_float)


class Judge:
    """jsonschema with the schema's draft and date-time check; `multipleOf` schemas in decimals."""

    def __init__(self, version, action, kind=REQUEST):
        self.decimal = "multipleOf" in schema_file(version, action, kind).read_text(encoding="utf-8-sig")
        schema = load_schema(version, action, kind, decimal.Decimal if self.decimal else float)
        cls = jsonschema.validators.validator_for(schema)
        checker = cls.FORMAT_CHECKER
        assert "date-time" in checker.checkers, "install rfc3339-validator (tests/requirements.txt)"
        self.validator = cls(schema, format_checker=checker)

    def errors(self, payload):
        if not self.decimal:
            return list(self.validator.iter_errors(payload))
        # As the `ocpp` library does; the precision only keeps `1e30 % 0.1` from raising.
        exact = json.loads(json.dumps(payload), parse_float=decimal.Decimal)
        with decimal.localcontext() as ctx:
            ctx.prec = 1000
            return list(self.validator.iter_errors(exact))


# --- generating payloads from the official schema ----------------------------------------------------

ALPHABET = "abcXYZ019 -_.:é€中😀"


# Enum values the official schema allows but rust-ocpp cannot hold; left out of valid payloads and
# tried on their own (see `known_divergence`).
UNREPRESENTABLE = {"ocpp1.6": frozenset({"Hertz"}), "ocpp2.0.1": frozenset()}


class Gen:
    def __init__(self, root, rng, avoid=frozenset()):
        self.root = root
        self.rng = rng
        self.avoid = avoid

    def resolve(self, s):
        while "$ref" in s:
            s = self.root["definitions"][s["$ref"].split("/")[-1]]
        return s

    def string(self, max_len):
        r = self.rng
        n = r.choice([0, 1, r.randint(0, max_len), max_len, max_len])
        return "".join(r.choice(ALPHABET) for _ in range(n))

    def date_time(self):
        r = self.rng
        y, mo = r.randint(1, 9999), r.randint(1, 12)
        d = r.randint(1, 28)
        frac = r.choice(["", "." + str(r.randint(0, 999)).zfill(3), ".5", ".123456789"])
        off = r.choice(["Z", "z", "+00:00", "-05:30", "+14:00", "-00:00"])
        t = r.choice("Tt")
        return f"{y:04}-{mo:02}-{d:02}{t}{r.randint(0, 23):02}:{r.randint(0, 59):02}:{r.randint(0, 59):02}{frac}{off}"

    def valid(self, s, full=False, depth=0):
        """A valid instance; `full`: every property present and every array of one item (or minItems)."""
        s = self.resolve(s)
        r = self.rng
        kind = s.get("type")
        if "enum" in s:
            return r.choice([e for e in s["enum"] if e not in self.avoid])
        if kind == "object":
            out = {}
            for name, sub in s.get("properties", {}).items():
                if full or name in s.get("required", []) or r.random() < 0.6:
                    out[name] = self.valid(sub, full, depth + 1)
            if s.get("additionalProperties", True) is not False and r.random() < 0.3:
                out["vendorSpecificExtra"] = {"any": [1, "x", None]}
            return out
        if kind == "array":
            lo = s.get("minItems", 0)
            hi = s.get("maxItems", lo + 3)
            # Deep arrays stay short so that nested ones (2.0.1 sales tariffs) do not multiply.
            n = max(lo, 1) if full else r.randint(lo, min(hi, lo + (3 if depth < 4 else 1)))
            return [self.valid(s["items"], full, depth + 1) for _ in range(n)]
        if kind == "string":
            if s.get("format") == "date-time":
                return self.date_time()
            return self.string(s.get("maxLength", 40))
        if kind == "integer":
            return r.choice([0, 1, r.randint(0, I32[1]), I32[1]])
        if kind == "number" and "multipleOf" in s:
            places = -decimal.Decimal(str(s["multipleOf"])).as_tuple().exponent
            return r.choice([0, 7, 0.3, 21.4, round(r.uniform(-1e5, 1e5), places), r.randint(-1000, 1000)])
        if kind == "number":
            return r.choice([0, 7, 1.5, -3.25, round(r.uniform(-1e6, 1e6), 3), r.randint(-1000, 1000)])
        if kind == "boolean":
            return r.random() < 0.5
        raise AssertionError(f"schema construct not handled: {s}")

    def nodes(self, s, value, path=()):
        """(path, schema, value) of every node of a valid instance, depth first."""
        s = self.resolve(s)
        yield path, s, value
        if isinstance(value, dict):
            for name, sub in value.items():
                if name in s.get("properties", {}):
                    yield from self.nodes(s["properties"][name], sub, path + (name,))
        elif isinstance(value, list):
            for i, sub in enumerate(value):
                yield from self.nodes(s["items"], sub, path + (i,))

    def mutations(self, s, value):
        """(kind, path, new value or DROP) for the node."""
        kind = s.get("type")
        too_long = lambda n: "é" * (n + 1)  # noqa: E731 - counted in characters, not bytes
        if "enum" in s:
            yield "bad-enum", "NotAnAllowedValue"
            for value in s["enum"]:
                if value in self.avoid:
                    yield "unrepresentable-enum", value
            yield "enum-case", s["enum"][0].lower() if s["enum"][0].lower() != s["enum"][0] else s["enum"][0].upper()
            yield "wrong-type", 12
        elif kind == "object":
            for name in s.get("required", []):
                yield "drop-required", (DROP, name)
            for name in s.get("properties", {}):
                if name not in s.get("required", []) and name in value:
                    yield "drop-optional", (DROP, name)
            yield "extra-property", (ADD, "unexpectedField")
            yield "wrong-type", []
            yield "wrong-type", "{}"
        elif kind == "array":
            yield "empty-array", []
            if "maxItems" in s and value:
                yield "too-many", [copy.deepcopy(value[0])] * (s["maxItems"] + 1)
            yield "wrong-type", {}
        elif kind == "string" and s.get("format") == "date-time":
            for bad in (
                "2024-13-01T00:00:00Z",
                "2024-02-30T00:00:00Z",
                "2023-02-29T00:00:00Z",
                "2024-01-01T00:00:00",
                "2024-01-01 00:00:00Z",
                "2024-01-01T24:00:00Z",
                "2024-01-01T00:00:60Z",
                "2024-01-01T00:00:00+24:00",
                "2024-01-01T00:00:00.Z",
                "0000-01-01T00:00:00Z",
                "2024-01-01",
                "yesterday",
                "",
                "2024-01-01T00:00:00Z\n",
            ):
                yield "date-time", bad
            for good in ("2024-02-29T23:59:59Z", "2024-01-01t00:00:00z", "2024-01-01T00:00:00.123456789012-00:00"):
                yield "date-time", good
            yield "wrong-type", 1704067200
        elif kind == "string":
            if "maxLength" in s:
                yield "too-long", too_long(s["maxLength"])
                yield "max-length", "😀" * s["maxLength"]
            yield "wrong-type", 12
        elif kind == "integer":
            yield "string-number", "12"
            yield "integral-float", 1.0
            yield "fraction", 1.5
            yield "negative", -5
            yield "int-range", I32[0]
            yield "int-range", I32[1] + 1
            yield "int-range", 2**32
            yield "int-range", 10**30
            if "minimum" in s:
                yield "minimum", int(s["minimum"])
                yield "minimum", int(s["minimum"]) - 1
            yield "wrong-type", True
        elif kind == "number":
            if "multipleOf" in s:
                # Multiples of 0.1, most of which binary floats miss (0.3 / 0.1 == 2.9999999999999996).
                for good in (0.3, 21.4, -0.7, 1e2):
                    yield "multiple-of", good
                for bad in (1.25, 0.05, 0.30000000000000004):
                    yield "multiple-of", bad
            yield "string-number", "1.5"
            yield "integer", 7
            yield "decimal-range", 1e30
            yield "decimal-range", -(10**40)
            yield "decimal-range", 1e-40
            yield "wrong-type", False
        elif kind == "boolean":
            yield "wrong-type", "true"
            yield "wrong-type", 1
        yield "null", None


DROP, ADD = object(), object()


def apply(instance, path, new):
    """A copy of `instance` with the node at `path` replaced (or a property dropped / added)."""
    out = copy.deepcopy(instance)
    parent, key = None, None
    node = out
    for step in path:
        parent, key, node = node, step, node[step]
    if isinstance(new, tuple) and new and new[0] is DROP:
        del node[new[1]]
    elif isinstance(new, tuple) and new and new[0] is ADD:
        node[new[1]] = "x"
    elif parent is None:
        return new
    else:
        parent[key] = new
    return out


def cases(version, schema, rng):
    """(label, payload, divergence class or None) for the schema of one message."""
    gen = Gen(schema, rng, UNREPRESENTABLE[version])
    out = []
    for i in range(INSTANCES):
        instance = gen.valid(schema, full=i == 0)
        out.append(("valid", instance, None))
        candidates = [
            (kind, path, new)
            for path, node_schema, value in gen.nodes(schema, instance)
            for kind, new in gen.mutations(node_schema, value)
        ]
        # The first (full) instance gets every mutation, the others a sample.
        picked = candidates if i == 0 else rng.sample(candidates, min(len(candidates), MUTATIONS_PER_INSTANCE))
        for kind, path, new in picked:
            label = f"{kind} at /{'/'.join(map(str, path))}"
            out.append((label, apply(instance, path, new), (kind, path, new)))
    return out


# --- documented divergences ----------------------------------------------------------------------


def known_divergence(version, action, mutation, answer):
    """Why we may refuse what the official schema accepts, or None. Each is intended:

    - integers: the schema sets no range; rust-ocpp 3.0.4 holds them in i32 (u32 for 1.6
      connectorId and stackLevel, which the 1.6 PDF says are >= 0), so values beyond are refused as
      PropertyConstraintViolation ("out of range");
    - decimals (2.0.1 `number`): rust_decimal::Decimal holds 28 significant digits, |x| < 7.9e28;
    - 1.6 MeterValues unit "Hertz": in the OCA schema, not in the 1.6 PDF nor in rust-ocpp;
    - a date-time with a trailing newline: Python's `$` lets jsonschema's checker accept it,
      RFC 3339 does not.
    """
    if mutation is None or answer["ok"] or answer["code"] != "PropertyConstraintViolation":
        return None
    kind, path, new = mutation
    field = path[-1] if path else None
    if isinstance(new, int) and not isinstance(new, bool) and "out of range" in answer["description"]:
        if not I32[0] <= new <= I32[1]:
            return "integer beyond i32"
        if version == "ocpp1.6" and field in ("connectorId", "stackLevel") and new < 0:
            return f"negative 1.6 {field} (u32)"
    if kind == "decimal-range" and "does not fit a decimal" in answer["description"]:
        return "number beyond rust_decimal"
    if kind == "date-time" and new.endswith("\n"):
        return "date-time with trailing newline"
    if kind == "unrepresentable-enum" and f'"{new}"' in answer["description"]:
        return f"1.6 {field} {new}"
    return None


# --- the tests -----------------------------------------------------------------------------------


# Parameters are computed at collection. If the validator cannot be built or run, or lists nothing,
# the tests must fail, not vanish: a skip (or pytest's empty parameter set) would pass the suite
# without judging anything. So that case becomes one parameter whose test fails with the reason.
UNAVAILABLE = "ocpp-validate unavailable"


def parameters(make, width):
    try:
        found = make()
        if not found:
            raise RuntimeError("it lists no actions")
        return found
    except Exception as e:
        return [pytest.param(UNAVAILABLE, f"{type(e).__name__}: {e}", *["?"] * (width - 2), id=UNAVAILABLE)]


def covered_pairs():
    return parameters(lambda: [(v, a) for v, actions in covered().items() for a in actions], 2)


def command_triples():
    return parameters(lambda: [(v, a, k) for v, actions in action_lists("--commands").items() for a in actions
                               for k in (COMMAND_REQUEST, COMMAND_RESPONSE)], 3)


def fail_if_unavailable(version, why):
    if version == UNAVAILABLE:
        pytest.fail(f"{UNAVAILABLE}: {why}", pytrace=False)


@pytest.mark.parametrize(("version", "action"), covered_pairs())
def test_verdicts_match_the_official_schema(version, action):
    fail_if_unavailable(version, action)
    differential(version, action, REQUEST)


@pytest.mark.parametrize(("version", "action", "kind"), command_triples())
def test_command_verdicts_match_the_official_schema(version, action, kind):
    fail_if_unavailable(version, action)
    differential(version, action, kind)


def differential(version, action, kind):
    seed = f"{SEED}:{version}:{action}" if kind == REQUEST else f"{SEED}:{version}:{action}:{kind}"
    rng = random.Random(seed)
    judge = Judge(version, action, kind)
    generated = cases(version, load_schema(version, action, kind), rng)
    answers = ours(version, action, [payload for _, payload, _ in generated], kind)

    failures, divergences, tally = [], Counter(), Counter()
    for (label, payload, mutation), answer in zip(generated, answers):
        errors = judge.errors(payload)
        theirs = not errors
        tally["accepted" if theirs else "rejected"] += 1
        if theirs == answer["ok"]:
            if len(errors) == 1:
                keyword = errors[0].validator
                if keyword == "type" and not errors[0].absolute_path:
                    keyword = "additionalProperties"  # a payload that is not an object: Format
                expected = CODE_FOR_KEYWORD[version].get(keyword)
                if expected and answer["code"] != expected:
                    failures.append(f"{label}: code {answer['code']}, expected {expected} "
                                    f"({errors[0].message[:80]}); ours: {answer['description']}")
            continue
        why = known_divergence(version, action, mutation, answer) if theirs else None
        if why:
            divergences[why] += 1
            continue
        failures.append(
            f"{label}: jsonschema {'accepts' if theirs else 'rejects'}"
            f"{'' if theirs else ' (' + errors[0].message[:80] + ')'}, "
            f"we {'accept' if answer['ok'] else 'reject: ' + answer['code'] + ' ' + answer['description']}"
        )

    print(f"{version} {action} ({kind}): {len(generated)} payloads, {dict(tally)}, "
          f"known divergences {dict(divergences)}")
    assert tally["accepted"] and tally["rejected"], "the generator must produce both verdicts"
    assert not failures, f"{len(failures)} disagreements:\n" + "\n".join(failures[:25])


@pytest.mark.parametrize("version", sorted(VERSIONS))
def test_every_action_of_the_official_schema_set_is_known(version):
    """Covered actions validate; every other action of the version is NotSupported, not NotImplemented."""
    actions = request_actions(version)
    assert sorted(action_lists("--known")[version]) == actions, "our list of the version's actions"
    covered_here = set(covered()[version])
    assert covered_here <= set(actions)
    answers = ours_raw([{"version": version, "action": a, "payload": {}} for a in actions])
    for action, answer in zip(actions, answers):
        if action in covered_here:
            assert answer.get("code") not in ("NotSupported", "NotImplemented"), (action, answer)
        else:
            assert answer.get("code") == "NotSupported", (action, answer)


@pytest.mark.parametrize("version", sorted(VERSIONS))
def test_unknown_actions_are_not_implemented(version):
    for action in ["Foo", "bootnotification", "BootNotificationRequest", ""]:
        (answer,) = ours(version, action, [{}])
        assert answer["code"] == "NotImplemented", (action, answer)


# The remote commands, in the order the CSMS lists them (csms-ocpp `command_actions`).
COMMANDS = {
    "ocpp1.6": [
        "RemoteStartTransaction", "RemoteStopTransaction", "Reset", "UnlockConnector", "ChangeAvailability",
        "ChangeConfiguration", "GetConfiguration", "ClearCache", "TriggerMessage", "DataTransfer", "SendLocalList",
        "GetLocalListVersion", "ReserveNow", "CancelReservation",
    ],
    "ocpp2.0.1": [
        "RequestStartTransaction", "RequestStopTransaction", "Reset", "UnlockConnector", "ChangeAvailability",
        "SetVariables", "GetVariables", "GetBaseReport", "TriggerMessage", "ClearCache", "SendLocalList",
        "GetLocalListVersion", "ReserveNow", "CancelReservation",
    ],
}


@pytest.mark.parametrize("version", sorted(VERSIONS))
def test_every_command_has_official_request_and_response_schemas(version):
    assert action_lists("--commands")[version] == COMMANDS[version]
    for action in COMMANDS[version]:
        assert action in request_actions(version), action
        for kind in (COMMAND_REQUEST, COMMAND_RESPONSE):
            assert schema_file(version, action, kind).is_file(), (action, kind)
    # A pile sending one still gets NotSupported (unless the CSMS also takes it from piles: 1.6
    # DataTransfer goes both ways).
    covered_here = set(covered()[version])
    requests = [{"version": version, "action": a, "payload": {}} for a in COMMANDS[version]]
    for action, answer in zip(COMMANDS[version], ours_raw(requests)):
        if action not in covered_here:
            assert answer["code"] == "NotSupported", (action, answer)


@pytest.mark.parametrize("version", sorted(VERSIONS))
@pytest.mark.parametrize("kind", [COMMAND_REQUEST, COMMAND_RESPONSE])
def test_unknown_commands_are_not_implemented(version, kind):
    other = "ocpp2.0.1" if version == "ocpp1.6" else "ocpp1.6"
    foreign = [a for a in COMMANDS[other] if a not in COMMANDS[version]][0]
    for action in ["Foo", "BootNotification", "Heartbeat", "reset", "ResetRequest", foreign, ""]:
        (answer,) = ours(version, action, [{}], kind)
        assert answer["code"] == "NotImplemented", (action, answer)
        assert "is not a command the CSMS sends" in answer["description"], answer
