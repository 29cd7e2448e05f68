#!/usr/bin/env python3
"""Builds fixtures/sessions-clinic.ndjson (session.md R13-R15): the three guide cases charted
from 2026-06-01 as a clinic that adopted session charting would (each infusion's observations
and discharge), an esketamine patient (E1) with REMS forms, and the clinic's stock: ketamine and
esketamine lots received, given, wasted (witnessed), counted (one discrepancy, resolved by a
StockAdjusted loss) and the biennial inventory. Import it after the three case files.

  python3 tools/build-sessions.py            # writes the fixture
  python3 tools/build-sessions.py --check    # exits 1 when the file differs
"""
import datetime as dt
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "fixtures/sessions-clinic.ndjson"
CASES = ["case1-long-term-maintenance.ndjson", "case2-successful-transition.ndjson",
         "case3-tolerance-management.ndjson"]
FROM = "2026-06-01"
NURSE = {"id": "rn.kim", "role": "nurse"}
CLIN = {"id": "dr.hale", "role": "clinician"}
n = [0]


def eid(kind):
    n[0] += 1
    return "00000000-0000-0000-%04x-%012x" % (0x5e00 + kind, n[0])


def ts(base, minutes):
    t = dt.datetime.fromisoformat(base) + dt.timedelta(minutes=minutes)
    return t.isoformat()


def ev(kind, typ, at, actor, data, patient=None):
    e = {"eventId": eid(kind), "type": typ}
    if patient:
        e["patient"] = patient
    e.update({"occurredAt": at, "actor": actor, "data": data})
    return e


def main():
    out = []
    for name in CASES:
        for line in (ROOT / "fixtures" / name).read_text().splitlines():
            e = json.loads(line)
            if e["type"] != "InfusionAdministered" or e["occurredAt"][:10] < FROM:
                continue
            t0, p, inf = e["occurredAt"], e["patient"], e["eventId"]
            # The IV infusion over 40 minutes (recorded without a duration: t1 = t0 here).
            out.append(ev(1, "ObservationRecorded", ts(t0, 15), NURSE,
                          {"infusion": inf, "spo2": 97, "moaas": 4, "cadss": 6}, p))
            out.append(ev(1, "ObservationRecorded", ts(t0, 40), NURSE,
                          {"infusion": inf, "systolic": 128, "diastolic": 80, "heartRate": 74}, p))
            out.append(ev(1, "ObservationRecorded", ts(t0, 70), NURSE,
                          {"infusion": inf, "moaas": 5, "cadss": 0, "spo2": 98, "systolic": 122,
                           "diastolic": 78}, p))
            out.append(ev(1, "DischargeRecorded", ts(t0, 80), NURSE,
                          {"infusion": inf, "criteriaMet": True, "escort": True}, p))
    # E1: esketamine twice weekly, then weekly, lots E-26A/E-26B (840 mg = 30 devices each).
    stock = [
        ev(2, "StockReceived", "2026-09-01T08:00:00-04:00", CLIN,
           {"drug": "esketamine", "lot": "E-26A", "quantityMg": 840, "supplier": "Janssen",
            "invoice": "J-2026-0901"}),
        ev(2, "StockReceived", "2026-09-01T08:05:00-04:00", CLIN,
           {"drug": "ketamine", "lot": "K-2609", "quantityMg": 1000, "supplier": "Hikma",
            "invoice": "H-2026-0901", "concentrationMgPerMl": 50}),
    ]
    out += stock
    e1 = [ev(3, "PatientEnrolled", "2026-09-02T08:00:00-04:00", CLIN,
             {"protocol": "interval-extension", "birthYear": 1979}, "E1"),
          ev(3, "ConsentRecorded", "2026-09-02T08:05:00-04:00", CLIN, {"kind": "initial"}, "E1"),
          ev(3, "ScoreRecorded", "2026-09-02T08:10:00-04:00", NURSE,
             {"instrument": "MADRS", "value": 31}, "E1")]
    days = ["2026-09-02", "2026-09-04", "2026-09-09", "2026-09-11", "2026-09-16", "2026-09-18",
            "2026-09-23", "2026-09-30", "2026-10-07"]
    lot = "E-26A"
    for k, d in enumerate(days):
        t0 = d + "T09:00:00-04:00"
        e1.append(ev(3, "VitalsRecorded", ts(t0, -20), NURSE,
                     {"systolic": 124, "diastolic": 78, "heartRate": 70}, "E1"))
        inf = ev(3, "InfusionAdministered", t0, NURSE,
                 {"route": "intranasal", "dose": {"value": 84 if k >= 2 else 56, "unit": "mg"},
                  "series": "acute" if k < 6 else "maintenance", "drug": "esketamine",
                  "lot": lot, "durationMinutes": 10}, "E1")
        e1.append(inf)
        i = inf["eventId"]
        e1.append(ev(3, "ObservationRecorded", ts(t0, 20), NURSE,
                     {"infusion": i, "spo2": 96, "moaas": 4 if k != 3 else 3, "cadss": 14}, "E1"))
        e1.append(ev(3, "ObservationRecorded", ts(t0, 50), NURSE,
                     {"infusion": i, "systolic": 138, "diastolic": 86, "heartRate": 78}, "E1"))
        e1.append(ev(3, "ObservationRecorded", ts(t0, 100), NURSE,
                     {"infusion": i, "systolic": 126, "diastolic": 80, "spo2": 98, "moaas": 5,
                      "cadss": 2}, "E1"))
        # Session 6 left after 100 minutes: early (esketamine: 120 minutes).
        e1.append(ev(3, "DischargeRecorded", ts(t0, 130 if k != 5 else 110), NURSE,
                     {"infusion": i, "criteriaMet": True, "escort": True}, "E1"))
        # The REMS form the next day; session 4's a week late.
        late = 14 if k == 4 else 1
        if k != len(days) - 1:
            e1.append(ev(3, "RemsFormSubmitted", ts(t0, late * 1440 + 60), NURSE,
                         {"infusion": i, "reference": "REMS-E1-%d" % (k + 1)}, "E1"))
    out += e1
    out += [
        # A counted discrepancy of 2 mg on the ketamine lot, explained by a witnessed loss.
        ev(4, "StockWasted", "2026-09-20T11:00:00-04:00", NURSE,
           {"lot": "K-2609", "quantityMg": 15, "witness": "dr.hale", "reason": "rest of a vial drawn for a cancelled infusion"}),
        ev(4, "InventoryCounted", "2026-10-01T17:00:00-04:00", CLIN,
           {"lot": "K-2609", "onHandMg": 983, "kind": "routine"}),
        ev(4, "StockAdjusted", "2026-10-02T09:00:00-04:00", CLIN,
           {"lot": "K-2609", "quantityMg": -2, "reason": "breakage", "witness": "rn.kim",
            "reference": "DEA-106-2026-14"}),
        # The biennial inventory: every lot with stock counted that day.
        ev(4, "InventoryCounted", "2026-10-15T17:00:00-04:00", CLIN,
           {"lot": "K-2609", "onHandMg": 983, "kind": "biennial"}),
        ev(4, "InventoryCounted", "2026-10-15T17:05:00-04:00", CLIN,
           {"lot": "E-26A", "onHandMg": 140, "kind": "biennial"}),
    ]
    # The clinician acknowledges the discrepancy once the loss is recorded.
    count = next(e for e in out if e["type"] == "InventoryCounted")
    out.append(ev(4, "AlertAcknowledged", "2026-10-02T09:05:00-04:00", CLIN,
                  {"alertId": "inventory-discrepancy:" + count["eventId"], "lot": "K-2609",
                   "note": "2 mg lost to a broken vial (DEA Form 106 filed)"}))
    out.sort(key=lambda e: dt.datetime.fromisoformat(e["occurredAt"]))
    text = "".join(json.dumps(e, separators=(", ", ": ")) + "\n" for e in out)
    if "--check" in sys.argv:
        sys.exit(0 if OUT.read_text() == text else 1)
    OUT.write_text(text)
    print("%s: %d events" % (OUT.relative_to(ROOT), len(out)))


main()
