#!/usr/bin/env bash
# Hazard benchmark (issue 11, first measurements): N hazards (default 1,000,000) over the
# enterprises of the demo data (10 per enterprise; a quarter of them open, a tenth major, some
# past their deadline), written directly with SQLite for speed; then with wrk:
#   GET /api/v1/hazards?open=true&area_code=510703      (the open-hazard list of an area)
#   GET /api/v1/stats/hazards?period=2025-Q3            (the quarterly figures of the city)
# Usage: docs/bench/hazards.sh [hazards] [seconds]   (SQLite; needs wrk and python3)
set -euo pipefail
cd "$(dirname "$0")/../.."
count="${1:-1000000}"
seconds="${2:-8}"
port=18096
work="$(mktemp -d)"
url="sqlite://$work/bench.db"
cargo build --release -q -p safegrade
bin=target/release/safegrade
"$bin" demo-data --count $((count / 10)) --database-url "$url" >/dev/null 2>&1
token=$("$bin" principal create --name "压测" --role city_admin --database-url "$url" 2>/dev/null | grep '^sg_')
python3 - "$work/bench.db" "$count" <<'PY'
import sqlite3, sys, uuid, random, datetime
db = sqlite3.connect(sys.argv[1])
count = int(sys.argv[2])
random.seed(11)
ents = [r[0] for r in db.execute("SELECT id FROM enterprises")]
now = "2025-10-01 00:00:00"
kinds = ["routine", "comprehensive", "seasonal"]
def rows():
    for i in range(count):
        found = datetime.date(2025, 1, 1) + datetime.timedelta(days=random.randint(0, 300))
        major = i % 10 == 0
        state = "rectifying" if i % 4 == 0 else "closed"
        deadline = found + datetime.timedelta(days=random.randint(5, 60))
        closed = None if state != "closed" else (found + datetime.timedelta(days=random.randint(1, 30))).isoformat()
        yield (str(uuid.uuid4()), ents[i % len(ents)], found.isoformat(), "安全员", kinds[i % 3], "equipment",
               "unsafe_condition", f"压测隐患 {i}", "major" if major else "general", state,
               deadline.isoformat(), 0, '{"extensions":[]}', 2, now, now, closed)
db.executemany(
    "INSERT INTO hazards (id, enterprise_id, found_on, found_by, source, hazard_type, management_class,"
    " description, grade, state, deadline, listed, progress, version, created_at, updated_at, closed_on)"
    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows())
db.commit()
print("hazards:", db.execute("SELECT COUNT(*) FROM hazards").fetchone()[0])
PY
"$bin" serve --bind "127.0.0.1:$port" --database-url "$url" > "$work/serve.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.2; done
for path in "/api/v1/hazards?open=true&area_code=510703" "/api/v1/stats/hazards?period=2025-Q3"; do
  echo "== GET $path"
  wrk -t1 -c1 -d"${seconds}s" --latency -H "Authorization: Bearer $token" "http://127.0.0.1:$port$path" | grep -E "Requests/sec|Non-2xx|  50%|  99%"
done
echo "server RSS: $(ps -o rss= -p $pid) KiB"
