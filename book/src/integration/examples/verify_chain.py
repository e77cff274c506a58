#!/usr/bin/env python3
"""Checks an export of SafeGrade's audit chain (审计链导出) offline.

    python3 verify_chain.py 审计链-510703-2026-12-05.ndjson [CHAIN:SEQ:HASH ...]

The export is GET /api/v1/events/export, one event a line. Every event's hash must be
the SHA-256 of its canonical form, and its prev_hash the hash of the previous event of its
chain (one chain per supervision area; "city" for events without an area). An export that
starts mid-chain (a date range) cannot check its first event's link: compare it, or any
later event, with a head you copied earlier (an audit.chain_head event, or the output of
`safegrade audit heads`), given as CHAIN:SEQ:HASH.

Exit status 0 when everything checks out, 1 naming the first break. Python 3.8+, standard
library only.
"""
import hashlib
import json
import sys

FORMAT = "safegrade-event-v1"
GENESIS = "0" * 64
# The canonical form: the format tag, then these fields in this order.
FIELDS = [
    "seq", "prev_hash", "type", "occurred_at", "actor_principal_id", "actor_role",
    "request_id", "resource_type", "resource_id", "area_code", "enterprise_id", "data",
    "reason",
]


def canonical(event):
    """The bytes the hash covers: a compact JSON array, UTF-8, non-ASCII as it is."""
    values = [FORMAT] + [event[f] for f in FIELDS]
    return json.dumps(values, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def verify(lines, known_heads):
    last = {}  # chain -> hash of its last event read
    count = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        event = json.loads(line)
        chain = event["area_code"] or "city"
        seq = event["seq"]
        if chain in last and event["prev_hash"] != last[chain]:
            return f"line {number}, event {seq} ({chain}): prev_hash does not match the previous event of its chain"
        if chain not in last and event["prev_hash"] != GENESIS:
            print(f"{chain}: starts at event {seq}, linked to an earlier event hashed {event['prev_hash']}")
        if hashlib.sha256(canonical(event)).hexdigest() != event["hash"]:
            return f"line {number}, event {seq} ({chain}): content does not match its hash (changed after it was recorded)"
        expected = known_heads.get((chain, seq))
        if expected is not None and expected != event["hash"]:
            return f"event {seq} ({chain}): its hash differs from the head copied earlier"
        last[chain] = event["hash"]
        count += 1
    print(f"{count} events in {len(last)} chains: every hash and link checks out")
    for chain, head in sorted(last.items()):
        print(f"{chain}\t{head}")
    return None


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    known = {}
    for spec in argv[2:]:
        chain, seq, digest = spec.split(":")
        known[(chain, int(seq))] = digest
    with open(argv[1], encoding="utf-8") as export:
        problem = verify(export, known)
    if problem:
        print(f"broken: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
