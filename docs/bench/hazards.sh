#!/usr/bin/env bash
# Hazard benchmark (issue 11): `safegrade demo-data --dual-prevention` gives N enterprises
# (default 100,000) ten hazards and two risks each (1,000,000 hazards and 200,000 risks)
# through the ordinary repository, so the events and the statistics counters are written as
# in use; then with wrk:
#   GET /api/v1/hazards?open=true&area_code=510703      (the open-hazard list of an area)
#   GET /api/v1/stats/hazards?period=<last quarter>     (the quarterly figures of the city)
#   GET /api/v1/stats/operation?area_code=510703        (a week's 运行效果 scores of an area)
# and the server's RSS after them. Usage: docs/bench/hazards.sh sqlite|postgres [enterprises]
# [seconds]   (needs wrk). Loading 100,000 enterprises takes about 13 minutes on SQLite and
# about 47 on PostgreSQL (see docs/BENCHMARKS.md for a faster way to fill PostgreSQL).
set -euo pipefail
cd "$(dirname "$0")/../.."
backend="${1:-sqlite}"
count="${2:-100000}"
seconds="${3:-8}"
port=18096
work="$(mktemp -d)"
case "$backend" in
  sqlite) url="sqlite://$work/bench.db" ;;
  postgres)
    psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS sg_bench_hazards WITH (FORCE)" -c "CREATE DATABASE sg_bench_hazards" >/dev/null 2>&1
    url="postgres://postgres@127.0.0.1:5432/sg_bench_hazards" ;;
  *) echo "usage: $0 sqlite|postgres [enterprises] [seconds]" >&2; exit 2 ;;
esac
cargo build --release -q -p safegrade
bin=target/release/safegrade
start=$(date +%s)
"$bin" demo-data --count "$count" --dual-prevention --database-url "$url" 2>/dev/null | grep -v '^$'
echo "loaded in $(( $(date +%s) - start )) s"
token=$("$bin" principal create --name "压测" --role city_admin --database-url "$url" 2>/dev/null | grep '^sg_')
quarter=$(python3 -c 'import datetime; d=datetime.date.today(); q=(d.month-1)//3; print(f"{d.year}-Q{q}" if q else f"{d.year-1}-Q4")')
"$bin" serve --bind "127.0.0.1:$port" --database-url "$url" > "$work/serve.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.2; done
for path in "/api/v1/hazards?open=true&area_code=510703" "/api/v1/stats/hazards?period=$quarter" "/api/v1/stats/operation?area_code=510703"; do
  echo "== GET $path"
  wrk -t1 -c1 -d"${seconds}s" --latency -H "Authorization: Bearer $token" "http://127.0.0.1:$port$path" | grep -E "Requests/sec|Non-2xx|  50%|  99%"
done
echo "server RSS: $(ps -o rss= -p $pid) KiB"
