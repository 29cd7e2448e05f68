#!/usr/bin/env bash
# Encryption at rest (issue 16): writes a canary (a patient id, a note, an actor id, an actor's
# name, a reason) through every path that writes (import, append, amend, void, review, the web
# API, a web password, the access log by reads, a backup) and greps every byte of every file of
# the store, its backup and the lock file for it.
#
#   tools/canary-check.sh KSTORE_BINARY encrypted   # exit 0 when no canary is in any file
#   tools/canary-check.sh KSTORE_BINARY plain       # exit 0 when the canaries ARE found (so the
#                                                   # check can fail: the greps see plaintext)
#
# Prints one line per canary and file set. Needs curl for the web path.
set -euo pipefail
k=$1
mode=${2:-encrypted}
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/kstore-canary-XXXXXX)
srv=""
cleanup() {
  [ -n "$srv" ] && kill "$srv" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
store=$work/store
mkdir -m 700 "$work/keys"
patient=CanaryPatient-7Q3Z
note=CanaryNote-X81K
actor=rn.canary-w4z
name="Canary Namevq"
reason=CanaryReason-J2P
review=CanaryReview-M5T
if [ "$mode" = encrypted ]; then
  "$k" key generate --out "$work/keys/master" >/dev/null
  export KSTORE_KEY_FILE=$work/keys/master
  "$k" init --store "$store" --encrypt >/dev/null
else
  unset KSTORE_KEY_FILE
  "$k" init --store "$store" >/dev/null
fi
"$here/tools/register-actors.sh" "$store" "$k" >/dev/null
"$k" actor add --store "$store" --id "$actor" --role nurse --os-user canary-os --name "$name" >/dev/null
"$k" actor add --store "$store" --id cm.canary --role compliance --os-user "$(id -un)" --name "Compliance Reviewer" >/dev/null 2>&1 || true
# import
cat > "$work/in.ndjson" <<EOF
{"type":"PatientEnrolled","patient":"$patient","occurredAt":"2026-01-05T08:00:00-05:00","actor":{"id":"dr.hale","role":"clinician"},"data":{"protocol":"interval-extension","birthYear":1980,"substanceUseHistory":false}}
{"type":"SideEffectReported","patient":"$patient","occurredAt":"2026-01-05T09:00:00-05:00","actor":{"id":"$actor","role":"nurse"},"data":{"category":"nausea","severity":"mild","note":"$note import"}}
EOF
"$k" import --store "$store" "$work/in.ndjson" >/dev/null
# append, amend, void
"$k" append --store "$store" --patient "$patient" --type SideEffectReported --at 2026-01-06T09:00:00-05:00 \
  --actor "$actor" --role nurse --data "{\"category\":\"nausea\",\"severity\":\"mild\",\"note\":\"$note append\"}" >/dev/null
id=$("$k" log --store "$store" --patient "$patient" --json | python3 -c 'import json,sys; print([e for e in json.load(sys.stdin)["events"] if e["type"]=="SideEffectReported"][-1]["eventId"])' 2>/dev/null ||
  "$k" log --store "$store" --patient "$patient" --json | python3 -c 'import json,sys; d=json.load(sys.stdin); d=d if isinstance(d,list) else d["events"]; print([e for e in d if e["type"]=="SideEffectReported"][-1]["eventId"])')
"$k" amend --store "$store" --event "$id" --reason "$reason amend" --data "{\"note\":\"$note amended\"}" --actor dr.hale --role clinician >/dev/null
"$k" void --store "$store" --event "$id" --reason "$reason void" --actor dr.hale --role clinician >/dev/null
# reads (the access log names the patient), a review
"$k" query phase --store "$store" --patient "$patient" >/dev/null
"$k" query due --store "$store" >/dev/null
"$k" audit trail --store "$store" --patient "$patient" >/dev/null
seq=$("$k" log --store "$store" --json | python3 -c 'import json,sys; d=json.load(sys.stdin); d=d if isinstance(d,list) else d["events"]; print(max(e["sequence"] for e in d))')
"$k" audit review --store "$store" --through "$seq" --actor cm.canary --note "$review" >/dev/null
# the web: a password (bcrypt hash kept in the credentials), a token, an event through the API
printf 'Canary-Password-9fz2Q\n' | "$k" actor passwd --store "$store" --id "$actor" >/dev/null
token=$("$k" actor token --store "$store" --id dr.hale | tail -1 | tr -d '[:space:]')
port=$((20000 + RANDOM % 20000))
"$k" serve --store "$store" --listen "127.0.0.1:$port" >/dev/null 2>"$work/serve.err" &
srv=$!
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$port/login" && break; sleep 0.1; done
line="{\"type\":\"SideEffectReported\",\"patient\":\"$patient\",\"occurredAt\":\"2026-01-07T09:00:00-05:00\",\"actor\":{\"id\":\"dr.hale\",\"role\":\"clinician\"},\"data\":{\"category\":\"nausea\",\"severity\":\"mild\",\"note\":\"$note web\"}}"
status=$(curl -s -o "$work/web.out" -w '%{http_code}' -H "Authorization: Bearer $token" -H 'Content-Type: application/x-ndjson' \
  --data-binary "$line" "http://127.0.0.1:$port/api/v1/events")
curl -s -o /dev/null -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/patients/$patient/phase" || true
kill "$srv" && wait "$srv" 2>/dev/null || true
srv=""
case "$status" in 2*) ;; *) echo "the web API refused the canary event ($status): $(cat "$work/web.out")" >&2; exit 2 ;; esac
# a backup
"$k" backup --store "$store" "$work/backup" >/dev/null
"$k" audit verify --store "$store" >/dev/null
files=("$store"/* "$work/backup"/*)
found=0
canaries=("$patient" "$note import" "$note append" "$note amended" "$note web" "$actor" "$name" "$reason amend" "$reason void" "$review" "Canary-Password-9fz2Q")
for c in "${canaries[@]}"; do
  hits=$(grep -a -l -F -- "$c" "${files[@]}" 2>/dev/null | sed "s|$work/||" | tr '\n' ' ' || true)
  if [ -n "$hits" ]; then
    echo "$c: found in $hits"
    found=$((found + 1))
  else
    echo "$c: in none of ${#files[@]} files"
  fi
done
echo "files: $(cd "$work" && ls store backup | tr '\n' ' ')"
if [ "$mode" = encrypted ]; then
  [ "$found" -eq 0 ] || { echo "FAILED: $found canaries found in an encrypted store's files" >&2; exit 1; }
  echo "ok: no canary in any byte of the encrypted store, its lock file or its backup"
else
  # The password is kept only as a bcrypt hash: every other canary must be found in plain files.
  [ "$found" -ge $((${#canaries[@]} - 1)) ] || { echo "FAILED: only $found canaries found in a plain store: the check cannot see plaintext" >&2; exit 1; }
  echo "ok: $found canaries found in the plain store's files (the check sees plaintext)"
fi
