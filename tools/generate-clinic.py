#!/usr/bin/env python3
"""Deterministic synthetic ketamine-maintenance clinic, as NDJSON in kstore's import format.

Usage:
  tools/generate-clinic.py --patients N --seed S --start YYYY-MM-DD --days D [--out FILE|-]
                           [--stats] [--sessions]

Writes one event a line (spec/events.md), every event with a unique deterministic eventId,
each patient's events in chronological order and all patients interleaved in global time order
(sorted by occurredAt; equal instants by patient, then by the patient's own order). Every
occurredAt falls on a day in [start, start + days - 1]. Times are US Eastern wall-clock times
with the offset DST gives (-05:00 / -04:00). The same arguments give the same bytes.

The clinic (clinical guide, spec/protocol.md):
  - enrolment (protocol ~66% interval-extension, ~17% hybrid, ~17% symptom-triggered; ~70% of
    patients in the first 6% of the range, the rest spread to 70% of it), initial consent,
    baseline MADRS, MoCA, urinalysis, LFT (ALT/AST), ECG, intake assessments;
  - acute series of 6 IV infusions, response assessment ~70% responders; non-responders are
    discontinued or given a weekly maintenance trial (some respond late);
  - interval-extension maintenance on the R4 ladder (7x4, 10x3, 14x4, 21x3, 28), the visit booked
    on the due date (weekend/holiday: the business day before, or after when that would make two
    maintenance infusions less than 7 days apart; ~4% rescheduled 1-3 days late); occasional MADRS
    rises that make the R6 step back; a few clinician ScheduleAdjusted;
  - hybrid (monthly base, PRN boosters) and symptom-triggered (infusion only when triggered)
    patients record a PHQ-2 most evenings; the R12 trigger (3 raised days) brings an infusion on
    the next clinic day and the booster-indicated alert is acknowledged;
  - every infusion visit: MADRS before the infusion, vitals before and after it, substance-use
    and urological screening, a dissociative-symptoms check after it, side-effects review,
    treatment-response assessment (~3% of visits miss 1-2 items);
  - quarterly (from T0) psychiatric assessment, plan review, goal setting with urinalysis + LFT,
    at the first visit of the quarter (a review visit without infusion when none is near);
    MoCA every 6 months; in the last quarter of each treatment year a full safety assessment,
    continuation discussion, consent reaffirmation, ECG (a few percent missed, so the audit has
    findings); occasional MedicationChanged (antidepressants, lithium after a tolerance review);
  - vitals (~2% high BP), screenings (rare positives), occasional side effects, abnormal LFTs; the
    clinician acknowledges the alerts they raise;
  - drug holidays (some overrun), tapers (default or guide steps) ending in discontinuation,
    follow-up MADRS after it, relapses (early -> maintenance, late -> new acute series), a few
    unplanned discontinuations;
  - ~0.5% corrections: EventAmended of a mistyped MADRS/PHQ-2 value, EventVoided of a vitals
    entry recorded twice by mistake (target earlier, same patient).

Actors (register them before importing): clinicians dr.hale dr.okafor dr.lindqvist dr.moreau
dr.tanaka dr.abara; nurses rn.kim rn.silva rn.novak rn.obi rn.reyes rn.chen rn.walsh rn.haddad.
Patients are P-00001 ... Python 3 standard library only.
"""

import datetime as _dt
import random
import sys
import time

LADDER = (7, 10, 14, 21, 28)
LADDER_N = (4, 3, 4, 3, None)
MEDS = (("sertraline", "150 mg daily"), ("escitalopram", "20 mg daily"),
        ("bupropion XL", "300 mg daily"), ("duloxetine", "120 mg daily"),
        ("venlafaxine XR", "225 mg daily"), ("aripiprazole", "5 mg daily"),
        ("mirtazapine", "30 mg at night"), ("lamotrigine", "100 mg daily"))
CLINICIANS = ("dr.hale", "dr.okafor", "dr.lindqvist", "dr.moreau", "dr.tanaka", "dr.abara")
NURSES = ("rn.kim", "rn.silva", "rn.novak", "rn.obi", "rn.reyes", "rn.chen", "rn.walsh", "rn.haddad")
TYPES = ("PatientEnrolled", "ConsentRecorded", "InfusionAdministered", "ScoreRecorded",
         "LabResulted", "VitalsRecorded", "SideEffectReported", "ScreeningRecorded",
         "AssessmentRecorded", "MedicationChanged", "ScheduleAdjusted", "DrugHolidayStarted",
         "DrugHolidayEnded", "TaperStarted", "MaintenanceDiscontinued", "AlertAcknowledged",
         "EventAmended", "EventVoided", "ObservationRecorded", "DischargeRecorded")
(T_ENROL, T_CONSENT, T_INF, T_SCORE, T_LAB, T_VITALS, T_SIDE, T_SCREEN, T_ASSESS, T_MED, T_SCHED,
 T_HOLS, T_HOLE, T_TAPER, T_DISC, T_ACK, T_AMEND, T_VOID, T_OBS, T_DISCH) = range(len(TYPES))
# --sessions (session.md): every infusion names its weight, lot (K-YYYY-MMa from the 1st,
# K-YYYY-MMb from the 16th, each received that day) and 40-minute duration, with four observations and a discharge; the clinic's
# stock receipts come first in the output.
SESSIONS = [False]


def usage(msg):
    sys.stderr.write("generate-clinic.py: %s\n" % msg)
    sys.stderr.write("usage: generate-clinic.py --patients N --seed S --start YYYY-MM-DD "
                     "--days D [--out FILE|-] [--stats]\n")
    sys.exit(64)


# ------------------------------------------------------------------ calendar

def us_holidays(year):
    D = _dt.date

    def nth(month, weekday, n):
        d = D(year, month, 1)
        d += _dt.timedelta(days=(weekday - d.weekday()) % 7)
        return d + _dt.timedelta(days=7 * (n - 1))

    def last(month, weekday):
        d = D(year, month + 1, 1) - _dt.timedelta(days=1)
        return d - _dt.timedelta(days=(d.weekday() - weekday) % 7)

    def observed(d):
        return d - _dt.timedelta(days=1) if d.weekday() == 5 else (
            d + _dt.timedelta(days=1) if d.weekday() == 6 else d)
    return {observed(D(year, 1, 1)), last(5, 0), observed(D(year, 7, 4)), nth(9, 0, 1),
            nth(11, 3, 4), observed(D(year, 12, 25))}


class Calendar:
    """Day index i = start + i days: date strings, UTC offsets, clinic opening, month arithmetic."""

    def __init__(self, start, days):
        self.start = start
        self.days = days
        span = days + 400                       # room for due dates past the end
        try:
            from zoneinfo import ZoneInfo
            tz = ZoneInfo("America/New_York")
        except Exception:                       # no tz database: fixed -05:00
            tz = _dt.timezone(_dt.timedelta(hours=-5))
        hol = set()
        for y in range(start.year - 1, (start + _dt.timedelta(days=span)).year + 2):
            hol |= us_holidays(y)
        self.date = []
        self.off = []
        self.open = []
        for i in range(span):
            d = start + _dt.timedelta(days=i)
            self.date.append(d.isoformat())
            o = _dt.datetime(d.year, d.month, d.day, 12, tzinfo=tz).utcoffset()
            m = int(o.total_seconds()) // 60
            self.off.append("%s%02d:%02d" % ("-" if m < 0 else "+", abs(m) // 60, abs(m) % 60))
            self.open.append(d.weekday() < 5 and d not in hol)
        self.span = span
        self.date_t = [d + "T" for d in self.date]
        self.off_actor = [o + '","actor":' for o in self.off]
        nxt = [span] * (span + 1)
        for i in range(span - 1, -1, -1):
            nxt[i] = i if self.open[i] else nxt[i + 1]
        self.next_open = nxt
        self._months = {}

    def add_months(self, i, n):
        k = (i, n)
        r = self._months.get(k)
        if r is None:
            d = self.start + _dt.timedelta(days=i)
            t = d.year * 12 + d.month - 1 + n
            y, m = divmod(t, 12)
            m += 1
            dim = [31, 29 if (y % 4 == 0 and y % 100 != 0) or y % 400 == 0 else 28, 31, 30, 31,
                   30, 31, 31, 30, 31, 30, 31][m - 1]
            r = (_dt.date(y, m, min(d.day, dim)) - self.start).days
            self._months[k] = r
        return r

    def nopen(self, i):
        return self.next_open[i] if i < self.span else i

    def book(self, due, prev_maint):
        """The clinic day for a due date: the day itself, else the business day before unless that
        puts two maintenance infusions < 7 days apart, then the one after."""
        if due >= self.span:
            return due
        if self.open[due]:
            return due
        d = due
        while d > 0 and not self.open[d]:
            d -= 1
        if self.open[d] and (prev_maint is None or d - prev_maint >= 7):
            return d
        return self.nopen(due)


HHMM = ["%02d:%02d:00" % (m // 60, m % 60) for m in range(1440)]
HEX12 = ["%012x" % i for i in range(1 << 13)]


# ------------------------------------------------------------------ one patient

WINDOW = 7   # days a patient generator runs ahead before handing its events over


def patient(pidx, seed, cal, counts):
    """Generator of (window, [(sortkey, line), ...]) for one patient, windows (days // WINDOW)
    strictly ascending; sortkey orders events by day, minute, patient, then patient order.

    The patient's own model of protocol.md (R2, R4-R6, R8, R12) books every visit, so the
    schedule in the output is the one kstore's projections compute from it.
    """
    rng = random.Random(seed * 1000003 + pidx * 7919 + 17)
    R = rng.random
    ndays = cal.days
    isopen = cal.open
    nopen, book, add_months = cal.nopen, cal.book, cal.add_months

    pid = "P-%05d" % (pidx + 1)
    idpre = "%08x-%04x-%04x-%04x-" % (seed & 0xFFFFFFFF, (seed >> 32) & 0xFFFF,
                                      0x8000 | (pidx & 0xFFF), 0x8000 | ((pidx >> 12) & 0x3FFF))
    A_C = '{"id":"%s","role":"clinician"}' % CLINICIANS[int(R() * len(CLINICIANS))]
    A_N = '{"id":"%s","role":"nurse"}' % NURSES[int(R() * len(NURSES))]
    pkey = pidx << 20
    S = {"out": []}
    cnt = [0]
    head = ['","type":"%s","patient":"%s","occurredAt":"' % (t, pid) for t in TYPES]
    dts, oas = cal.date_t, cal.off_actor

    def E(day, minute, t, actor, data):
        """Append one event to today's output; return its eventId."""
        n = cnt[0] = cnt[0] + 1
        eid = idpre + (HEX12[n] if n < 8192 else "%012x" % n)
        S["out"].append((((day * 1440 + minute) << 40) | pkey | n, '{"eventId":"' + eid + head[t] + dts[day]
                         + HHMM[minute] + oas[day] + actor + ',"data":' + data + '}\n'))
        counts[t] += 1
        return eid

    # ---- who the patient is
    u = R()
    ie = u < 0.66
    hybrid = 0.66 <= u < 0.83
    st_only = u >= 0.83
    proto = "interval-extension" if ie else ("hybrid" if hybrid else "symptom-triggered")
    phq_daily = not ie
    subst_hist = R() < 0.1
    birth = 1950 + int(R() * 52)
    u = R()
    path = "responder" if u < 0.70 else ("stop" if u < 0.85 else ("late" if u < 0.93 else "trial-fail"))
    x = R()    # enrolment: front-loaded (an established clinic), then a steady intake
    enrol = nopen(int(ndays * (0.06 * x / 0.7 if x < 0.7 else 0.06 + 0.64 * (x - 0.7) / 0.3)))
    if enrol >= ndays:
        return
    dose = '{"value":0.5,"unit":"mg/kg"}' if R() < 0.95 else '{"value":0.4,"unit":"mg/kg"}'
    # Its own generator: --sessions must not change the rest of the clinic's events.
    wr = random.Random(seed * 7919 + pidx).random
    weight = "%d.%d" % (52 + int(wr() * 60), int(wr() * 10))
    escalated = R() < 0.03          # later 0.75 mg/kg with a justification

    # ---- clinical state (the patient's model of the projections)
    B = 24 + int(R() * 17)          # baseline MADRS of the first series
    baseline = B
    home = max(2, int(B * (0.10 + 0.33 * R()))) if path == "responder" \
        else int(B * 0.5) + 1 + int(R() * B * 0.3)
    lvl = B                         # current symptom level (MADRS before noise)
    phq_b = 0 if R() < 0.45 else (1 if R() < 0.8 else 2)
    st = {
        "status": "acute", "nadir": None, "rung": 0, "count": 0, "first_maint": False,
        "last_maint": None, "held_rung": 0, "holiday_end": None, "responded": False,
    }
    acute = []
    step_backs = []
    alerts = []                     # alert ids for the clinician to acknowledge
    corrections = []                # (day, minute, kind, payload)
    plan = {}                       # day -> [action]
    fu_days = []
    t0 = enrol
    q = {"k": 1, "next": add_months(t0, 3), "pending": False, "annual": False,
         "review": None, "moca_last": enrol}
    ph = {"episode": 0, "run": 0, "win": [], "due": None, "alert": None}
    taper = {"start": None, "steps": None, "eid": None}
    hol = {"start": None, "weeks": 0, "eid": None}
    disc_day = None

    # ---- helpers
    def madrs_sample():
        """MADRS at a visit: the current level, sometimes one point above (never below the home
        level, so noise alone never makes an R6 step back)."""
        return min(60, lvl + (1 if R() > 0.72 else 0))

    def score(day, minute, inst, v, actor=None):
        actor = actor or A_N
        if R() < 0.008:             # mistyped, amended later (same day or within 4 days)
            typo = (v + 10) % 61 if inst == "MADRS" else (v + 3) % 7
            eid = E(day, minute, T_SCORE, actor, '{"instrument":"%s","value":%d}' % (inst, typo))
            later = day if R() < 0.5 else nopen(day + 1 + int(R() * 4))
            if later >= ndays:
                later = day
            corrections.append((later, 1380 if later == day else 600 + int(R() * 300), 0, (eid, v)))
            return eid
        return E(day, minute, T_SCORE, actor, '{"instrument":"%s","value":%d}' % (inst, v))

    def vitals(day, minute, high):
        if high:
            sy, di = 142 + int(R() * 24), 86 + int(R() * 12)
        else:
            sy, di = 108 + int(R() * 28), 66 + int(R() * 20)
        hr = 58 + int(R() * 30)
        eid = E(day, minute, T_VITALS, A_N,
                '{"systolic":%d,"diastolic":%d,"heartRate":%d}' % (sy, di, hr))
        if sy > 140 or di > 90:
            alerts.append("bp-high:" + eid)
        if R() < 0.012:             # entered twice, the second one wrong: voided the same day
            bad = E(day, minute + 1, T_VITALS, A_N, '{"systolic":%d,"diastolic":%d,"heartRate":%d}'
                    % (sy + 40 + int(R() * 30), di + 12, hr))
            corrections.append((day, minute + 3 + int(R() * 50), 1, bad))

    def labs(day, minute, ecg, ua_lft):
        if ua_lft:
            E(day, minute, T_LAB, A_N, '{"test":"urinalysis","abnormal":%s}'
              % ("true" if R() < 0.01 else "false"))
            if R() < 0.03:
                eid = E(day, minute + 1, T_LAB, A_N, '{"test":"LFT","abnormal":true,'
                        '"values":{"ALT":%d,"AST":%d}}' % (62 + int(R() * 60), 48 + int(R() * 40)))
                alerts.append("lft-abnormal:" + eid)
            else:
                E(day, minute + 1, T_LAB, A_N, '{"test":"LFT","abnormal":false,'
                  '"values":{"ALT":%d,"AST":%d}}' % (12 + int(R() * 26), 14 + int(R() * 22)))
        if ecg:
            E(day, minute + 2, T_LAB, A_N, '{"test":"ECG","abnormal":false,'
              '"values":{"heartRate":%d,"QTc":%d}}' % (58 + int(R() * 30), 395 + int(R() * 45)))

    def acks(day, minute):
        for a in alerts:
            if R() < 0.92:
                E(day, minute, T_ACK, A_C, '{"alertId":"%s"}' % a)
                minute += 1
        alerts.clear()
        return minute

    def do_corrections(day):
        if not corrections:
            return
        keep = []
        for c in corrections:
            if c[0] != day:
                keep.append(c)
            elif c[2] == 0:
                E(day, c[1], T_AMEND, A_C, '{"target":"%s","reason":"Value mistyped; corrected '
                  'from the paper form","data":{"value":%d}}' % c[3])
            else:
                E(day, c[1], T_VOID, A_N, '{"target":"%s","reason":"Entered in error: vitals '
                  'recorded twice, the second entry wrong"}' % c[3])
        corrections[:] = keep

    def madrs_seen(day, v, eid):
        """R2 response, R6 nadir and step back, for the current series."""
        s = st["status"]
        if s == "acute":
            return
        if s == "awaiting":
            st["nadir"] = v
            if v <= baseline * 0.5:
                st["status"] = "maint"
                st["responded"] = True
            else:
                st["status"] = "nonresp"
                alerts.append("non-response:" + eid)
            return
        nadir = st["nadir"]
        if nadir is None:
            return
        if ie and s == "maint" and st["first_maint"] and v > nadir * 1.25 and v - nadir >= 2:
            st["rung"] = max(0, st["rung"] - 1)
            st["count"] = 0
            alerts.append("symptom-rise:" + eid)
            step_backs.append(day)
            while day - step_backs[0] > 180:
                step_backs.pop(0)
            if len(step_backs) >= 2:
                alerts.append("tolerance-review:" + eid)
            st["nadir"] = v
        elif v < nadir:
            st["nadir"] = v
        if v <= baseline * 0.5:
            st["responded"] = True

    def maint_infusion(day, v):
        """R4: a maintenance infusion counts on the ladder (v: the visit's MADRS, R5)."""
        st["first_maint"] = True
        st["last_maint"] = day
        if st["status"] == "nonresp":
            st["status"] = "maint"
        if ie and st["status"] == "maint":
            st["count"] += 1
            n = LADDER_N[st["rung"]]
            if n is not None and st["count"] >= n and (v <= 10 or v <= baseline * 0.5):
                st["rung"] += 1
                st["count"] = 0

    def taper_interval(on):
        acc = 0
        for iv, months in taper["steps"]:
            acc += months
            if on < add_months(taper["start"], acc):
                return iv
        return None

    def next_due(day):
        """The next booked scheduled visit after an infusion on `day` (None: none)."""
        s = st["status"]
        if s == "taper":
            due = day + taper_interval(day)
            for _ in range(3):
                iv = taper_interval(due)
                if iv is None:
                    return None
                due = day + iv
        elif s != "maint" or st_only:
            return None
        elif hybrid:
            due = st["last_maint"] + 28 if st["last_maint"] is not None else acute[-1] + 28
        else:
            due = (st["last_maint"] if st["first_maint"] else acute[-1]) + LADDER[st["rung"]]
        d = book(due, st["last_maint"])
        if R() < 0.04:              # rescheduled by the patient, a few days late
            d = nopen(d + 1 + int(R() * 3))
        return d

    def visit(day, series, madrs=None):
        """A clinic visit: an infusion of `series`, or a review (series None). Returns the
        first free minute after it."""
        s0 = 450 + 15 * int(R() * 26)          # 07:30 .. 13:45
        gaps = rng.sample(("vit", "sub", "uro", "sfx", "rsp", "mad"), 1 + int(R() * 2)) \
            if R() < 0.03 else ()
        quarterly = q["pending"]
        annual = quarterly and q["annual"]
        if annual and R() < 0.96:
            E(day, s0 - 12, T_CONSENT, A_C, '{"kind":"reaffirmation"}')
        if quarterly:
            labs(day, s0 - 10, annual and R() < 0.95, R() < 0.93)
        v = madrs_sample() if madrs is None else madrs
        if "mad" not in gaps:
            eid = score(day, s0, "MADRS", v)
            madrs_seen(day, v, eid)
        if quarterly and day >= add_months(q["moca_last"], 5) and R() < 0.96:
            score(day, s0 + 3, "MOCA", 24 + int(R() * 7))
            q["moca_last"] = day
        if "vit" not in gaps:
            vitals(day, s0 + 6, R() < 0.02)
        if "sub" not in gaps:
            pos = R() < (0.03 if subst_hist else 0.003)
            eid = E(day, s0 + 9, T_SCREEN, A_N, '{"kind":"substance-use","positive":%s}'
                    % ("true" if pos else "false"))
            if pos:
                alerts.append("substance-use:" + eid)
        if "uro" not in gaps:
            pos = R() < 0.003
            eid = E(day, s0 + 10, T_SCREEN, A_N, '{"kind":"urological-symptoms","positive":%s}'
                    % ("true" if pos else "false"))
            if pos:
                alerts.append("urology-referral:" + eid)
        if quarterly:
            pos = R() < 0.002
            eid = E(day, s0 + 12, T_SCREEN, A_N, '{"kind":"psychotic-symptoms","positive":%s}'
                    % ("true" if pos else "false"))
            if pos:
                alerts.append("psychotic-symptoms:" + eid)
        if series is not None:
            sx = ('}' if not SESSIONS[0] else ',"weightKg":%s,"lot":"K-%s%s","durationMinutes":40}'
                  % (weight, dts[day][:7], "a" if dts[day][8:10] < "16" else "b"))
            if escalated and series != "acute" and day - t0 > 120:
                inf = E(day, s0 + 40, T_INF, A_N, '{"route":"IV","dose":{"value":0.75,"unit":"mg/kg"},'
                        '"series":"%s","justification":"Partial response at 0.5 mg/kg despite a '
                        'shortened interval"' % series + sx)
            elif R() < 0.003:
                inf = E(day, s0 + 40, T_INF, A_N, '{"route":"IV","dose":{"value":0.6,'
                        '"unit":"mg/kg"},"series":"%s"' % series + sx)
                alerts.append("dose-above-limit:" + inf)
            else:
                inf = E(day, s0 + 40, T_INF, A_N, '{"route":"IV","dose":%s,"series":"%s"'
                        % (dose, series) + sx)
            if SESSIONS[0]:
                E(day, s0 + 55, T_OBS, A_N, '{"infusion":"%s","spo2":%d,"moaas":%d,"cadss":%d}'
                  % (inf, 95 + int(wr() * 5), 4 + int(wr() * 2), int(wr() * 12)))
                E(day, s0 + 70, T_OBS, A_N, '{"infusion":"%s","systolic":%d,"diastolic":%d,'
                  '"heartRate":%d,"spo2":%d}' % (inf, 112 + int(wr() * 30), 70 + int(wr() * 18),
                                                 60 + int(wr() * 25), 95 + int(wr() * 5)))
                E(day, s0 + 100, T_OBS, A_N, '{"infusion":"%s","moaas":5,"cadss":%d}'
                  % (inf, int(wr() * 4)))
                E(day, s0 + 115, T_OBS, A_N, '{"infusion":"%s","systolic":%d,"diastolic":%d}'
                  % (inf, 110 + int(wr() * 26), 68 + int(wr() * 18)))
                E(day, s0 + 145, T_DISCH, A_N, '{"infusion":"%s","criteriaMet":true,"escort":true}'
                  % inf)
            if "vit" not in gaps:       # post-infusion vitals and dissociation check
                vitals(day, s0 + 95, R() < 0.015)
                E(day, s0 + 97, T_SCREEN, A_N, '{"kind":"dissociative-symptoms","positive":%s}'
                  % ("true" if R() < 0.01 else "false"))
            if "sfx" not in gaps:
                se = R() < 0.04
                E(day, s0 + 100, T_SCREEN, A_N, '{"kind":"side-effects-review","positive":%s}'
                  % ("true" if se else "false"))
                if se:
                    r = R()
                    if r < 0.45:
                        E(day, s0 + 101, T_SIDE, A_N, '{"category":"nausea","severity":"mild",'
                          '"note":"Nausea after infusion, ondansetron given"}')
                    elif r < 0.85:
                        E(day, s0 + 101, T_SIDE, A_N, '{"category":"dissociative","severity":'
                          '"mild","note":"Transient dissociation, resolved before discharge"}')
                    elif r < 0.95:
                        E(day, s0 + 101, T_SIDE, A_N, '{"category":"cardiovascular","severity":'
                          '"mild","note":"Transient blood pressure rise during infusion"}')
                    elif r < 0.985:
                        E(day, s0 + 101, T_SIDE, A_N, '{"category":"cognitive","severity":'
                          '"mild","note":"Brief word-finding difficulty"}')
                    else:
                        eid = E(day, s0 + 101, T_SIDE, A_N, '{"category":"urological",'
                                '"severity":"moderate","note":"Dysuria and urgency"}')
                        alerts.append("urology-referral:" + eid)
            if "rsp" not in gaps:
                E(day, s0 + 105, T_ASSESS, A_C, '{"kind":"treatment-response"}')
            m = s0 + 106
        else:
            E(day, s0 + 20, T_ASSESS, A_C, '{"kind":"treatment-response",'
              '"note":"Review visit (no infusion)"}')
            m = s0 + 21
        if quarterly:
            if R() < 0.96:
                E(day, m, T_ASSESS, A_C, '{"kind":"comprehensive-psychiatric"}')
            if R() < 0.96:
                E(day, m + 1, T_ASSESS, A_C, '{"kind":"treatment-plan-review"}')
            if R() < 0.95:
                E(day, m + 2, T_ASSESS, A_C, '{"kind":"goal-setting",'
                  '"note":"Goals for the next quarter reviewed"}')
            m += 3
            if annual:
                if R() < 0.96:
                    E(day, m, T_ASSESS, A_C, '{"kind":"full-safety"}')
                if R() < 0.95:
                    E(day, m + 1, T_ASSESS, A_C, '{"kind":"continuation-discussion"}')
                m += 2
            q["pending"] = q["annual"] = False
            q["review"] = None
        return m

    def phq_day(day):
        """The evening PHQ-2 (most days) and the R12 trigger."""
        s = st["status"]
        if s == "maint" and ph["episode"] == 0 and R() < (1 / 30 if st_only else 1 / 45):
            ph["episode"] = 3 + int(R() * 4)
        if ph["episode"] == 0 and R() > 0.90:
            ph["run"] = 0
            return
        if s in ("acute", "awaiting", "nonresp"):
            v = min(6, lvl // 7)
        elif ph["episode"]:
            v = min(6, phq_b + 2 + (1 if R() < 0.4 else 0))
            ph["episode"] -= 1
        else:
            v = phq_b + (1 if R() < 0.1 else 0)
        win = ph["win"]
        while win and win[0][0] < day - 28:
            win.pop(0)
        eid = score(day, 1140 + int(R() * 150), "PHQ2", v)
        raised = bool(win) and v > win[0][1] * 1.25 and v >= win[0][1] + 1
        while win and win[-1][1] >= v:
            win.pop()
        win.append((day, v))
        if raised and s == "maint":
            ph["run"] += 1
            if ph["run"] == 3:
                ph["due"] = nopen(day + 1)
                ph["alert"] = "booster-indicated:" + eid
        else:
            ph["run"] = 0

    # ------------------------------------------------------------ intake
    day = enrol
    s0 = 450 + 15 * int(R() * 20)
    E(day, s0 - 30, T_ENROL, A_C, '{"protocol":"%s","birthYear":%d,"substanceUseHistory":%s}'
      % (proto, birth, "true" if subst_hist else "false"))
    E(day, s0 - 25, T_CONSENT, A_C, '{"kind":"initial"}')
    score(day, s0 - 20, "MADRS", B)
    score(day, s0 - 18, "MOCA", 24 + int(R() * 7))
    labs(day, s0 - 16, True, True)
    E(day, s0 - 10, T_ASSESS, A_C, '{"kind":"comprehensive-psychiatric","note":"Intake evaluation"}')
    E(day, s0 - 8, T_ASSESS, A_C, '{"kind":"treatment-plan-review",'
      '"note":"Acute series of six IV infusions, then %s maintenance"}' % proto)
    E(day, s0 - 6, T_ASSESS, A_C, '{"kind":"goal-setting","note":"Goal: remission"}')
    vitals(day, s0, False)
    E(day, s0 + 3, T_SCREEN, A_N, '{"kind":"substance-use","positive":false}')
    E(day, s0 + 4, T_SCREEN, A_N, '{"kind":"urological-symptoms","positive":false}')
    E(day, s0 + 5, T_SCREEN, A_N, '{"kind":"psychotic-symptoms","positive":false}')
    E(day, s0 + 40, T_INF, A_N, '{"route":"IV","dose":%s,"series":"acute"}' % dose)
    E(day, s0 + 100, T_SCREEN, A_N, '{"kind":"side-effects-review","positive":false}')
    E(day, s0 + 105, T_ASSESS, A_C, '{"kind":"treatment-response"}')
    if R() < 0.3:
        E(day, s0 + 110, T_MED, A_C, '{"name":"%s","action":"change","dose":"%s"}'
          % MEDS[int(R() * len(MEDS))])
    acute.append(day)
    if phq_daily:
        phq_day(day)
    do_corrections(day)
    cur_w = day // WINDOW

    next_visit = nopen(day + 2)     # next booked infusion visit (None: none booked)
    resp_day = None
    while True:
        # ---- the next day with something to do
        if phq_daily and st["status"] != "disc":
            day += 1                # a PHQ-2 (most) days: every day is looked at
        else:
            nd = 1 << 30
            for c in (next_visit, resp_day, ph["due"], q["review"],
                      q["next"] if st["status"] != "disc" else None,
                      fu_days[0] if fu_days else None):
                if c is not None and c < nd:
                    nd = c
            for c in plan:
                if c < nd:
                    nd = c
            for c in corrections:
                if c[0] < nd:
                    nd = c[0]
            day = max(nd, day + 1)
        if day // WINDOW != cur_w or day >= ndays:
            if S["out"]:
                yield cur_w, S["out"]
                S["out"] = []
            if day >= ndays:
                return
            cur_w = day // WINDOW
        s = st["status"]

        # ---- quarter windows from T0 (R11); the annual bundle in each year's last quarter
        if s != "disc" and q["next"] is not None and day >= q["next"]:
            while day >= q["next"]:
                q["k"] += 1
                q["next"] = add_months(t0, 3 * q["k"])
            q["pending"] = True
            q["annual"] = (q["k"] - 1) % 4 == 3
            # a visit within 30 days takes the quarter's items, else a review visit
            regular = next_visit is not None and not st_only and next_visit <= day + 30
            q["review"] = None if regular else nopen(day)

        visited = False
        if s == "acute" and next_visit is not None and day >= next_visit:
            # ---- acute series
            if acute and len(acute) < 6:
                lvl = max(home, lvl - max(2, (baseline - home) // 5))
            visit(day, "acute", lvl)
            if not acute:
                baseline = lvl      # a new series: its baseline is the MADRS before it (R8)
            acute.append(day)
            visited = True
            if len(acute) >= 6:
                st["status"] = "awaiting"
                resp_day = nopen(day + 3)
                next_visit = None
                lvl = home
            else:
                next_visit = nopen(day + 2)
        elif resp_day is not None and day >= resp_day:
            # ---- response assessment (R2)
            resp_day = None
            s0 = 600 + 15 * int(R() * 20)
            eid = score(day, s0, "MADRS", lvl)
            madrs_seen(day, lvl, eid)
            visited = True
            if st["status"] == "maint":
                E(day, s0 + 20, T_ASSESS, A_C, '{"kind":"treatment-response",'
                  '"note":"Acute series complete: responder, maintenance starts"}')
                next_visit = next_due(acute[-1]) if not st_only else None
                if hybrid:
                    next_visit = book(acute[-1] + 28, None)
            else:
                E(day, s0 + 20, T_ASSESS, A_C, '{"kind":"treatment-response",'
                  '"note":"Acute series complete: non-response"}')
                m = acks(day, s0 + 25)
                if path == "stop":
                    E(day, m, T_DISC, A_C, '{"reason":"Non-response to the acute series; '
                      'referred for alternative treatment"}')
                    st["status"] = "disc"
                    disc_day = day
                    next_visit = None
                    q["pending"] = False
                    q["review"] = None
                else:
                    next_visit = book(acute[-1] + 7, None)     # a weekly maintenance trial
        elif ph["due"] is not None and day >= ph["due"] and st["status"] == "maint" \
                and isopen[day] and (hybrid or st["last_maint"] is None
                                     or day - st["last_maint"] >= 7):
            # ---- R12 trigger: booster (hybrid) or triggered infusion (symptom-triggered)
            ph["due"] = None
            ph["episode"] = 0
            base_soon = hybrid and next_visit is not None and next_visit - day <= 7
            series = "booster" if hybrid and not base_soon else "maintenance"
            v = min(60, lvl + 5 + int(R() * 4))
            m = visit(day, series, v)
            if series == "maintenance":
                maint_infusion(day, v)
            if ph["alert"]:
                alerts.append(ph["alert"])
                ph["alert"] = None
            acks(day, m)
            visited = True
            if base_soon:
                next_visit = next_due(day)
        elif next_visit is not None and day >= next_visit and st["status"] in ("maint", "nonresp", "taper"):
            # ---- a scheduled maintenance (or taper) infusion
            if path == "late" and st["status"] in ("maint", "nonresp") and lvl > 7:
                lvl = max(6, lvl - 2 - int(R() * 3))        # late responder improving
            elif lvl > home:
                lvl = max(home, lvl - 1 - int(R() * 2))     # recovering from a rise
            rise = ie and st["status"] == "maint" and st["first_maint"] and path == "responder" \
                and R() < 0.035
            if rise:
                nadir = st["nadir"]
                lvl = min(60, max(int(nadir * 1.25) + 1, nadir + 2) + int(R() * 3))
                v = lvl
            else:
                v = madrs_sample()
            m = visit(day, "maintenance", v)
            maint_infusion(day, v)
            pending_acks = list(alerts)
            m = acks(day, m)
            visited = True
            next_visit = None
            s = st["status"]
            r = R()
            months_in = (day - t0) / 30.44
            if path == "trial-fail" and day - acute[-1] > 35:
                E(day, m, T_DISC, A_C, '{"reason":"No response to the acute series and a '
                  '5-week maintenance trial; referred for alternative treatment"}')
                st["status"] = "disc"
                disc_day = day
            elif r < 0.008:
                name, dd = MEDS[int(R() * len(MEDS))]
                E(day, m, T_MED, A_C, '{"name":"%s","action":"%s","dose":"%s"}'
                  % (name, "start" if R() < 0.5 else "change", dd))
            elif any(a.startswith("tolerance-review:") for a in pending_acks) and R() < 0.4:
                E(day, m, T_MED, A_C, '{"name":"lithium carbonate","action":"start",'
                  '"dose":"300 mg twice daily"}')
            elif ie and s == "maint" and r < 0.020:
                new = LADDER[max(0, st["rung"] - (1 if R() < 0.5 else 0))]
                E(day, m, T_SCHED, A_C, '{"intervalDays":%d,"reason":"Clinician review: '
                  'hold at every %d days"}' % (new, new))
                st["rung"] = LADDER.index(new)
                st["count"] = 0
            elif ie and s == "maint" and r < 0.027 and months_in > 6:
                weeks = 4 + int(R() * 3)
                hol["eid"] = E(day, m, T_HOLS, A_C, '{"plannedWeeks":%d}' % weeks)
                hol["start"], hol["weeks"] = day, weeks
                st["status"] = "drug-holiday"
                st["held_rung"] = st["rung"]
                end = day + 7 * weeks
                while not isopen[end]:
                    end -= 1
                if R() < 0.12:
                    end = nopen(end + 7 + int(R() * 8))     # overrun
                plan.setdefault(end, []).append("holiday-end")
                plan.setdefault(nopen(day + 21), []).append("check-in")
            elif ie and s == "maint" and r < 0.033 and months_in > 8:
                if R() < 0.6:
                    steps = ((21, 3), (28, 3), (42, 3))
                    eid = E(day, m, T_TAPER, A_C, '{}')
                else:
                    steps = ((21, 3), (28, 3))
                    eid = E(day, m, T_TAPER, A_C, '{"steps":[{"intervalDays":21,"months":3},'
                            '{"intervalDays":28,"months":3}]}')
                taper.update(start=day, steps=steps, eid=eid)
                st["status"] = "taper"
                st["held_rung"] = st["rung"]
                plan.setdefault(nopen(add_months(day, sum(x[1] for x in steps))), []).append(
                    "discontinue")
            elif s in ("maint", "taper") and r > 0.9975:
                E(day, m, T_DISC, A_C, '{"reason":"%s"}' % rng.choice(
                    ("Patient relocated out of state", "Insurance coverage ended",
                     "Patient preference after sustained remission")))
                st["status"] = "disc"
                disc_day = day
            if st["status"] in ("maint", "nonresp", "taper"):
                next_visit = next_due(day)
            if st["status"] == "disc":
                q["pending"] = False
                q["review"] = None

        # ---- planned actions: holiday check-in and end, end of a taper
        for a in plan.pop(day, ()):
            if a == "check-in" and st["status"] == "drug-holiday":
                s0 = 600 + 15 * int(R() * 20)
                v = madrs_sample()
                eid = score(day, s0, "MADRS", v)
                madrs_seen(day, v, eid)
                E(day, s0 + 15, T_ASSESS, A_C, '{"kind":"treatment-response",'
                  '"note":"Drug holiday check-in: stable"}')
            elif a == "holiday-end" and st["status"] == "drug-holiday":
                if day > hol["start"] + 7 * hol["weeks"]:
                    alerts.append("holiday-overrun:" + hol["eid"])
                resume = LADDER[min(st["held_rung"], 2)] if R() < 0.5 else None
                E(day, 430, T_HOLE, A_C, '{}' if resume is None
                  else '{"resumeIntervalDays":%d}' % resume)
                st["status"] = "maint"
                st["rung"] = LADDER.index(resume) if resume else st["held_rung"]
                st["count"] = 0
                v = madrs_sample()
                m = visit(day, "maintenance", v)
                maint_infusion(day, v)
                acks(day, m)
                visited = True
                next_visit = next_due(day)
            elif a == "discontinue" and st["status"] == "taper":
                s0 = 600 + 15 * int(R() * 20)
                v = madrs_sample()
                eid = score(day, s0, "MADRS", v)
                madrs_seen(day, v, eid)
                E(day, s0 + 10, T_ASSESS, A_C, '{"kind":"continuation-discussion",'
                  '"note":"Taper complete"}')
                E(day, s0 + 12, T_DISC, A_C, '{"reason":"Taper complete: sustained remission; '
                  'ketamine available PRN"}')
                E(day, s0 + 14, T_ACK, A_C, '{"alertId":"discontinuation-eligible:%s"}'
                  % taper["eid"])
                acks(day, s0 + 15)
                st["status"] = "disc"
                disc_day = day
                next_visit = None
                q["pending"] = False
                q["review"] = None
                fu_days = [nopen(add_months(day, k)) for k in (1, 2, 3, 6, 9, 12)]

        # ---- a quarterly review without an infusion (no visit close enough)
        if not visited and q["pending"] and q["review"] is not None and day >= q["review"] \
                and isopen[day] and st["status"] not in ("disc", "acute", "awaiting"):
            m = visit(day, None)
            acks(day, m)

        # ---- follow-up after a discontinuation; relapse (R8)
        if fu_days and day >= fu_days[0]:
            fu_days.pop(0)
            if st["status"] == "disc":
                s0 = 600 + 15 * int(R() * 20)
                relapse = R() < 0.08
                v = int(baseline * 0.5) + 2 + int(R() * 6) if relapse else madrs_sample()
                eid = score(day, s0, "MADRS", v)
                E(day, s0 + 15, T_ASSESS, A_C, '{"kind":"treatment-response",'
                  '"note":"Post-discontinuation follow-up"}')
                if relapse and st["responded"]:
                    E(day, s0 + 20, T_ACK, A_C, '{"alertId":"relapse:%s"}' % eid)
                    fu_days = []
                    lvl = v
                    q["next"] = add_months(t0, 3 * q["k"])
                    if day - disc_day > 90:     # late: a new acute series (R8)
                        st.update(status="acute", nadir=None, rung=0, count=0,
                                  first_maint=False, last_maint=None, responded=False)
                        acute = []
                        home = max(2, int(v * 0.35))
                    else:                       # early / intermediate: resume maintenance
                        st.update(status="maint", rung=st["held_rung"], count=0, nadir=v)
                        lvl = v
                    next_visit = nopen(day + 3)
        if phq_daily and st["status"] != "disc":
            phq_day(day)
        if corrections:
            do_corrections(day)


# ------------------------------------------------------------------ main

def main(argv):
    args = {"--out": "-"}
    stats = False
    it = iter(argv)
    for a in it:
        if a == "--stats":
            stats = True
        elif a == "--sessions":
            SESSIONS[0] = True
        elif a in ("--patients", "--seed", "--start", "--days", "--out"):
            v = next(it, None)
            if v is None:
                usage("%s needs a value" % a)
            args[a] = v
        elif a in ("-h", "--help"):
            sys.stdout.write(__doc__)
            return 0
        else:
            usage("unknown argument %s" % a)
    for k in ("--patients", "--seed", "--start", "--days"):
        if k not in args:
            usage("missing %s" % k)
    try:
        n = int(args["--patients"])
        seed = int(args["--seed"])
        days = int(args["--days"])
        start = _dt.date.fromisoformat(args["--start"])
    except ValueError as e:
        usage(str(e))
    if not (1 <= n <= 1 << 20) or days < 1 or seed < 0:
        usage("need 1 <= patients <= 1048576, days >= 1, seed >= 0")
    if start + _dt.timedelta(days=days - 1) > _dt.date.today() + _dt.timedelta(days=1):
        sys.stderr.write("generate-clinic.py: warning: the range ends after tomorrow; kstore "
                         "refuses events more than 24 hours in the future\n")
    t = time.perf_counter()
    c0 = time.process_time()
    cal = Calendar(start, days)
    counts = [0] * len(TYPES)
    nwin = (days + WINDOW - 1) // WINDOW
    buckets = [[] for _ in range(nwin)]
    for p in range(n):
        g = patient(p, seed, cal, counts)
        first = next(g, None)
        if first is not None:
            buckets[first[0]].append((g, first[1]))
    out = sys.stdout if args["--out"] == "-" else open(args["--out"], "w", encoding="utf-8",
                                                       buffering=1 << 20)
    total = 0
    try:
        if SESSIONS[0]:
            # The clinic's stock: two lots a month, received on the 1st and the 16th.
            seen = set()
            for d in range(days):
                month = cal.date_t[d][:7] + ("a" if cal.date_t[d][8:10] < "16" else "b")
                if month in seen:
                    continue
                seen.add(month)
                # Five deliveries of 100,000 mg (a receipt's most): the acute series of the
                # clinic's first months draw a lot heavily.
                for k in range(5):
                    out.write('{"eventId":"%08x-0000-4000-8000-%012x","type":"StockReceived","occurredAt":"%s07:0%d:00%s'
                              '{"id":"dr.hale","role":"clinician"},"data":{"drug":"ketamine","lot":"K-%s",'
                              '"quantityMg":100000,"supplier":"Hikma","invoice":"INV-%s-%d"}}\n'
                              % (seed & 0xFFFFFFFF, len(seen) * 8 + k, cal.date_t[d], k, cal.off_actor[d], month,
                                 month, k + 1))
                    total += 1
        for w in range(nwin):
            b = buckets[w]
            if not b:
                continue
            buckets[w] = None
            evs = []
            for g, e in b:
                evs.extend(e)
                for w2, e2 in g:
                    buckets[w2].append((g, e2))
                    break
            evs.sort()
            out.writelines([line for _, line in evs])
            total += len(evs)
    finally:
        if out is not sys.stdout:
            out.close()
        else:
            out.flush()
    el = time.perf_counter() - t
    cpu = time.process_time() - c0
    if stats:
        sys.stderr.write("%d events, %d patients, %.2f s wall (%.0f events/s), %.2f s CPU "
                         "(%.0f events/s)\n" % (total, n, el, total / el if el else 0, cpu,
                                                 total / cpu if cpu else 0))
        for name, c in sorted(zip(TYPES, counts), key=lambda x: -x[1]):
            sys.stderr.write("  %-24s %9d\n" % (name, c))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except BrokenPipeError:            # e.g. piped into head
        import os
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
