#!/usr/bin/env bash
# Grading-application benchmark (issue 10): 10,000 applications spread over the areas of
# 10,000 synthetic enterprises (SQLite; rows written directly for speed), in every open
# state with a few steps each, then GET /api/v1/gradings?overdue=true&area_code=510703 (the
# deadlines computed from the working-day calendar on every request) with wrk.
# Usage: docs/bench/gradings.sh [seconds]   (needs: apt-get install wrk; python3)
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${1:-8}"
port=18097
work="$(mktemp -d)"
url="sqlite://$work/bench.db"
cargo build --release -q -p safegrade
bin=target/release/safegrade
"$bin" demo-data --count 10000 --database-url "$url" >/dev/null 2>&1
token=$("$bin" principal create --name "压测" --role city_admin --database-url "$url" 2>/dev/null | grep '^sg_')
python3 - "$work/bench.db" <<'PY'
import sqlite3, sys, uuid, random, datetime
db = sqlite3.connect(sys.argv[1])
random.seed(7)
std = db.execute("SELECT id FROM standards WHERE item_count > 0 LIMIT 1").fetchone()[0]
ents = [r[0] for r in db.execute("SELECT id FROM enterprises")]
now = "2026-12-01 00:00:00.000000"
states = ["applied", "accepted", "rectifying", "verifying", "publicity"]
for i, ent in enumerate(ents):
    a = str(uuid.uuid4())
    db.execute("INSERT INTO assessments VALUES (?,?,?,?,?,?,?,?,?,?,?)",
               (a, ent, std, "self", "submitted", None, '{"items":{},"extra":{}}', 2, now, now, "2026-06-01"))
    g = str(uuid.uuid4())
    since = datetime.date(2026, 9, 1) + datetime.timedelta(days=random.randint(0, 80))
    state = states[i % len(states)]
    db.execute("INSERT INTO gradings VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
               (g, ent, "first", "grade_3", a, state, since.isoformat(), "2026-08-20", 0, None, 0, None, 3, now, now))
    for seq, step in enumerate(["acceptance", "review"][: (i % 3)], start=1):
        db.execute("INSERT INTO grading_steps VALUES (?,?,?,?,?,?)", (g, seq, step, since.isoformat(), None, now))
db.commit()
print("gradings:", db.execute("SELECT COUNT(*) FROM gradings").fetchone()[0])
PY
"$bin" serve --bind "127.0.0.1:$port" --database-url "$url" > "$work/serve.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.2; done
path="/api/v1/gradings?overdue=true&area_code=510703"
echo "== GET $path: $(curl -s -H "Authorization: Bearer $token" "http://127.0.0.1:$port$path&limit=200" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"]), "items on the first page")')"
wrk -t1 -c1 -d"${seconds}s" --latency -H "Authorization: Bearer $token" "http://127.0.0.1:$port$path" | grep -E "Requests/sec|Non-2xx|  50%|  99%"
