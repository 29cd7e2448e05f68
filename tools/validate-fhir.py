#!/usr/bin/env python3
"""Validate `kstore audit export --format fhir` output (NDJSON, one resource a line).

Each line is parsed as JSON and validated with the PyPI package `fhir.resources` (7.1.0),
using its R4B models (`fhir.resources.R4B.auditevent.AuditEvent`,
`fhir.resources.R4B.provenance.Provenance`, and for the clinical record `Encounter`,
`Observation`, `SupplyDelivery`). R4B keeps R4's structure of these resources unchanged (same elements, types, cardinalities), so a resource these models accept
is a structurally valid R4 resource. Honestly stated: this validates against the R4B pydantic
models of fhir.resources, not against the published fhir.schema.json file itself.

Usage: validate-fhir.py FILE   (or - for stdin)
Prints `LINE: problem` for every invalid line and exits 1; otherwise prints `N resources valid`.
Exits 2 when fhir.resources is not installed (tools/setup.sh installs it).
"""
import json
import sys

try:
    from fhir.resources.R4B.auditevent import AuditEvent
    from fhir.resources.R4B.provenance import Provenance
    from fhir.resources.R4B.encounter import Encounter
    from fhir.resources.R4B.observation import Observation
    from fhir.resources.R4B.supplydelivery import SupplyDelivery
except ImportError as e:  # pragma: no cover
    print(f"fhir.resources is not installed ({e}); run tools/setup.sh", file=sys.stderr)
    sys.exit(2)

MODELS = {
    "AuditEvent": AuditEvent,
    "Provenance": Provenance,
    "Encounter": Encounter,
    "Observation": Observation,
    "SupplyDelivery": SupplyDelivery,
}


def problems(line):
    try:
        obj = json.loads(line)
    except ValueError as e:
        return [f"not JSON: {e}"]
    if not isinstance(obj, dict):
        return ["not a JSON object"]
    kind = obj.get("resourceType")
    model = MODELS.get(kind)
    if model is None:
        return [f"unexpected resourceType {kind!r}"]
    try:
        if hasattr(model, "model_validate"):
            model.model_validate(obj)
        else:
            model.parse_obj(obj)
    except Exception as e:  # pydantic ValidationError (or a model's own check)
        return [" ".join(str(e).split())]
    return []


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        print("usage: validate-fhir.py FILE", file=sys.stderr)
        return 64
    f = sys.stdin if argv[1] == "-" else open(argv[1], encoding="utf-8")
    count = 0
    bad = 0
    with f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            count += 1
            for p in problems(line):
                bad += 1
                print(f"{n}: {p}")
    if bad:
        return 1
    print(f"{count} resources valid")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
