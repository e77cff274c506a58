#!/usr/bin/env bash
# Grade benchmark (issue 4): 100,000 synthetic enterprises, about 70 % with a certificate
# (issued over the last five years: valid, expiring and expired ones), then
# GET /api/v1/alerts?area_code=510703 and GET /api/v1/stats/attainment with wrk
# (one connection at a time, loopback) as a city administrator. Target: p50 <= 50 ms on both
# backends.
# Usage: docs/bench/grades.sh sqlite|postgres [seconds]   (needs: apt-get install wrk)
set -euo pipefail
cd "$(dirname "$0")/../.."
backend="${1:-sqlite}"
seconds="${2:-10}"
port=18098
work="$(mktemp -d)"
case "$backend" in
  sqlite) url="sqlite://$work/bench.db" ;;
  postgres)
    psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS sg_bench_grades WITH (FORCE)" -c "CREATE DATABASE sg_bench_grades" >/dev/null
    url="postgres://postgres@127.0.0.1:5432/sg_bench_grades" ;;
  *) echo "usage: $0 sqlite|postgres [seconds]" >&2; exit 2 ;;
esac
cargo build --release -q -p safegrade
bin=target/release/safegrade
echo "== loading 100,000 enterprises with certificate histories ($backend)"
/usr/bin/time -f "load: %e s" "$bin" demo-data --count 100000 --grades --database-url "$url" 2>&1 | grep -v INFO
token=$("$bin" principal create --name "压测" --role city_admin --database-url "$url" 2>/dev/null | grep '^sg_')
"$bin" serve --bind "127.0.0.1:$port" --database-url "$url" > "$work/serve.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.2; done
for path in "/api/v1/alerts?area_code=510703" "/api/v1/alerts?area_code=510703&kind=grade_expiring" "/api/v1/stats/attainment" "/api/v1/stats/attainment?area_code=510703"; do
  echo "== GET $path"
  curl -sf -H "Authorization: Bearer $token" "http://127.0.0.1:$port$path" > "$work/answer.json"
  head -c 300 "$work/answer.json"; echo
  wrk -t1 -c1 -d"${seconds}s" --latency -H "Authorization: Bearer $token" "http://127.0.0.1:$port$path" | grep -E "Requests/sec|Non-2xx|  50%|  99%"
done
echo "== server peak RSS: $(grep VmHWM /proc/$pid/status)"
