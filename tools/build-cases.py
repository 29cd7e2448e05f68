#!/usr/bin/env python3
"""Build the three case-example fixtures of the clinical guide ("Case Examples").

Usage: tools/build-cases.py [--out DIR] [--check]   (default DIR: fixtures/ beside tools/)

Writes case1-long-term-maintenance.ndjson, case2-successful-transition.ndjson and
case3-tolerance-management.ndjson: deterministic (same bytes every run), one event a line in
chronological order, every event with an explicit eventId 00000000-0000-0000-00cN-<counter>.
Times are US Eastern wall-clock times with the offset DST gives on that date (-05:00 / -04:00).

Visit dates are not typed in by hand: each case is a story script run against a small model of
protocol.md (R2 response, R4 ladder, R5 stable, R6 step back, R8 holiday/taper), which gives
the next due date after every infusion; the clinic gives the infusion on that date, or the
business day before when it falls on a weekend or a clinic holiday (the day after, if the
day before would make two maintenance infusions less than 7 days apart). Monitoring is placed
so that nothing is ever overdue: labs and the quarterly assessments at the first infusion visit
of each quarter from T0, MoCA and the annual bundle (consent reaffirmation, ECG, full safety
assessment, continuation discussion) at the last infusion visit before they fall due.

With --check the model's state on 2026-11-20 and the notable dates are printed (used to write
fixtures/README.md). Python 3 standard library only.
"""

import datetime as dt
import json
import os
import random
import sys
from zoneinfo import ZoneInfo

TZ = ZoneInfo("America/New_York")
D = dt.date
LAST_DAY = D(2026, 11, 20)          # no occurrence after this date
CLINICIAN = {"id": "dr.hale", "role": "clinician"}
NURSE = {"id": "rn.kim", "role": "nurse"}
DOSE = {"value": 0.5, "unit": "mg/kg"}
LADDER = [(7, 4), (10, 3), (14, 4), (21, 3), (28, None)]
CLOSED = {  # clinic holidays (US federal holidays the clinic observes)
    D(2024, 11, 28), D(2024, 12, 25), D(2025, 1, 1), D(2025, 5, 26), D(2025, 7, 4),
    D(2025, 9, 1), D(2025, 11, 27), D(2025, 12, 25), D(2026, 1, 1), D(2026, 5, 25),
    D(2026, 7, 3), D(2026, 9, 7), D(2026, 11, 26), D(2026, 12, 25)}


def add_months(d, n):
    t = d.year * 12 + d.month - 1 + n
    y, m = divmod(t, 12)
    m += 1
    last = [31, 29 if (y % 4 == 0 and y % 100 != 0) or y % 400 == 0 else 28, 31, 30, 31, 30,
            31, 31, 30, 31, 30, 31][m - 1]
    return D(y, m, min(d.day, last))


def is_open(d):
    return d.weekday() < 5 and d not in CLOSED


def clinic_day(due, prev_maint):
    """The business day the clinic books for a due date (see module doc)."""
    if is_open(due):
        return due
    d = due
    while not is_open(d):
        d -= dt.timedelta(days=1)
    if prev_maint is None or (d - prev_maint).days >= 7:
        return d
    d = due
    while not is_open(d):
        d += dt.timedelta(days=1)
    return d


# ------------------------------------------------------------------ protocol model

class Model:
    """Just enough of protocol.md (R2, R4, R5, R6, R8) to schedule an interval-extension chart."""

    def __init__(self):
        self.baseline = None
        self.latest = None
        self.assessed = False
        self.nadir = None
        self.rung = 0
        self.count = 0
        self.status = "acute-series"
        self.acute = []
        self.last_maint = None
        self.first_maint = False
        self.holiday_end = None
        self.taper = None          # (start, steps)
        self.step_backs = []       # dates
        self.log = []              # (date, text)

    @property
    def interval(self):
        return LADDER[self.rung][0]

    def madrs(self, day, v):
        if not self.acute:
            self.baseline = v
        self.latest = v
        if len(self.acute) >= 6 and not self.assessed and day > self.acute[5]:
            self.assessed = True
            self.nadir = v
            self.status = "maintenance" if v <= self.baseline * 0.5 else "non-responder"
            self.log.append((day, "response assessment MADRS %d (baseline %d): %s"
                             % (v, self.baseline, self.status)))
            return
        if self.nadir is None:
            return
        if (self.status == "maintenance" and self.first_maint
                and v > self.nadir * 1.25 and v - self.nadir >= 2):
            old = self.interval
            self.rung = max(self.rung - 1, 0)
            self.count = 0
            self.step_backs.append(day)
            recent = [s for s in self.step_backs if (day - s).days <= 180]
            self.log.append((day, "MADRS %d > nadir %d: step back %d -> %d days (R6)%s"
                             % (v, self.nadir, old, self.interval,
                                ", tolerance-review" if len(recent) >= 2 else "")))
            self.nadir = v
        else:
            self.nadir = min(self.nadir, v)

    def infusion(self, day, series):
        if series == "acute":
            self.acute.append(day)
            return
        self.first_maint = True
        self.last_maint = day
        if self.status != "maintenance":
            return
        self.count += 1
        treatments = LADDER[self.rung][1]
        stable = self.latest is not None and (self.latest <= 10 or self.latest <= self.baseline * 0.5)
        if treatments is not None and self.count >= treatments and stable:
            self.rung += 1
            self.count = 0
            self.log.append((day, "ladder extends to %d days (R4)" % self.interval))

    def schedule(self, day, days):
        self.rung = [r[0] for r in LADDER].index(days)
        self.count = 0
        self.log.append((day, "ScheduleAdjusted %d days (count 0)" % days))

    def holiday_start(self, day):
        self.status = "drug-holiday"
        self.log.append((day, "drug holiday starts"))

    def holiday_ended(self, day, resume):
        self.status = "maintenance"
        self.rung = [r[0] for r in LADDER].index(resume)
        self.count = 0
        self.holiday_end = day
        self.log.append((day, "drug holiday ends, resume at %d days" % resume))

    def taper_start(self, day, steps):
        self.status = "taper"
        self.taper = (day, steps)
        self.log.append((day, "taper starts %s" % steps))

    def taper_interval(self, on):
        start, steps = self.taper
        acc = 0
        for s in steps:
            if on < add_months(start, acc + s["months"]):
                return s["intervalDays"]
            acc += s["months"]
        return None

    def taper_end(self):
        start, steps = self.taper
        return add_months(start, sum(s["months"] for s in steps))

    def next_due(self):
        if self.status == "maintenance":
            if self.holiday_end is not None and self.last_maint < self.holiday_end:
                return self.holiday_end
            base = self.last_maint if self.first_maint else self.acute[-1]
            return base + dt.timedelta(days=self.interval)
        if self.status == "taper":
            last = self.last_maint
            due = last + dt.timedelta(days=self.taper_interval(last))
            for _ in range(4):
                iv = self.taper_interval(due)
                if iv is None:
                    return None
                due = last + dt.timedelta(days=iv)
            return due
        if self.status == "acute-series":
            return self.acute[-1] + dt.timedelta(days=3) if self.acute else None
        return None


# ------------------------------------------------------------------ charts

class Visit:
    def __init__(self, day, kind, madrs=None, series=None):
        self.day = day
        self.kind = kind            # intake | infusion | contact
        self.madrs = madrs
        self.series = series
        self.flags = set()          # quarterly, moca, annual
        self.before = []            # (hh:mm, type, actor, data, tag) before the MADRS
        self.after = []             # after the infusion / the visit's assessment
        self.side_effect = None
        self.response_note = None
        self.madrs_tag = None
        self.notes = {}             # assessment kind -> note
        self.force = set()          # quarterly assessment kinds recorded even off-quarter


class Chart:
    def __init__(self, patient, group, seed, birth_year):
        self.patient = patient
        self.group = group
        self.rng = random.Random(seed)
        self.birth_year = birth_year
        self.model = Model()
        self.visits = []
        self.t0 = None

    # -- story steps (pass 1) --
    def intake(self, day, madrs, moca):
        v = Visit(day, "intake", madrs, "acute")
        v.moca = moca
        self.visits.append(v)
        self.t0 = day
        self.model.madrs(day, madrs)
        self.model.infusion(day, "acute")
        return v

    def acute(self, day, madrs):
        v = Visit(day, "infusion", madrs, "acute")
        self.visits.append(v)
        self.model.madrs(day, madrs)
        self.model.infusion(day, "acute")
        return v

    def contact(self, day, madrs, note, kind="treatment-response"):
        v = Visit(day, "contact", madrs)
        v.response_note = note
        v.contact_kind = kind
        self.visits.append(v)
        self.model.madrs(day, madrs)
        return v

    def maintenance(self, madrs, before=None):
        """The next maintenance visit on the model's due date; returns it or None past the end."""
        due = self.model.next_due()
        if due is None:
            return None
        day = clinic_day(due, self.model.last_maint)
        if day > LAST_DAY:
            return None
        v = Visit(day, "infusion", madrs(day) if callable(madrs) else madrs, "maintenance")
        if before:
            before(v)
        self.visits.append(v)
        self.model.madrs(day, v.madrs)
        self.model.infusion(day, "maintenance")
        return v

    def peek_due(self):
        due = self.model.next_due()
        return None if due is None else clinic_day(due, self.model.last_maint)

    # -- monitoring (pass 2) --
    def plan_monitoring(self, monitor_until):
        inf = [v for v in self.visits if v.kind in ("intake", "infusion")]
        inf[0].flags |= {"quarterly"}
        k = 1
        for v in inf[1:]:
            if v.day > monitor_until:
                break
            if v.day >= add_months(self.t0, 3 * k):
                v.flags.add("quarterly")
                while v.day >= add_months(self.t0, 3 * k):
                    k += 1
        last_moca = last_consent = self.t0
        for i, v in enumerate(inf[1:], 1):
            if v.day > monitor_until:
                break
            nxt = inf[i + 1].day if i + 1 < len(inf) else None
            horizon = nxt if nxt is not None and nxt <= monitor_until else None
            def needs(last, months):
                lim = add_months(last, months)
                return (horizon is not None and horizon >= lim) or \
                       (horizon is None and monitor_until >= lim)
            if needs(last_moca, 6):
                v.flags.add("moca")
                last_moca = v.day
            if needs(last_consent, 12):
                v.flags.add("annual")
                last_consent = v.day

    # -- events (pass 3) --
    def build(self):
        evs = []  # (day, hh:mm, type, actor, data, tag)

        def add(day, hm, etype, actor, data, tag=None):
            evs.append((day, hm, etype, actor, data, tag))

        rng = self.rng
        for v in self.visits:
            d = v.day
            if v.kind == "intake":
                data = {"protocol": "interval-extension", "birthYear": self.birth_year,
                        "substanceUseHistory": False}
                add(d, "08:00", "PatientEnrolled", CLINICIAN, data)
                add(d, "08:05", "ConsentRecorded", CLINICIAN, {"kind": "initial"})
                add(d, "08:10", "ScoreRecorded", NURSE, {"instrument": "MADRS", "value": v.madrs})
                add(d, "08:12", "ScoreRecorded", NURSE, {"instrument": "MOCA", "value": v.moca})
                self._labs(add, d, ecg=True)
                add(d, "08:20", "AssessmentRecorded", CLINICIAN,
                    {"kind": "comprehensive-psychiatric", "note": v.notes.get("comprehensive-psychiatric", "Intake evaluation")})
                add(d, "08:25", "AssessmentRecorded", CLINICIAN,
                    {"kind": "treatment-plan-review", "note": v.notes.get("treatment-plan-review", "Plan: acute series of six IV infusions at 0.5 mg/kg, then interval-extension maintenance")})
                add(d, "08:28", "AssessmentRecorded", CLINICIAN,
                    {"kind": "goal-setting", "note": v.notes.get("goal-setting", "Goal: remission (MADRS <= 10)")})
                self._vitals_and_screens(add, d, extra=True)
                add(d, "09:30", "InfusionAdministered", NURSE,
                    {"route": "IV", "dose": DOSE, "series": "acute"})
                self._after_infusion(add, v)
                continue
            if v.kind == "contact":
                for item in v.before:
                    add(d, *item)
                add(d, "10:00", "ScoreRecorded", NURSE, {"instrument": "MADRS", "value": v.madrs},
                    v.madrs_tag)
                data = {"kind": v.contact_kind}
                if v.response_note:
                    data["note"] = v.response_note
                add(d, "10:20", "AssessmentRecorded", CLINICIAN, data)
                for item in v.after:
                    add(d, *item)
                continue
            # infusion visit
            for item in v.before:
                add(d, *item)
            if "annual" in v.flags:
                add(d, "08:05", "ConsentRecorded", CLINICIAN, {"kind": "reaffirmation"})
            if "quarterly" in v.flags or "annual" in v.flags:
                self._labs(add, d, ecg="annual" in v.flags, labs="quarterly" in v.flags)
            add(d, "08:30", "ScoreRecorded", NURSE, {"instrument": "MADRS", "value": v.madrs},
                v.madrs_tag)
            if "moca" in v.flags:
                add(d, "08:35", "ScoreRecorded", NURSE,
                    {"instrument": "MOCA", "value": rng.choice([27, 28, 28, 29])})
            self._vitals_and_screens(add, d, extra="quarterly" in v.flags)
            add(d, "09:30", "InfusionAdministered", NURSE,
                {"route": "IV", "dose": DOSE, "series": v.series})
            self._after_infusion(add, v)
        evs.sort(key=lambda e: (e[0], e[1]))
        return evs

    def _labs(self, add, d, ecg=False, labs=True):
        rng = self.rng
        if labs:
            add(d, "08:15", "LabResulted", NURSE, {"test": "urinalysis", "abnormal": False})
            add(d, "08:16", "LabResulted", NURSE,
                {"test": "LFT", "abnormal": False,
                 "values": {"ALT": rng.randint(15, 31), "AST": rng.randint(16, 29)}})
        if ecg:
            add(d, "08:18", "LabResulted", NURSE,
                {"test": "ECG", "abnormal": False,
                 "values": {"heartRate": rng.randint(62, 78), "PR": rng.randint(140, 178),
                            "QRS": rng.randint(84, 100), "QTc": rng.randint(398, 432)}})

    def _vitals_and_screens(self, add, d, extra=False):
        rng = self.rng
        add(d, "08:40", "VitalsRecorded", NURSE,
            {"systolic": rng.randint(112, 132), "diastolic": rng.randint(70, 84),
             "heartRate": rng.randint(62, 80)})
        add(d, "08:45", "ScreeningRecorded", NURSE, {"kind": "substance-use", "positive": False})
        add(d, "08:46", "ScreeningRecorded", NURSE,
            {"kind": "urological-symptoms", "positive": False})
        if extra:
            add(d, "08:47", "ScreeningRecorded", NURSE,
                {"kind": "dissociative-symptoms", "positive": False})
            add(d, "08:48", "ScreeningRecorded", NURSE,
                {"kind": "psychotic-symptoms", "positive": False})

    def _after_infusion(self, add, v):
        d = v.day
        add(d, "10:30", "ScreeningRecorded", NURSE, {"kind": "side-effects-review", "positive": v.side_effect is not None})
        if v.side_effect:
            add(d, "10:32", "SideEffectReported", NURSE, v.side_effect)
        data = {"kind": "treatment-response"}
        if v.response_note:
            data["note"] = v.response_note
        add(d, "10:35", "AssessmentRecorded", CLINICIAN, data)
        q = v.kind != "intake" and "quarterly" in v.flags
        if q or "comprehensive-psychiatric" in v.force:
            add(d, "10:40", "AssessmentRecorded", CLINICIAN, {"kind": "comprehensive-psychiatric", "note": v.notes.get("comprehensive-psychiatric", "Quarterly psychiatric assessment: mood stable, no safety concerns")})
        if q or "treatment-plan-review" in v.force:
            add(d, "10:45", "AssessmentRecorded", CLINICIAN, {"kind": "treatment-plan-review", "note": v.notes.get("treatment-plan-review", "Plan reviewed: continue maintenance as scheduled")})
        if q:
            add(d, "10:50", "AssessmentRecorded", CLINICIAN, {"kind": "goal-setting", "note": v.notes.get("goal-setting", "Goals for next quarter: sustain remission")})
        if "annual" in v.flags:
            add(d, "10:55", "AssessmentRecorded", CLINICIAN, {"kind": "full-safety", "note": v.notes.get("full-safety", "Annual safety review: cognition, bladder, liver, blood pressure, ECG normal; no misuse")})
            add(d, "11:00", "AssessmentRecorded", CLINICIAN, {"kind": "continuation-discussion", "note": v.notes.get("continuation-discussion", "Continuation vs transition discussed: patient chooses to continue maintenance")})
        for item in v.after:
            add(d, *item)

    def emit(self, path):
        evs = self.build()
        ids, tags = [], {}
        for n, e in enumerate(evs, 1):
            eid = "00000000-0000-0000-%04x-%012x" % (self.group, n)
            ids.append(eid)
            if e[5]:
                tags[e[5]] = eid
        out = []
        for eid, (day, hm, etype, actor, data, tag) in zip(ids, evs):
            local = dt.datetime.combine(day, dt.time(int(hm[:2]), int(hm[3:])), TZ)
            off = local.utcoffset()
            mins = int(off.total_seconds() // 60)
            ts = "%sT%s:00%s%02d:%02d" % (day.isoformat(), hm, "-" if mins < 0 else "+",
                                          abs(mins) // 60, abs(mins) % 60)
            data = json.loads(json.dumps(data))
            for k, val in list(data.items()):
                if isinstance(val, str) and "@@" in val:
                    for t, i in tags.items():
                        val = val.replace("@@%s@@" % t, i)
                    data[k] = val
            out.append(json.dumps({"eventId": eid, "type": etype, "patient": self.patient,
                                   "occurredAt": ts, "actor": actor, "data": data}))
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(out) + "\n")
        return len(out)


def alternating(rng, low, high):
    return lambda day: rng.choice([low, low, high])


# ------------------------------------------------------------------ case 1

def case1():
    """Guide, Case 1: successful long-term maintenance (45-year-old woman, TRD)."""
    c = Chart("C1", 0xC1, 101, 1981)
    rng = random.Random(1001)
    t0 = D(2025, 1, 6)
    v = c.intake(t0, 34, 28)
    v.notes["comprehensive-psychiatric"] = ("Intake: treatment-resistant depression since age 30; "
                                            "8 failed antidepressant trials, 2 TMS courses")
    v.side_effect = {"category": "dissociative", "severity": "mild",
                     "note": "Transient dissociation during infusion, resolved within 40 minutes"}
    for day, m in zip([D(2025, 1, 8), D(2025, 1, 10), D(2025, 1, 13), D(2025, 1, 15),
                       D(2025, 1, 17)], [22, 17, 13, 10, 7]):
        c.acute(day, m)
    c.contact(D(2025, 1, 20), 4, "Acute series complete: MADRS 34 -> 4, remission. "
              "Start maintenance weekly (interval-extension)")
    n = 0
    while True:
        v = c.maintenance(lambda day: rng.choice([4, 5, 5]))
        if v is None:
            break
        n += 1
        if v.day >= D(2025, 9, 1) and "work" not in c.__dict__:
            c.work = True
            v.response_note = "Remission maintained; returned to full-time work"
    c.plan_monitoring(LAST_DAY)
    return c


# ------------------------------------------------------------------ case 2

def case2():
    """Guide, Case 2: successful transition (38-year-old man, MDD and anxiety)."""
    c = Chart("C2", 0xC2, 202, 1988)
    rng = random.Random(2002)
    t0 = D(2025, 3, 3)
    v = c.intake(t0, 30, 29)
    v.notes["comprehensive-psychiatric"] = "Intake: major depressive disorder with anxiety"
    for day, m in zip([D(2025, 3, 5), D(2025, 3, 7), D(2025, 3, 10), D(2025, 3, 12),
                       D(2025, 3, 14)], [21, 16, 12, 9, 8]):
        c.acute(day, m)
    c.contact(D(2025, 3, 17), 6, "Acute series complete: MADRS 30 -> 6, responder in remission. "
              "Start maintenance weekly")
    dulox = False
    taper = None
    while True:
        due = c.peek_due()
        if due is None or due > LAST_DAY:
            break
        in_taper = c.model.status == "taper"
        v = c.maintenance((lambda day: rng.choice([5, 6, 7, 8])) if in_taper
                          else (lambda day: rng.choice([6, 6, 7])))
        if v is None:
            break
        if not dulox and c.model.rung == 0 and c.model.count == 3:
            dulox = True
            v.after.append(("11:05", "MedicationChanged", CLINICIAN,
                            {"name": "duloxetine", "action": "start", "dose": "60 mg daily"}))
            v.response_note = "Stable remission; start duloxetine to optimize antidepressant therapy during ketamine response"
        if dulox == True and v.day >= D(2025, 6, 1):
            dulox = "120"
            v.after.append(("11:05", "MedicationChanged", CLINICIAN,
                            {"name": "duloxetine", "action": "change", "dose": "120 mg daily"}))
            v.notes["treatment-plan-review"] = ("Duloxetine optimized to 120 mg daily; weekly CBT "
                                                "started (planned 6 months)")
        if c.model.status == "maintenance" and c.model.interval == 14:
            if c.model.count == 3 and v.day < D(2025, 11, 17):
                c.model.schedule(v.day, 14)
                v.after.append(("11:10", "ScheduleAdjusted", CLINICIAN,
                                {"intervalDays": 14, "reason": "Hold at every 2 weeks: stable "
                                 "remission while duloxetine and CBT are optimized ahead of a planned taper"}))
            if v.day >= D(2025, 11, 17) and taper is None:
                steps = [{"intervalDays": 21, "months": 3}, {"intervalDays": 28, "months": 3}]
                v.notes["continuation-discussion"] = "Eight months of stable remission at every 2 weeks; agreed gradual taper to discontinuation"
                v.after.append(("11:05", "AssessmentRecorded", CLINICIAN,
                                {"kind": "continuation-discussion", "note": v.notes["continuation-discussion"]}))
                v.after.append(("11:10", "TaperStarted", CLINICIAN, {"steps": steps}, "taper"))
                c.model.taper_start(v.day, steps)
                taper = v.day
    end = c.model.taper_end()
    stop = end
    while not is_open(stop):
        stop += dt.timedelta(days=1)
    v = c.contact(stop, 5, "Taper complete: sustained remission (MADRS 5) on duloxetine 120 mg and CBT",
                  kind="continuation-discussion")
    v.after += [("10:25", "MaintenanceDiscontinued", CLINICIAN,
                 {"reason": "Planned discontinuation after a 6-month taper: sustained remission on "
                            "duloxetine 120 mg with CBT; ketamine available PRN if needed"}),
                ("10:30", "AlertAcknowledged", CLINICIAN,
                 {"alertId": "discontinuation-eligible:@@taper@@",
                  "note": "Taper complete; maintenance discontinued today"})]
    c.model.status = "discontinued"
    c.model.log.append((stop, "maintenance discontinued"))
    # follow-up: monthly initially, then quarterly (guide: "Schedule Follow-Up")
    fu = [add_months(stop, 1), add_months(stop, 2), add_months(stop, 3), add_months(stop, 6)]
    for i, d in enumerate(fu):
        while not is_open(d):
            d += dt.timedelta(days=1)
        if d > LAST_DAY:
            break
        c.contact(d, rng.choice([4, 5, 6]),
                  "Post-discontinuation follow-up: remission maintained on duloxetine alone; "
                  "monthly therapy continues; ketamine available if needed")
    c.plan_monitoring(stop)
    for v in c.visits:
        if "quarterly" in v.flags and D(2025, 12, 1) <= v.day:
            v.notes["treatment-plan-review"] = ("Taper at every 3 weeks going well; weekly CBT course "
                                                "complete, continuing monthly therapy")
            v.notes["goal-setting"] = "Goals: complete taper; relapse prevention plan in place"
            break
    return c


# ------------------------------------------------------------------ case 3

def case3():
    """Guide, Case 3: tolerance management (52-year-old woman, chronic depression)."""
    c = Chart("C3", 0xC3, 303, 1974)
    rng = random.Random(3003)
    t0 = D(2024, 11, 4)
    v = c.intake(t0, 36, 27)
    v.notes["comprehensive-psychiatric"] = "Intake: chronic depression"
    for day, m in zip([D(2024, 11, 6), D(2024, 11, 8), D(2024, 11, 11), D(2024, 11, 13),
                       D(2024, 11, 15)], [24, 18, 13, 9, 7]):
        c.acute(day, m)
    c.contact(D(2024, 11, 18), 5, "Acute series complete: MADRS 36 -> 5, excellent response. "
              "Start maintenance weekly")
    stable = lambda day: rng.choice([5, 5, 6])
    first14 = None
    # phase 1: ladder to every 2 weeks, held there about six months
    while True:
        if first14 is not None and c.peek_due() >= first14 + dt.timedelta(days=182):
            break
        v = c.maintenance(stable)
        if c.model.interval == 14 and first14 is None and c.model.count == 1:
            first14 = v.day
        if first14 is not None and c.model.count == 3 and c.model.interval == 14:
            c.model.schedule(v.day, 14)
            v.after.append(("11:10", "ScheduleAdjusted", CLINICIAN,
                            {"intervalDays": 14, "reason": "Hold at every 2 weeks: stable, optimal "
                             "frequency reached"}))
    # phase 2: decreasing response duration -> two step backs
    v = c.maintenance(9)
    v.madrs_tag = "rise1"
    v.response_note = ("Decreasing response duration: symptoms returning by day 10 of 14. "
                       "No new stressors, medications unchanged, adherence confirmed")
    v.after.append(("11:05", "AlertAcknowledged", CLINICIAN,
                    {"alertId": "symptom-rise:@@rise1@@",
                     "note": "Interval stepped back to 10 days; review at next visit"}))
    v = c.maintenance(12)
    v.madrs_tag = "rise2"
    v.response_note = "Further rise despite 10-day interval: gradual response diminution (suspected tolerance)"
    v.force.add("comprehensive-psychiatric")
    v.notes["comprehensive-psychiatric"] = (
        "Tolerance assessment: no new stressors, medications unchanged, adherence confirmed; "
        "gradual response diminution - shorten interval before increasing dose")
    v.after += [
        ("11:05", "ScheduleAdjusted", CLINICIAN,
         {"intervalDays": 7, "reason": "Suspected tolerance (response lasting under 10 days): "
                                       "shortened to weekly x 4 weeks, then drug holiday"}),
        ("11:10", "AlertAcknowledged", CLINICIAN,
         {"alertId": "symptom-rise:@@rise2@@", "note": "Shortened to weekly"}),
        ("11:12", "AlertAcknowledged", CLINICIAN,
         {"alertId": "tolerance-review:@@rise2@@",
          "note": "Tolerance reviewed: weekly x 4 then 6-week drug holiday; no dose increase"}),
    ]
    c.model.schedule(v.day, 7)
    # phase 3: weekly x 4, response restored, then a 6-week drug holiday
    for m in (9, 7, 6, 5):
        v = c.maintenance(m)
    v.response_note = "Response restored on weekly infusions (MADRS 5)"
    v.after.append(("11:05", "DrugHolidayStarted", CLINICIAN, {"plannedWeeks": 6}))
    c.model.holiday_start(v.day)
    hol = v.day
    c.contact(hol + dt.timedelta(days=21), 6, "Drug holiday week 3 check-in: mood stable, no booster needed")
    back = hol + dt.timedelta(days=42)
    c.model.holiday_ended(back, 14)
    v = c.maintenance(6)
    v.before.append(("08:00", "DrugHolidayEnded", CLINICIAN, {"resumeIntervalDays": 14}))
    v.response_note = "Drug holiday complete (6 weeks). Restart at every 2 weeks"
    v.after.append(("11:05", "MedicationChanged", CLINICIAN,
                    {"name": "lithium carbonate", "action": "start", "dose": "300 mg twice daily"}))
    v.notes["treatment-plan-review"] = ("Drug holiday complete; restart at every 2 weeks with "
                                        "lithium augmentation to support response")
    v.force.add("treatment-plan-review")
    # phase 4: every 2 weeks with lithium, held there
    while True:
        v = c.maintenance(stable)
        if v is None:
            break
        if c.model.count == 3 and c.model.interval == 14:
            c.model.schedule(v.day, 14)
            v.after.append(("11:10", "ScheduleAdjusted", CLINICIAN,
                            {"intervalDays": 14, "reason": "Hold at every 2 weeks with lithium "
                             "augmentation (tolerance history: do not extend)"}))
    c.plan_monitoring(LAST_DAY)
    return c


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    out = os.path.join(here, "..", "fixtures")
    check = "--check" in argv
    if "--out" in argv:
        out = argv[argv.index("--out") + 1]
    for name, fn in (("case1-long-term-maintenance.ndjson", case1),
                     ("case2-successful-transition.ndjson", case2),
                     ("case3-tolerance-management.ndjson", case3)):
        c = fn()
        n = c.emit(os.path.join(out, name))
        print("%s: %d events, %s .. %s" % (name, n, c.visits[0].day, c.visits[-1].day))
        if check:
            m = c.model
            for day, text in m.log:
                print("   %s %s" % (day, text))
            inf = [v for v in c.visits if v.kind != "contact"]
            print("   infusions: %d (acute %d, maintenance %d); last %s" % (
                len(inf), sum(v.series == "acute" for v in inf),
                sum(v.series == "maintenance" for v in inf), inf[-1].day))
            for flag in ("quarterly", "moca", "annual"):
                print("   %s: %s" % (flag, ", ".join(str(v.day) for v in c.visits if flag in v.flags)))
            print("   on %s: status %s, interval %d, count %d, nadir %s, latest %s, next due %s" % (
                LAST_DAY, m.status, m.interval, m.count, m.nadir, m.latest,
                m.next_due() if m.status in ("maintenance", "taper") else None))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
