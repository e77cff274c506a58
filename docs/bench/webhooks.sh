#!/usr/bin/env bash
# Webhook benchmark (issue 12): one subscription to a local receiver (docs/bench/webhook_load.py).
#  1. throughput: N changes made while the subscription is paused, then resumed: how fast the
#     backlog is delivered (in order, one at a time, each signed and recorded);
#  2. lag: 200 changes a second for S seconds with the subscription on: arrival minus the
#     event's commit time, p50 and p99.
# Usage: docs/bench/webhooks.sh sqlite|postgres [backlog] [seconds]   (needs curl, python3)
set -euo pipefail
cd "$(dirname "$0")/../.."
backend="${1:-sqlite}"
backlog="${2:-5000}"
seconds="${3:-20}"
work="$(mktemp -d)"
port=18098
rport=18099
case "$backend" in
  sqlite) url="sqlite://$work/bench.db" ;;
  postgres)
    psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS sg_bench_webhooks WITH (FORCE)" -c "CREATE DATABASE sg_bench_webhooks" >/dev/null
    url="postgres://postgres@127.0.0.1:5432/sg_bench_webhooks" ;;
  *) echo "usage: $0 sqlite|postgres [backlog] [seconds]" >&2; exit 2 ;;
esac
cargo build --release -q -p safegrade
bin=target/release/safegrade
"$bin" demo-data --count 200 --database-url "$url" >/dev/null 2>&1
token=$("$bin" principal create --name "压测" --role city_admin --database-url "$url" 2>/dev/null | grep '^sg_')
"$bin" serve --bind "127.0.0.1:$port" --database-url "$url" > "$work/serve.log" 2>&1 &
pid=$!
python3 docs/bench/webhook_load.py receive "$rport" "$work/received.json" &
rpid=$!
trap 'kill $pid $rpid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.2; done
base="http://127.0.0.1:$port"
auth=(-H "Authorization: Bearer $token")
hook=$(curl -sf "${auth[@]}" -H 'Content-Type: application/json' \
  -d "{\"url\": \"http://127.0.0.1:$rport/\", \"event_types\": [\"enterprise.updated\"], \"enabled\": false}" \
  "$base/api/v1/webhooks" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
patch() { curl -sf "${auth[@]}" -X PATCH -H 'Content-Type: application/merge-patch+json' -d "$1" "$base/api/v1/webhooks/$hook" >/dev/null; }

echo "== throughput: $backlog changes while paused, then resumed"
python3 docs/bench/webhook_load.py load "$base" "$token" 1000 "$(python3 -c "print($backlog/1000)")"
sent=$(curl -sf "${auth[@]}" "$base/metrics" | awk '/^safegrade_webhook_lag_events/{print $2}')
t=$(date +%s.%N)
patch '{"enabled": true}'
while true; do
  got=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["received"])' "$work/received.json" 2>/dev/null || echo 0)
  behind=$(curl -sf "${auth[@]}" "$base/metrics" | awk '/^safegrade_webhook_lag_events/{print $2}')
  [ "$behind" = 0 ] && break
  sleep 0.2
done
python3 -c "import sys,time; n=int(sys.argv[1]); s=time.time()-float(sys.argv[2]); print(f'delivered {n} in {s:.1f} s: {n/s:.0f} events/s (seq distance at start {sys.argv[3]})')" "$got" "$t" "$sent"

echo "== lag at 200 changes/s for $seconds s"
before=$(python3 docs/bench/webhook_load.py count "$work/received.json")
python3 docs/bench/webhook_load.py load "$base" "$token" 200 "$seconds"
python3 docs/bench/webhook_load.py summary "$work/received.json" "$before"
echo "server RSS: $(ps -o rss= -p $pid) KiB"
