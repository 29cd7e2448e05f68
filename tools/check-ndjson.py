#!/usr/bin/env python3
"""Check NDJSON event files against the import format of spec/events.md.

Usage: tools/check-ndjson.py [--now RFC3339] [--require-event-id] [--quiet] FILE... (- = stdin)

Every line must be one JSON object with the envelope fields of events.md ("Import format") and
the `data` of its type ("Types and their data"): required fields present, no unknown field at
any level, the right JSON types, enum values and ranges, the patient id pattern, an RFC 3339
`occurredAt` with an offset and not more than 24 hours after --now (default: the clock), an
actor role allowed to record the type ("Who may record what"), eventIds that are UUIDs and
unique across all the files given, and corrections (`EventAmended`, `EventVoided`) whose target
is an event given earlier (this file or an earlier one on the command line) of the same patient
and not voided. Amended data is checked against the target's type, merged as protocol.md's
"Corrections" reads it.

Each problem is printed as `FILE:LINE: field: problem (expected)`. Exit 0 when clean, 65 when
any problem was found, 64 on bad usage. Python 3 standard library only.
"""

import datetime as _dt
import json
import re
import sys

EXIT_OK, EXIT_USAGE, EXIT_DATAERR = 0, 64, 65

PATIENT_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
UUID_RE = re.compile(r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$")
TS_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?"
    r"(?:([Zz])|([+-])(\d{2}):(\d{2}))$")
ALERT_KINDS = (
    "dose-above-limit", "more-frequent-than-weekly", "symptom-rise", "tolerance-review",
    "non-response", "lft-abnormal", "urology-referral", "substance-use", "psychotic-symptoms",
    "bp-high", "pregnancy-planning", "infusion-during-pregnancy", "holiday-overrun",
    "booster-indicated", "relapse", "discontinuation-eligible",
    # session.md R13 (patient alerts) and R15 (lot alerts)
    "dosed-above-bp-limit", "session-bp-high", "desaturation", "deep-sedation", "early-discharge",
    "discharged-without-criteria", "discharged-without-escort", "transferred",
    "inventory-discrepancy", "lot-overdrawn")
ALERT_RE = re.compile(r"^(" + "|".join(re.escape(k) for k in ALERT_KINDS) + r"):"
                      r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$")

ENVELOPE_REQUIRED = ("type", "patient", "occurredAt", "actor", "data")
ENVELOPE_OPTIONAL = ("eventId", "expectedVersion")
ROLES = ("clinician", "nurse", "compliance", "admin")

NURSE_TYPES = {"InfusionAdministered", "ScoreRecorded", "VitalsRecorded", "LabResulted",
               "ScreeningRecorded", "SideEffectReported",
               # session.md "Who may record"
               "ObservationRecorded", "DischargeRecorded", "RemsFormSubmitted", "StockWasted"}
# session.md: the stock types carry no patient (their stream is the lot)
STOCK_TYPES = {"StockReceived", "StockWasted", "StockDisposed", "StockAdjusted", "InventoryCounted"}
ADMIN_TYPES = {"PatientEnrolled", "StockReceived", "StockDisposed", "StockAdjusted", "InventoryCounted",
               "RemsFormSubmitted"}
LOT_RE = re.compile(r"^[A-Za-z0-9._/-]{1,40}$")
SESSION_LINKED = {"ObservationRecorded", "DischargeRecorded", "RemsFormSubmitted"}
CORRECTIONS = {"EventAmended", "EventVoided"}


# ---------------------------------------------------------------- field checkers
# A checker takes (value) and returns None when fine, else (problem, expected).

def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def enum(*values):
    shown = " | ".join(values)

    def check(v):
        if not isinstance(v, str):
            return ("not a string", "one of " + shown)
        if v not in values:
            return ("unknown value %s" % json.dumps(v), "one of " + shown)
        return None
    return check


def integer(lo, hi):
    def check(v):
        if not _is_int(v):
            return ("not an integer: %s" % json.dumps(v), "an integer %d-%d" % (lo, hi))
        if v < lo or v > hi:
            return ("%d out of range" % v, "an integer %d-%d" % (lo, hi))
        return None
    return check


def boolean(v):
    if not isinstance(v, bool):
        return ("not a boolean: %s" % json.dumps(v), "true or false")
    return None


def text(v):
    if not isinstance(v, str):
        return ("not a string", "a string")
    return None


def nonblank(v):
    if not isinstance(v, str):
        return ("not a string", "a non-blank string")
    if not v.strip():
        return ("blank", "a non-blank string")
    return None


def uuid(v):
    if not isinstance(v, str) or not UUID_RE.match(v):
        return ("not a UUID: %s" % json.dumps(v)[:80], "a UUID, 8-4-4-4-12 hex digits")
    return None


def alert_id(v):
    if not isinstance(v, str) or not ALERT_RE.match(v):
        return ("not an alert id: %s" % json.dumps(v)[:80],
                "<kind>:<eventId> with a kind of protocol.md R7")
    return None


def number(lo, hi, lo_open=False, nonzero=False):
    shown = "a number %s%s, at most %s" % ("> " if lo_open else ">= ", lo, hi)
    if nonzero:
        shown = "a non-zero number, at most %s either way" % hi

    def check(v):
        if not _is_num(v):
            return ("not a number: %s" % json.dumps(v)[:40], shown)
        if nonzero:
            if v == 0 or abs(v) > hi:
                return ("%s out of range" % v, shown)
        elif v < lo or (lo_open and v == lo) or v > hi:
            return ("%s out of range" % v, shown)
        return None
    return check


def lot_id(v):
    if not isinstance(v, str) or not LOT_RE.match(v):
        return ("bad lot %s" % json.dumps(v)[:60], "^[A-Za-z0-9._/-]{1,40}$")
    return None


def text_max(n, lo=0):
    def check(v):
        if not isinstance(v, str):
            return ("not a string", "a string of %d-%d characters" % (lo, n))
        if len(v) > n or len(v) < lo or (lo and not v.strip()):
            return ("%d characters" % len(v), "a string of %d-%d characters" % (lo, n))
        return None
    return check


def lab_values(v):
    if not isinstance(v, dict):
        return ("not an object", "an object of numbers")
    for k, x in v.items():
        if not _is_num(x):
            return ("value of %s is not a number" % json.dumps(k), "an object of numbers")
    return None


def _dose_problems(v, path):
    """InfusionAdministered.dose: {value > 0, unit}, at most 5 mg/kg or 1000 mg."""
    out = []
    if not isinstance(v, dict):
        return [(path, "not an object", '{"value": number > 0, "unit": "mg/kg" | "mg"}')]
    for k in v:
        if k not in ("value", "unit"):
            out.append((path + "." + k, "unknown field", "value, unit"))
    if "unit" not in v:
        out.append((path + ".unit", "missing", '"mg/kg" | "mg"'))
    else:
        p = enum("mg/kg", "mg")(v["unit"])
        if p:
            out.append((path + ".unit",) + p)
    if "value" not in v:
        out.append((path + ".value", "missing", "a number > 0"))
    else:
        x = v["value"]
        if not _is_num(x):
            out.append((path + ".value", "not a number: %s" % json.dumps(x)[:40], "a number > 0"))
        elif x <= 0:
            out.append((path + ".value", "%s is not > 0" % x, "a number > 0"))
        elif v.get("unit") == "mg/kg" and x > 5:
            out.append((path + ".value", "%s mg/kg out of range" % x, "at most 5 mg/kg"))
        elif v.get("unit") == "mg" and x > 1000:
            out.append((path + ".value", "%s mg out of range" % x, "at most 1000 mg"))
    return out


def _steps_problems(v, path):
    """TaperStarted.steps: [{intervalDays, months}], at least one."""
    shape = "[{\"intervalDays\": 1-180, \"months\": 1-120}, ...]"
    if not isinstance(v, list):
        return [(path, "not an array", shape)]
    if not v:
        return [(path, "empty", "at least one step, or no steps field for the rule set's")]
    out = []
    for i, s in enumerate(v):
        sp = "%s[%d]" % (path, i)
        if not isinstance(s, dict):
            out.append((sp, "not an object", shape))
            continue
        for k in s:
            if k not in ("intervalDays", "months"):
                out.append((sp + "." + k, "unknown field", "intervalDays, months"))
        for k, chk in (("intervalDays", integer(1, 180)), ("months", integer(1, 120))):
            if k not in s:
                out.append((sp + "." + k, "missing", chk(None)[1]))
            else:
                p = chk(s[k])
                if p:
                    out.append((sp + "." + k,) + p)
    return out


# type -> {field: (required, checker)}; a checker returning a list handles its own paths.
SCHEMA = {
    "PatientEnrolled": {
        "protocol": (False, enum("interval-extension", "symptom-triggered", "hybrid")),
        "birthYear": (False, integer(1900, 2100)),
        "substanceUseHistory": (False, boolean),
    },
    "ConsentRecorded": {"kind": (True, enum("initial", "reaffirmation"))},
    "InfusionAdministered": {
        "route": (True, enum("IV", "IM", "intranasal", "sublingual", "oral")),
        "dose": (True, _dose_problems),
        "series": (True, enum("acute", "maintenance", "booster")),
        "justification": (False, text),
        # session.md (new optional fields)
        "drug": (False, enum("ketamine", "esketamine")),
        "weightKg": (False, number(20, 350)),
        "lot": (False, lot_id),
        "durationMinutes": (False, integer(1, 240)),
    },
    "ObservationRecorded": {
        "infusion": (True, uuid),
        "systolic": (False, integer(50, 260)),
        "diastolic": (False, integer(30, 160)),
        "heartRate": (False, integer(20, 250)),
        "spo2": (False, number(50, 100)),
        "moaas": (False, integer(0, 5)),
        "cadss": (False, integer(0, 92)),
        "respiratoryDepression": (False, boolean),
    },
    "DischargeRecorded": {
        "infusion": (True, uuid),
        "criteriaMet": (True, boolean),
        "escort": (True, boolean),
        "transferred": (False, boolean),
        "note": (False, text),
    },
    "RemsFormSubmitted": {"infusion": (True, uuid), "reference": (False, text_max(64))},
    "StockReceived": {
        "drug": (True, enum("ketamine", "esketamine")),
        "lot": (True, lot_id),
        "quantityMg": (True, number(0, 100000, lo_open=True)),
        "supplier": (True, text_max(120, 1)),
        "invoice": (False, text_max(64)),
        "concentrationMgPerMl": (False, number(0, 500, lo_open=True)),
    },
    "StockWasted": {
        "lot": (True, lot_id),
        "quantityMg": (True, number(0, 100000, lo_open=True)),
        "witness": (True, nonblank),
        "reason": (True, nonblank),
        "infusion": (False, uuid),
    },
    "StockDisposed": {
        "lot": (True, lot_id),
        "quantityMg": (True, number(0, 100000, lo_open=True)),
        "method": (True, enum("reverse-distributor", "destroyed", "returned")),
        "witness": (True, nonblank),
        "reference": (False, text),
    },
    "StockAdjusted": {
        "lot": (True, lot_id),
        "quantityMg": (True, number(0, 100000, nonzero=True)),
        "reason": (True, enum("loss", "theft", "breakage", "count-correction")),
        "witness": (True, nonblank),
        "reference": (False, text),
    },
    "InventoryCounted": {
        "lot": (True, lot_id),
        "onHandMg": (True, number(0, 10 ** 12)),
        "kind": (True, enum("routine", "biennial")),
    },
    "ScoreRecorded": {
        "instrument": (True, enum("MADRS", "PHQ2", "PHQ9", "MOCA")),
        "value": (True, None),  # range depends on instrument, see _score_problems
    },
    "LabResulted": {
        "test": (True, enum("urinalysis", "LFT", "ECG")),
        "abnormal": (True, boolean),
        "values": (False, lab_values),
    },
    "VitalsRecorded": {
        "systolic": (True, integer(50, 260)),
        "diastolic": (True, integer(30, 160)),
        "heartRate": (False, integer(20, 250)),
    },
    "SideEffectReported": {
        "category": (True, enum("urological", "hepatic", "cognitive", "dissociative",
                                "cardiovascular", "psychotic", "nausea", "other")),
        "severity": (True, enum("mild", "moderate", "severe")),
        "note": (False, text),
    },
    "ScreeningRecorded": {
        "kind": (True, enum("substance-use", "urological-symptoms", "side-effects-review",
                            "dissociative-symptoms", "psychotic-symptoms")),
        "positive": (True, boolean),
    },
    "AssessmentRecorded": {
        "kind": (True, enum("treatment-response", "comprehensive-psychiatric",
                            "treatment-plan-review", "goal-setting", "full-safety",
                            "continuation-discussion")),
        "note": (False, text),
    },
    "MedicationChanged": {
        "name": (True, nonblank),
        "action": (True, enum("start", "stop", "change")),
        "dose": (False, text),
    },
    "ScheduleAdjusted": {
        "intervalDays": (True, integer(1, 180)),
        "reason": (True, nonblank),
    },
    "DrugHolidayStarted": {"plannedWeeks": (True, integer(1, 26))},
    "DrugHolidayEnded": {"resumeIntervalDays": (False, integer(1, 180))},
    "TaperStarted": {"steps": (False, _steps_problems)},
    "MaintenanceDiscontinued": {"reason": (True, nonblank)},
    "PregnancyStatusRecorded": {
        "status": (True, enum("planning", "pregnant", "not-pregnant", "postpartum")),
    },
    "AlertAcknowledged": {"alertId": (True, alert_id), "lot": (False, lot_id), "note": (False, text)},
    "EventAmended": {"target": (True, uuid), "reason": (True, nonblank), "data": (True, None)},
    "EventVoided": {"target": (True, uuid), "reason": (True, nonblank)},
}
NOT_IMPORTABLE = {"AuditReviewed", "RuleSetAdopted", "ActorRegistered", "ActorRetired"}
SCORE_RANGES = {"MADRS": (0, 60), "PHQ2": (0, 6), "PHQ9": (0, 27), "MOCA": (0, 30)}


def _score_problems(data, prefix):
    inst = data.get("instrument")
    if "value" not in data:
        return [(prefix + "value", "missing", "an integer")]
    v = data["value"]
    rng = SCORE_RANGES.get(inst)
    exp = ("an integer %d-%d for %s" % (rng + (inst,))) if rng else "an integer"
    if not _is_int(v):
        return [(prefix + "value", "not an integer: %s" % json.dumps(v)[:40], exp)]
    if rng and not (rng[0] <= v <= rng[1]):
        return [(prefix + "value", "%d out of range" % v, exp)]
    return []


def data_problems(etype, data, prefix="data.", partial=False):
    """Problems of one type's data. partial: an amendment's fields (no required check)."""
    schema = SCHEMA[etype]
    out = []
    if not isinstance(data, dict):
        return [(prefix.rstrip("."), "not an object", "an object")]
    for k in data:
        if k not in schema:
            out.append((prefix + k, "unknown field",
                        "fields of %s: %s" % (etype, ", ".join(schema) or "none")))
    for k, (req, chk) in schema.items():
        if k not in data:
            if req and not partial:
                out.append((prefix + k, "missing", "required for %s" % etype))
            continue
        if chk is None:
            continue
        r = chk(data[k]) if chk not in (_dose_problems, _steps_problems) else chk(data[k], prefix + k)
        if isinstance(r, list):
            out.extend(r)
        elif r:
            out.append((prefix + k,) + r)
    if etype == "ScoreRecorded" and "value" in data:
        out.extend(_score_problems(data, prefix))
    if etype == "ObservationRecorded" and not partial and not any(
            k in data for k in ("systolic", "diastolic", "heartRate", "spo2", "moaas", "cadss",
                                "respiratoryDepression")):
        out.append((prefix + "systolic", "no reading",
                    "at least one of systolic, diastolic, heartRate, spo2, moaas, cadss, "
                    "respiratoryDepression"))
    if etype == "InfusionAdministered" and not partial and data.get("drug") == "esketamine":
        dose = data.get("dose") if isinstance(data.get("dose"), dict) else {}
        if data.get("route") != "intranasal":
            out.append((prefix + "route", "esketamine by %s" % json.dumps(data.get("route")),
                        "intranasal for esketamine"))
        if dose.get("unit") != "mg" or dose.get("value") not in (28, 56, 84):
            out.append((prefix + "dose", "esketamine dose %s" % json.dumps(dose)[:60],
                        "28, 56 or 84 mg for esketamine"))
    if etype == "StockAdjusted" and not partial and data.get("reason") in ("loss", "theft", "breakage") \
            and _is_num(data.get("quantityMg")) and data["quantityMg"] > 0:
        out.append((prefix + "quantityMg", "positive for %s" % data["reason"],
                    "a negative quantity for loss, theft and breakage"))
    if etype in ("VitalsRecorded", "ObservationRecorded"):
        s, d = data.get("systolic"), data.get("diastolic")
        if _is_int(s) and _is_int(d) and not s > d:
            out.append((prefix + "diastolic", "%d is not below systolic %d" % (d, s),
                        "systolic > diastolic"))
    return out


def parse_ts(s):
    """RFC 3339 with an offset -> (aware datetime) or None."""
    if not isinstance(s, str):
        return None
    m = TS_RE.match(s)
    if not m:
        return None
    y, mo, d, h, mi, sec = (int(m.group(i)) for i in range(1, 7))
    frac = m.group(7)
    us = int((frac[1:] + "000000")[:6]) if frac else 0
    if m.group(8):
        off = 0
    else:
        oh, om = int(m.group(10)), int(m.group(11))
        if oh > 23 or om > 59:
            return None
        off = (oh * 60 + om) * (1 if m.group(9) == "+" else -1)
    try:
        return _dt.datetime(y, mo, d, h, mi, sec, us,
                            tzinfo=_dt.timezone(_dt.timedelta(minutes=off)))
    except ValueError:
        return None


def json_pairs(pairs):
    keys = [k for k, _ in pairs]
    d = dict(pairs)
    if len(d) != len(keys):
        seen, dup = set(), None
        for k in keys:
            if k in seen:
                dup = k
                break
            seen.add(k)
        raise ValueError("duplicate key %s" % json.dumps(dup))
    return d


def bad_constant(name):
    raise ValueError("%s is not JSON" % name)


DECODER = json.JSONDecoder(object_pairs_hook=json_pairs, parse_constant=bad_constant)


class Checker:
    def __init__(self, now, require_id):
        self.now = now
        self.require_id = require_id
        self.ids = {}        # eventId -> (where, patient, type, data)
        self.voided = {}     # eventId -> where voided
        self.amended = {}    # eventId -> data as amended so far
        self.seen_patient = {}  # patient -> where its first event is
        self.problems = 0
        self.lines = 0
        self.infusions = {}  # eventId -> (eventId, instant)

    def infusion_now(self, eid):
        """An infusion as amended so far: (patient, instant, drug, lot)."""
        where, patient, _, data, _ = self.ids[eid]
        d = self.amended.get(eid, data) or {}
        return patient, self.infusions[eid][1], d.get("drug", "ketamine"), d.get("lot")

    def report(self, where, field, problem, expected):
        self.problems += 1
        sys.stdout.write("%s: %s: %s (%s)\n" % (where, field, problem, expected))

    def check_line(self, where, line):
        self.lines += 1
        try:
            ev = DECODER.decode(line)
        except ValueError as e:
            self.report(where, "line", "not JSON: %s" % str(e).split(":")[0], "one JSON object")
            return
        if not isinstance(ev, dict):
            self.report(where, "line", "not a JSON object", "one JSON object")
            return
        probs = []
        for k in ev:
            if k not in ENVELOPE_REQUIRED and k not in ENVELOPE_OPTIONAL:
                probs.append((k, "unknown field", "type, patient, occurredAt, actor, data, "
                              "eventId?, expectedVersion?"))
        etype = ev.get("type")
        d0 = ev.get("data") if isinstance(ev.get("data"), dict) else {}
        # session.md: stock events, corrections of stock events and acknowledgements of a lot
        # alert have no patient (their stream is the lot).
        t0 = self.ids.get(str(d0.get("target", "")).lower()) if etype in CORRECTIONS else None
        lot_stream = etype in STOCK_TYPES or (etype == "AlertAcknowledged" and "lot" in d0) or \
            (t0 is not None and t0[2] in STOCK_TYPES)
        for k in ENVELOPE_REQUIRED:
            if k not in ev and not (k == "patient" and lot_stream):
                probs.append((k, "missing", "required"))
        if lot_stream and "patient" in ev:
            probs.append(("patient", "present on a lot's event",
                          "no patient: the stream of %s is its lot" % etype))
        known = False
        if "type" in ev:
            if not isinstance(etype, str):
                probs.append(("type", "not a string", "an event type of events.md"))
            elif etype in NOT_IMPORTABLE:
                probs.append(("type", "%s is not importable" % etype,
                              "a clinical event type; %s is written by kstore itself" % etype))
            elif etype not in SCHEMA:
                probs.append(("type", "unknown type %s" % json.dumps(etype)[:60],
                              "one of " + ", ".join(SCHEMA)))
            else:
                known = True
        patient = ev.get("patient")
        if "patient" in ev and (not isinstance(patient, str) or not PATIENT_RE.match(patient)):
            probs.append(("patient", "bad patient id %s" % json.dumps(patient)[:80],
                          "^[A-Za-z0-9._-]{1,64}$"))
            patient = None
        if "occurredAt" in ev:
            ts = parse_ts(ev["occurredAt"])
            if ts is None:
                probs.append(("occurredAt", "bad timestamp %s" % json.dumps(ev["occurredAt"])[:60],
                              "RFC 3339 with offset, e.g. 2026-01-05T09:30:00-05:00"))
            elif ts > self.now + _dt.timedelta(hours=24):
                probs.append(("occurredAt", "%s is more than 24 hours in the future"
                              % ev["occurredAt"], "not after %s"
                              % (self.now + _dt.timedelta(hours=24)).isoformat(timespec="seconds")))
        role = None
        if "actor" in ev:
            a = ev["actor"]
            if not isinstance(a, dict):
                probs.append(("actor", "not an object", '{"id": ..., "role": ...}'))
            else:
                for k in a:
                    if k not in ("id", "role"):
                        probs.append(("actor." + k, "unknown field", "id, role"))
                if "id" not in a:
                    probs.append(("actor.id", "missing", "a non-blank string"))
                else:
                    p = nonblank(a["id"])
                    if p:
                        probs.append(("actor.id",) + p)
                if "role" not in a:
                    probs.append(("actor.role", "missing", "one of " + " | ".join(ROLES)))
                else:
                    p = enum(*ROLES)(a["role"])
                    if p:
                        probs.append(("actor.role",) + p)
                    else:
                        role = a["role"]
        eid = ev.get("eventId")
        if "eventId" in ev:
            p = uuid(eid)
            if p:
                probs.append(("eventId",) + p)
                eid = None
            elif eid.lower() in self.ids:
                probs.append(("eventId", "duplicate of %s" % self.ids[eid.lower()][0],
                              "a unique eventId"))
                eid = None
        elif self.require_id:
            probs.append(("eventId", "missing", "an explicit UUID (--require-event-id)"))
        if "expectedVersion" in ev:
            v = ev["expectedVersion"]
            if not _is_int(v) or v < 0:
                probs.append(("expectedVersion", "not a non-negative integer: %s"
                              % json.dumps(v)[:40], "an integer >= 0"))
        data = ev.get("data")
        target_type = None
        if known and "data" in ev:
            probs.extend(data_problems(etype, data))
            if etype in CORRECTIONS and isinstance(data, dict) and not uuid(data.get("target")):
                tgt = data["target"].lower()
                t = self.ids.get(tgt)
                if t is not None and t[2] is None:
                    probs.append(("data.target", "event %s at %s was refused" % (data["target"], t[0]),
                                  "the eventId of a valid event given before it"))
                elif t is None:
                    probs.append(("data.target", "no earlier event %s" % data["target"],
                                  "the eventId of an event given before it"))
                else:
                    twhere, tpatient, ttype, tdata, _ = t
                    target_type = ttype
                    if patient is not None and tpatient is not None and tpatient != patient:
                        probs.append(("data.target", "event of patient %s (%s)" % (tpatient, twhere),
                                      "an event of patient %s" % patient))
                    if tgt in self.voided:
                        probs.append(("data.target", "already voided at %s" % self.voided[tgt],
                                      "an event not voided"))
                    if etype == "EventAmended" and ttype in CORRECTIONS:
                        probs.append(("data.target", "is a correction (%s)" % ttype,
                                      "the original event: amend it, or void the correction"))
                    elif etype == "EventAmended" and isinstance(data.get("data"), dict):
                        ad = data["data"]
                        if not ad:
                            probs.append(("data.data", "empty", "the corrected fields"))
                        part = data_problems(ttype, ad, "data.data.", partial=True)
                        probs.extend(part)
                        if not part and isinstance(tdata, dict):
                            merged = dict(self.amended.get(tgt, tdata))
                            merged.update(ad)
                            for f, pr, ex in data_problems(ttype, merged, "data.data."):
                                probs.append((f, pr + " once amended", ex))
            if etype == "EventAmended" and isinstance(data, dict) and "data" in data \
                    and not isinstance(data["data"], dict):
                probs.append(("data.data", "not an object", "an object of the corrected fields"))
        # session.md: witnesses and the session link (what a file alone can show)
        if known and isinstance(data, dict) and not probs:
            w = data.get("witness")
            if isinstance(w, str) and isinstance(ev.get("actor"), dict) and w == ev["actor"].get("id"):
                probs.append(("data.witness", "the recorder %s" % w, "another clinician or nurse"))
            if etype in SESSION_LINKED or (etype == "StockWasted" and "infusion" in data):
                inf = self.infusions.get(str(data.get("infusion")).lower())
                if inf is None or inf[0] in self.voided:
                    probs.append(("data.infusion", "no effective earlier InfusionAdministered %s"
                                  % data.get("infusion"), "an effective infusion given before it"))
                else:
                    ipat, its, idrug, ilot = self.infusion_now(inf[0])
                    ts = parse_ts(ev.get("occurredAt"))
                    if etype in SESSION_LINKED and ipat != patient:
                        probs.append(("data.infusion", "an infusion of patient %s" % ipat,
                                      "an infusion of patient %s" % patient))
                    if etype in SESSION_LINKED and ts is not None and its is not None and ts < its:
                        probs.append(("occurredAt", "before the infusion (%s)" % its.isoformat(),
                                      "at or after the infusion's instant"))
                    if etype == "RemsFormSubmitted" and idrug != "esketamine":
                        probs.append(("data.infusion", "a %s infusion" % idrug, "an esketamine infusion"))
                    if etype == "StockWasted" and ilot != data.get("lot"):
                        probs.append(("data.infusion", "an infusion of lot %s" % ilot,
                                      "an infusion naming lot %s" % data.get("lot")))
            if etype == "EventAmended" and target_type in STOCK_TYPES and isinstance(data.get("data"), dict):
                for f in ("lot",) + (("drug",) if target_type == "StockReceived" else ()):
                    if f in data["data"]:
                        probs.append(("data.data." + f, "cannot be amended",
                                      "void the event and record it again"))
        # who may record what
        if known and role is not None:
            if role == "compliance":
                probs.append(("actor.role", "compliance may record only AuditReviewed",
                              "clinician, or nurse for %s" % etype if etype in NURSE_TYPES
                              else "clinician"))
            elif role == "admin" and etype not in ADMIN_TYPES and not (
                    etype == "AlertAcknowledged" and lot_stream):
                probs.append(("actor.role", "admin may not record %s" % etype,
                              "clinician" + (" or nurse" if etype in NURSE_TYPES else "")))
            elif role == "clinician" and False:
                pass
            elif role == "nurse" and etype not in NURSE_TYPES:
                ok = False
                if etype in CORRECTIONS and target_type is not None:
                    ok = self.ids[data["target"].lower()][4] == ev["actor"].get("id")
                if not ok:
                    probs.append(("actor.role", "a nurse may not record %s" % etype + (
                        " of another actor's event" if etype in CORRECTIONS else ""),
                        "clinician" if etype not in CORRECTIONS
                        else "clinician, or the actor who recorded the original"))
        # stream order
        if patient is not None and known:
            first = self.seen_patient.get(patient)
            if etype == "PatientEnrolled" and first is not None:
                probs.append(("type", "PatientEnrolled after %s's first event at %s"
                              % (patient, first), "PatientEnrolled first in its stream"))
            if first is None:
                self.seen_patient[patient] = where
        for p in probs:
            self.report(where, *p)
        if eid is None:
            return
        if probs:
            # Known (a later duplicate is still caught) but not a valid correction target.
            self.ids[eid.lower()] = (where, None, None, None, None)
            return
        self.ids[eid.lower()] = (where, patient, etype, data, ev["actor"].get("id"))
        if etype == "InfusionAdministered":
            self.infusions[eid.lower()] = (eid.lower(), parse_ts(ev["occurredAt"]))
        if etype == "EventVoided":
            self.voided[data["target"].lower()] = where
        elif etype == "EventAmended":
            tgt = data["target"].lower()
            merged = dict(self.amended.get(tgt, self.ids[tgt][3] or {}))
            merged.update(data["data"])
            self.amended[tgt] = merged

    def check_file(self, name):
        f = sys.stdin.buffer if name == "-" else open(name, "rb")
        label = "<stdin>" if name == "-" else name
        try:
            for n, raw in enumerate(f, 1):
                where = "%s:%d" % (label, n)
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError:
                    self.report(where, "line", "not UTF-8", "UTF-8 text")
                    continue
                if line.endswith("\n"):
                    line = line[:-1]
                if line.endswith("\r"):
                    line = line[:-1]
                if not line.strip():
                    self.report(where, "line", "blank line", "one JSON object a line")
                    continue
                self.check_line(where, line)
        finally:
            if f is not sys.stdin.buffer:
                f.close()


def main(argv):
    now = _dt.datetime.now(_dt.timezone.utc)
    require_id = False
    quiet = False
    files = []
    it = iter(argv)
    for a in it:
        if a == "--now":
            v = next(it, None)
            t = parse_ts(v) if v else None
            if t is None:
                sys.stderr.write("--now needs an RFC 3339 timestamp with offset\n")
                return EXIT_USAGE
            now = t
        elif a == "--require-event-id":
            require_id = True
        elif a in ("-q", "--quiet"):
            quiet = True
        elif a in ("-h", "--help"):
            sys.stdout.write(__doc__)
            return EXIT_OK
        elif a.startswith("-") and a != "-":
            sys.stderr.write("unknown option %s (see --help)\n" % a)
            return EXIT_USAGE
        else:
            files.append(a)
    if not files:
        sys.stderr.write("usage: check-ndjson.py [--now TS] [--require-event-id] FILE...\n")
        return EXIT_USAGE
    c = Checker(now, require_id)
    for name in files:
        try:
            c.check_file(name)
        except OSError as e:
            sys.stderr.write("%s: cannot read: %s\n" % (name, e.strerror))
            return 66
    if not quiet:
        sys.stderr.write("%d file(s), %d line(s), %d problem(s)\n" % (len(files), c.lines, c.problems))
    return EXIT_DATAERR if c.problems else EXIT_OK


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
