#!/usr/bin/env bash
# Import and export benchmark (issue 12). Makes a ledger of N enterprises (default 100,000) with
# `safegrade demo-data`, exports it through the API as CSV and as Excel (timed, with the server's
# RSS), then imports each file into an empty database through `POST /api/v1/imports` and reads
# the report's timings (reading the file, checking the rows, writing). The same rows are loaded
# with the raw tool for comparison: `sqlite3 .import` (SQLite) or `\copy` (PostgreSQL) into a
# table of text columns without constraints.
# Usage: docs/bench/imports.sh sqlite|postgres [rows]   (needs sqlite3 or psql, curl, python3)
set -euo pipefail
cd "$(dirname "$0")/../.."
backend="${1:-sqlite}"
rows="${2:-100000}"
work="$(mktemp -d)"
port=18097
cargo build --release -q -p safegrade
bin=target/release/safegrade
pid=""
trap 'if [ -n "$pid" ]; then kill $pid 2>/dev/null || true; fi' EXIT
serve() { # url
  "$bin" serve --bind "127.0.0.1:$port" --database-url "$1" > "$work/serve.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && return; sleep 0.2; done
  echo "server did not start" >&2; exit 1
}
stop() { kill $pid; wait $pid 2>/dev/null || true; pid=""; }
now() { date +%s.%N; }
since() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f} s')" "$1" "$(now)"; }

echo "== source: $rows demo enterprises (SQLite)"
src="sqlite://$work/source.db"
"$bin" demo-data --count "$rows" --database-url "$src" 2>/dev/null | tail -1
token=$("$bin" principal create --name "压测" --role city_admin --database-url "$src" 2>/dev/null | grep '^sg_')
serve "$src"
for ext in csv xlsx; do
  t=$(now)
  curl -sf -H "Authorization: Bearer $token" -o "$work/ledger.$ext" "http://127.0.0.1:$port/api/v1/enterprises/export.$ext"
  echo "export.$ext: $(since "$t"), $(stat -c %s "$work/ledger.$ext") bytes, server RSS $(ps -o rss= -p $pid) KiB"
done
stop

echo "== raw load of the same rows ($backend)"
cols=$(head -1 "$work/ledger.csv" | sed 's/^\xEF\xBB\xBF//' | tr ',' '\n' | awk '{printf "%sc%d TEXT", (NR>1?", ":""), NR}')
case "$backend" in
  sqlite)
    t=$(now)
    sqlite3 "$work/raw.db" "CREATE TABLE raw ($cols);" ".import --csv --skip 1 $work/ledger.csv raw"
    echo "sqlite3 .import: $(since "$t") ($(sqlite3 "$work/raw.db" 'SELECT COUNT(*) FROM raw') rows)"
    target() { echo "sqlite://$work/target-$1.db"; } ;;
  postgres)
    for db in sg_bench_raw sg_bench_import_csv sg_bench_import_xlsx; do
      psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null
    done
    psql -h 127.0.0.1 -U postgres -d sg_bench_raw -qc "CREATE TABLE raw ($cols)"
    t=$(now)
    psql -h 127.0.0.1 -U postgres -d sg_bench_raw -qc "\\copy raw FROM '$work/ledger.csv' CSV HEADER"
    echo "psql \\copy: $(since "$t") ($(psql -h 127.0.0.1 -U postgres -d sg_bench_raw -tAc 'SELECT COUNT(*) FROM raw') rows)"
    target() { echo "postgres://postgres@127.0.0.1:5432/sg_bench_import_$1"; } ;;
  *) echo "usage: $0 sqlite|postgres [rows]" >&2; exit 2 ;;
esac

for ext in csv xlsx; do
  url=$(target "$ext")
  "$bin" migrate --database-url "$url" >/dev/null 2>&1
  token=$("$bin" principal create --name "压测" --role city_admin --database-url "$url" 2>/dev/null | grep '^sg_')
  serve "$url"
  t=$(now)
  location=$(curl -sf -D - -o /dev/null -H "Authorization: Bearer $token" -H "Content-Type: application/octet-stream" \
    --data-binary "@$work/ledger.$ext" "http://127.0.0.1:$port/api/v1/imports?file_name=ledger.$ext" | tr -d '\r' | awk 'tolower($1)=="location:"{print $2}')
  while true; do
    body=$(curl -sf -H "Authorization: Bearer $token" "http://127.0.0.1:$port$location")
    state=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["state"])' "$body")
    [ "$state" = succeeded ] || [ "$state" = failed ] && break
    sleep 0.5
  done
  echo "import $ext: $(since "$t") in all; server RSS $(ps -o rss= -p $pid) KiB"
  python3 - "$body" <<'PY'
import json, sys
r = json.loads(sys.argv[1])["report"]
t = r["timings"]
print("  {}: created {}, problems {}; read {} ms, check {} ms, write {} ms".format(
    r["outcome"], r["created"], len(r["problems"]), t["read_ms"], t["check_ms"], t["write_ms"]))
PY
  stop
done
