# Schemathesis hooks for tools/api-check.sh: how to generate and send the body of
# POST /api/v1/events (application/x-ndjson, which schemathesis does not know).
#
# The bodies are NDJSON-shaped (lines of JSON objects with the envelope's keys) or arbitrary
# text, so the server's 422 path is exercised line by line. Every generated line names the
# actor `api-check.nobody`, which no store registers: nothing generated here can ever be
# written to the log under test, whatever the token.
import json

import schemathesis
from hypothesis import strategies as st

EVENT_TYPES = [
    "PatientEnrolled", "ConsentRecorded", "InfusionAdministered", "ScoreRecorded", "LabResulted", "VitalsRecorded",
    "SideEffectReported", "ScreeningRecorded", "AssessmentRecorded", "MedicationChanged", "ScheduleAdjusted",
    "DrugHolidayStarted", "DrugHolidayEnded", "TaperStarted", "MaintenanceDiscontinued", "PregnancyStatusRecorded",
    "AlertAcknowledged", "AuditReviewed", "EventAmended", "EventVoided", "RuleSetAdopted", "ActorRegistered", "ActorRetired",
]
ROLES = ["clinician", "nurse", "compliance", "admin", "interface"]

scalars = st.none() | st.booleans() | st.integers(-1000, 1000) | st.text(max_size=20)
data = st.dictionaries(st.sampled_from(["instrument", "value", "kind", "dose", "route", "series", "intervalDays", "x"]), scalars, max_size=4)
line = st.fixed_dictionaries(
    {
        "type": st.sampled_from(EVENT_TYPES) | st.text(max_size=12),
        "patient": st.from_regex(r"\A[A-Za-z0-9._-]{1,12}\Z") | st.text(max_size=8),
        "occurredAt": st.sampled_from(["2026-11-20T09:00:00-05:00", "2026-02-30T09:00:00Z", "yesterday"]),
        "actor": st.fixed_dictionaries({"id": st.just("api-check.nobody"), "role": st.sampled_from(ROLES)}),
        "data": data,
    },
    optional={"eventId": st.uuids().map(str), "expectedVersion": st.integers(0, 5)},
).map(lambda o: json.dumps(o))
ndjson = st.lists(line, min_size=1, max_size=5).map(lambda ls: ("\n".join(ls) + "\n").encode())
text = st.text(max_size=200).filter(lambda s: "api-check.nobody" in s or "actor" not in s).map(lambda s: s.encode())

schemathesis.openapi.media_type("application/x-ndjson", ndjson | text)
