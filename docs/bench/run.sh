#!/usr/bin/env bash
# Ledger benchmark (issues 2 and 3): loads 100,000 synthetic enterprises, starts the release
# server and drives it with wrk (32 connections, loopback) with a bearer token: list (limit 50,
# filtered by area) and create (which appends its event in the same transaction).
# Usage: docs/bench/run.sh sqlite|postgres [seconds]   (needs: apt-get install wrk)
# BENCH_ROLE=area_regulator runs as an area regulator of 510703 instead of a city admin.
set -euo pipefail
cd "$(dirname "$0")/../.."
backend="${1:-sqlite}"
seconds="${2:-20}"
port=18099
work="$(mktemp -d)"
case "$backend" in
  sqlite) url="sqlite://$work/bench.db" ;;
  postgres)
    psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS sg_bench WITH (FORCE)" -c "CREATE DATABASE sg_bench" >/dev/null
    url="postgres://postgres@127.0.0.1:5432/sg_bench" ;;
  *) echo "usage: $0 sqlite|postgres [seconds]" >&2; exit 2 ;;
esac
cargo build --release -q -p safegrade
bin=target/release/safegrade
echo "== loading 100,000 enterprises ($backend)"
/usr/bin/time -f "load: %e s" "$bin" demo-data --count 100000 --database-url "$url" 2>&1 | grep -v INFO
role="${BENCH_ROLE:-city_admin}"
area_args=()
[ "$role" = area_regulator ] && area_args=(--area 510703)
token=$("$bin" principal create --name "压测" --role "$role" "${area_args[@]}" --database-url "$url" 2>/dev/null | grep '^sg_')
"$bin" serve --bind "127.0.0.1:$port" --database-url "$url" > "$work/serve.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.2; done
echo "== list: GET /api/v1/enterprises?area_code=510703&limit=50"
wrk -t2 -c32 -d"${seconds}s" --latency -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/enterprises?area_code=510703&limit=50" | grep -E "Requests/sec|Non-2xx|Socket errors|  50%|  99%|Latency "
echo "== create: POST /api/v1/enterprises"
BENCH_TOKEN="$token" BENCH_SALT=$(printf '%03d' $((RANDOM % 1000))) wrk -t2 -c32 -d"${seconds}s" --latency -s docs/bench/post.lua "http://127.0.0.1:$port" | grep -E "Requests/sec|Non-2xx|Socket errors|  50%|  99%|Latency "
echo "== server peak RSS: $(grep VmHWM /proc/$pid/status)"
