#!/usr/bin/env bash
# Grading-application benchmark (issue 10): 10,000 applications spread over the areas of
# 10,000 synthetic enterprises (rows written directly for speed), in every open state with
# a few steps each, then GET /api/v1/gradings?overdue=true&area_code=510703 (the deadlines
# computed from the working-day calendar on every request) with wrk.
# Usage: docs/bench/gradings.sh sqlite|postgres [seconds]   (needs: apt-get install wrk; python3)
set -euo pipefail
cd "$(dirname "$0")/../.."
backend="${1:-sqlite}"
seconds="${2:-8}"
port=18097
work="$(mktemp -d)"
case "$backend" in
  sqlite) url="sqlite://$work/bench.db" ;;
  postgres)
    psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS sg_bench_gradings WITH (FORCE)" -c "CREATE DATABASE sg_bench_gradings" >/dev/null
    url="postgres://postgres@127.0.0.1:5432/sg_bench_gradings" ;;
  *) echo "usage: $0 sqlite|postgres [seconds]" >&2; exit 2 ;;
esac
cargo build --release -q -p safegrade
bin=target/release/safegrade
"$bin" demo-data --count 10000 --database-url "$url" >/dev/null 2>&1
token=$("$bin" principal create --name "压测" --role city_admin --database-url "$url" 2>/dev/null | grep '^sg_')
query() {
  case "$backend" in
    sqlite) python3 -c 'import sqlite3,sys; [print(r[0]) for r in sqlite3.connect(sys.argv[1]).execute(sys.argv[2])]' "$work/bench.db" "$1" ;;
    postgres) psql -h 127.0.0.1 -U postgres -d sg_bench_gradings -At -c "$1" ;;
  esac
}
query "SELECT id FROM standards WHERE item_count > 0 LIMIT 1" > "$work/standard"
query "SELECT id FROM enterprises" > "$work/enterprises"
# One submitted self-assessment and one application per enterprise, in every open state,
# with a few steps each, as SQL with named columns (the same text on both backends).
python3 - "$work" <<'PY'
import sys, uuid, random, datetime
work = sys.argv[1]
random.seed(7)
std = open(f"{work}/standard").read().split()[0]
ents = open(f"{work}/enterprises").read().split()
now = "2026-12-01 00:00:00"
states = ["applied", "accepted", "rectifying", "verifying", "publicity"]
out = ["BEGIN;"]
for i, ent in enumerate(ents):
    a, g = str(uuid.uuid4()), str(uuid.uuid4())
    since = (datetime.date(2026, 9, 1) + datetime.timedelta(days=random.randint(0, 80))).isoformat()
    out.append("INSERT INTO assessments (id, enterprise_id, standard_id, kind, state, results, version,"
               " created_at, updated_at, submitted_on) VALUES"
               f" ('{a}', '{ent}', '{std}', 'self', 'submitted', '{{\"items\":{{}},\"extra\":{{}}}}', 2,"
               f" '{now}', '{now}', '2026-06-01');")
    out.append("INSERT INTO gradings (id, enterprise_id, kind, grade, self_assessment_id, state, since,"
               " applied_on, corrected, false_commitment, version, created_at, updated_at) VALUES"
               f" ('{g}', '{ent}', 'first', 'grade_3', '{a}', '{states[i % len(states)]}', '{since}',"
               f" '2026-08-20', false, false, 3, '{now}', '{now}');")
    for seq, step in enumerate(["acceptance", "review"][: (i % 3)], start=1):
        out.append("INSERT INTO grading_steps (grading_id, seq, step, taken_on, created_at) VALUES"
                   f" ('{g}', {seq}, '{step}', '{since}', '{now}');")
out.append("COMMIT;")
open(f"{work}/rows.sql", "w").write("\n".join(out))
PY
case "$backend" in
  sqlite) python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.isolation_level=None; c.executescript(open(sys.argv[2]).read())' "$work/bench.db" "$work/rows.sql" ;;
  postgres) psql -h 127.0.0.1 -U postgres -d sg_bench_gradings -q -f "$work/rows.sql" >/dev/null ;;
esac
echo "gradings: $(query "SELECT COUNT(*) FROM gradings")"
"$bin" serve --bind "127.0.0.1:$port" --database-url "$url" > "$work/serve.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.2; done
path="/api/v1/gradings?overdue=true&area_code=510703"
echo "== GET $path: $(curl -s -H "Authorization: Bearer $token" "http://127.0.0.1:$port$path&limit=200" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"]), "items on the first page")')"
wrk -t1 -c1 -d"${seconds}s" --latency -H "Authorization: Bearer $token" "http://127.0.0.1:$port$path" | grep -E "Requests/sec|Non-2xx|  50%|  99%"
