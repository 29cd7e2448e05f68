-- wrk script for tools/web-bench.sh: each request POSTs one distinct ScoreRecorded line (as the
-- token's clinician) to /api/v1/events, so every request is one durable append.
local counter = 0
local threads = {}
local token = os.getenv("KSTORE_BENCH_TOKEN") or ""
local patients = { "C1", "C2", "C3", "C4" }

-- Each run gets its own event ids (a run's warm-up and its measurement, and later runs, would
-- otherwise resend the same ids and measure duplicates, which write nothing).
local run = os.time() % 65536

function setup(thread)
  thread:set("tid", #threads + 1 + run * 16)
  table.insert(threads, thread)
end

function request()
  counter = counter + 1
  local n = tid * 10000000 + counter
  local body = string.format(
    '{"type":"ScoreRecorded","patient":"%s","occurredAt":"2026-11-%02dT%02d:%02d:%02d-05:00","actor":{"id":"dr.hale","role":"clinician"},"data":{"instrument":"PHQ9","value":%d},"eventId":"%08x-0000-4000-8000-%012x"}',
    patients[(counter % 4) + 1], (counter % 28) + 1, math.floor(counter / 3600) % 24, math.floor(counter / 60) % 60, counter % 60, counter % 27, tid, n)
  return wrk.format("POST", "/api/v1/events", { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/x-ndjson" }, body)
end

function response(status, headers, body)
  if status ~= 200 then
    io.stderr:write("status " .. status .. ": " .. body .. "\n")
  end
end
