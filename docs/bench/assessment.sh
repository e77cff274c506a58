#!/usr/bin/env bash
# Assessment benchmark (issue 10): imports a 200-item standard, starts an assessment of one
# enterprise, records all 200 results in one PATCH, then drives GET /assessments/{id} (the
# score computed on every read) with wrk.
# Usage: docs/bench/assessment.sh sqlite|postgres [seconds]   (needs: apt-get install wrk)
set -euo pipefail
cd "$(dirname "$0")/../.."
backend="${1:-sqlite}"
seconds="${2:-8}"
port=18098
work="$(mktemp -d)"
case "$backend" in
  sqlite) url="sqlite://$work/bench.db" ;;
  postgres)
    psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS sg_bench_assess WITH (FORCE)" -c "CREATE DATABASE sg_bench_assess" >/dev/null
    url="postgres://postgres@127.0.0.1:5432/sg_bench_assess" ;;
  *) echo "usage: $0 sqlite|postgres [seconds]" >&2; exit 2 ;;
esac
cargo build --release -q -p safegrade
bin=target/release/safegrade
python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
elements = []
for e in range(1, 11):
    subs = [{"code": f"{e}.{s}", "title": f"二级要素 {e}.{s}",
             "items": [{"code": f"{e}.{s}.{i}", "text": f"检查内容 {e}.{s}.{i}", "points": 5,
                        "method": "每处不符合扣 1 分", "extra_deduction_max": 5} for i in range(1, 11)]}
            for s in range(1, 3)]
    elements.append({"code": str(e), "title": f"一级要素 {e}", "points": 100, "sub_elements": subs})
json.dump({"code": "压测标准", "version": "200项", "title": "200 个评分项的压测标准", "full_points": 1000,
           "thresholds": {"grade_1": 90, "grade_2": 75, "grade_3": 60}, "elements": elements},
          open(f"{work}/standard.json", "w"), ensure_ascii=False)
items = {f"{e}.{s}.{i}": {"deducted": (e + i) % 4, "evidence": "检查记录"}
         for e in range(1, 11) for s in range(1, 3) for i in range(1, 11)}
json.dump({"items": items, "extra": {"3": 5}}, open(f"{work}/results.json", "w"), ensure_ascii=False)
PY
"$bin" demo-data --count 1000 --database-url "$url" >/dev/null 2>&1
std=$("$bin" standard import "$work/standard.json" --database-url "$url" 2>/dev/null | awk '{print $NF}')
token=$("$bin" principal create --name "压测" --role city_admin --database-url "$url" 2>/dev/null | grep '^sg_')
"$bin" serve --bind "127.0.0.1:$port" --database-url "$url" > "$work/serve.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.2; done
auth=(-H "Authorization: Bearer $token")
ent=$(curl -s "${auth[@]}" "http://127.0.0.1:$port/api/v1/enterprises?limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])')
id=$(curl -s "${auth[@]}" -H "Content-Type: application/json" -d "{\"enterprise_id\":\"$ent\",\"standard_id\":\"$std\",\"kind\":\"regulator\"}" "http://127.0.0.1:$port/api/v1/assessments" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
echo "== PATCH of all 200 results: $(curl -s -o /dev/null -w '%{time_total}' -X PATCH "${auth[@]}" -H 'Content-Type: application/merge-patch+json' --data @"$work/results.json" "http://127.0.0.1:$port/api/v1/assessments/$id") s"
echo "== GET /api/v1/assessments/{id} (200 items scored per read), c=8"
wrk -t2 -c8 -d"${seconds}s" --latency "${auth[@]}" "http://127.0.0.1:$port/api/v1/assessments/$id" | grep -E "Requests/sec|Non-2xx|  50%|  99%"
