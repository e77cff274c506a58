#!/usr/bin/env bash
# Hazard benchmark (issue 11, first measurements): N hazards (default 1,000,000) over the
# enterprises of the demo data (10 per enterprise; a quarter of them open, a tenth major, some
# past their deadline), written directly (one CSV file for both backends); then with wrk:
#   GET /api/v1/hazards?open=true&area_code=510703      (the open-hazard list of an area)
#   GET /api/v1/stats/hazards?period=2025-Q3            (the quarterly figures of the city)
# Usage: docs/bench/hazards.sh sqlite|postgres [hazards] [seconds]   (needs wrk and python3)
set -euo pipefail
cd "$(dirname "$0")/../.."
backend="${1:-sqlite}"
count="${2:-1000000}"
seconds="${3:-8}"
port=18096
work="$(mktemp -d)"
case "$backend" in
  sqlite) url="sqlite://$work/bench.db" ;;
  postgres)
    psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS sg_bench_hazards WITH (FORCE)" -c "CREATE DATABASE sg_bench_hazards" >/dev/null 2>&1
    url="postgres://postgres@127.0.0.1:5432/sg_bench_hazards" ;;
  *) echo "usage: $0 sqlite|postgres [hazards] [seconds]" >&2; exit 2 ;;
esac
cargo build --release -q -p safegrade
bin=target/release/safegrade
"$bin" demo-data --count $((count / 10)) --database-url "$url" >/dev/null 2>&1
token=$("$bin" principal create --name "压测" --role city_admin --database-url "$url" 2>/dev/null | grep '^sg_')
case "$backend" in
  sqlite) python3 -c 'import sqlite3,sys; [print(r[0]) for r in sqlite3.connect(sys.argv[1]).execute("SELECT id FROM enterprises")]' "$work/bench.db" > "$work/enterprises" ;;
  postgres) psql -h 127.0.0.1 -U postgres -d sg_bench_hazards -At -c "SELECT id FROM enterprises" > "$work/enterprises" ;;
esac
# The rows as CSV (the same file for both backends): a quarter open, a tenth major.
python3 - "$work" "$count" <<'PY'
import csv, sys, uuid, random, datetime
work, count = sys.argv[1], int(sys.argv[2])
random.seed(11)
ents = open(f"{work}/enterprises").read().split()
kinds = ["routine", "comprehensive", "seasonal"]
with open(f"{work}/hazards.csv", "w", newline="") as out:
    w = csv.writer(out)
    for i in range(count):
        found = datetime.date(2025, 1, 1) + datetime.timedelta(days=random.randint(0, 300))
        state = "rectifying" if i % 4 == 0 else "closed"
        deadline = found + datetime.timedelta(days=random.randint(5, 60))
        closed = "" if state != "closed" else (found + datetime.timedelta(days=random.randint(1, 30))).isoformat()
        w.writerow([str(uuid.uuid4()), ents[i % len(ents)], found.isoformat(), "安全员", kinds[i % 3],
                    "equipment", "unsafe_condition", f"压测隐患 {i}", "major" if i % 10 == 0 else "general",
                    state, deadline.isoformat(), "false", '{"extensions":[]}', 2,
                    "2025-10-01 00:00:00", "2025-10-01 00:00:00", closed])
PY
columns="id, enterprise_id, found_on, found_by, source, hazard_type, management_class, description, grade, state, deadline, listed, progress, version, created_at, updated_at, closed_on"
case "$backend" in
  sqlite) python3 - "$work" "$columns" <<'PY'
import csv, sqlite3, sys
work, columns = sys.argv[1], sys.argv[2]
db = sqlite3.connect(f"{work}/bench.db")
rows = ([*r[:11], 0, *r[12:16], r[16] or None] for r in csv.reader(open(f"{work}/hazards.csv")))
db.executemany(f"INSERT INTO hazards ({columns}) VALUES ({','.join('?' * 17)})", rows)
db.commit()
PY
  ;;
  postgres) psql -h 127.0.0.1 -U postgres -d sg_bench_hazards -qc "\copy hazards ($columns) FROM '$work/hazards.csv' WITH (FORMAT csv, NULL '')" -c "ANALYZE hazards" >/dev/null ;;
esac
"$bin" serve --bind "127.0.0.1:$port" --database-url "$url" > "$work/serve.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.2; done
for path in "/api/v1/hazards?open=true&area_code=510703" "/api/v1/stats/hazards?period=2025-Q3"; do
  echo "== GET $path"
  wrk -t1 -c1 -d"${seconds}s" --latency -H "Authorization: Bearer $token" "http://127.0.0.1:$port$path" | grep -E "Requests/sec|Non-2xx|  50%|  99%"
done
echo "server RSS: $(ps -o rss= -p $pid) KiB"
