#!/usr/bin/env bash
# Check the monitoring files with Prometheus' own tooling (promtool, from
# Debian's prometheus package, which `make deps` installs):
#
#   1. promtool check config  deploy/prometheus/prometheus.yml
#   2. promtool check rules   deploy/prometheus/govex-alerts.yml
#   3. promtool test rules    deploy/prometheus/govex-alerts.test.yml
#      (each alert fires when it should and stays quiet when it should not)
#   4. deploy/grafana/govex-dashboard.json: valid JSON; every panel and query
#      uses the ${datasource} variable; every PromQL expression parses
#      (promtool check rules over a rule file made of them, with Grafana's
#      variables substituted)
#   5. every govex_* metric the rules and the dashboard name is one the
#      programs export (the list below; keep it in step with the code)
#
# Exit status 0 when all pass, 1 when a check fails, 2 when promtool or
# python3 is missing.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
dashboard=$top/deploy/grafana/govex-dashboard.json

# The metric families the broker and the adapter export (issue 9).
METRICS="
govex_records_in_total
govex_records_released_total
govex_records_withheld_total
govex_records_denied_total
govex_ingest_refused_total
govex_adapter_rows_total
govex_adapter_refused_total
govex_seal_failures_total
govex_broker_lag_records
govex_consumer_lag_records
govex_txn_commits_total
govex_txn_aborts_total
govex_release_latency_seconds
govex_txn_commit_seconds
govex_adapter_txn_commit_seconds
govex_provider_last_record_timestamp_seconds
govex_item_update_period_seconds
govex_build_info
"

for tool in promtool python3; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "check: $tool not found (make deps installs it)" >&2
        exit 2
    fi
done

tmp=$(mktemp -d /tmp/govex-promcheck.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
status=0

run() {
    local what=$1
    shift
    if "$@" >"$tmp/out" 2>&1; then
        echo "ok   $what"
    else
        echo "FAIL $what"
        sed 's/^/     /' "$tmp/out"
        status=1
    fi
}

cd "$here"
run "promtool check config prometheus.yml" promtool check config prometheus.yml
run "promtool check rules govex-alerts.yml" promtool check rules govex-alerts.yml
run "promtool test rules govex-alerts.test.yml" promtool test rules govex-alerts.test.yml

# The dashboard: JSON, datasource, expressions -> a rule file for promtool.
if python3 - "$dashboard" "$tmp/dashboard-rules.yml" >"$tmp/out" 2>&1 <<'EOF'; then
import json, sys

path, out = sys.argv[1], sys.argv[2]
with open(path, encoding="utf-8") as f:
    dash = json.load(f)
problems = []
want_ds = {"type": "prometheus", "uid": "${datasource}"}
variables = {v["name"]: v for v in dash.get("templating", {}).get("list", [])}
if variables.get("datasource", {}).get("type") != "datasource":
    problems.append("no datasource variable")
exprs = []

def walk(panels):
    for p in panels:
        if p.get("type") == "row":
            walk(p.get("panels", []))
            continue
        if p.get("datasource") != want_ds:
            problems.append("panel %r: datasource is not ${datasource}" % p.get("title"))
        if not p.get("targets"):
            problems.append("panel %r: no queries" % p.get("title"))
        for t in p.get("targets", []):
            if t.get("datasource") != want_ds:
                problems.append("panel %r query %s: datasource is not ${datasource}"
                                % (p.get("title"), t.get("refId")))
            exprs.append((p.get("title"), t["expr"]))

walk(dash.get("panels", []))
for name, v in variables.items():
    if v.get("type") == "query":
        if v.get("datasource") != want_ds:
            problems.append("variable %s: datasource is not ${datasource}" % name)
        q = v["query"]["query"] if isinstance(v["query"], dict) else v["query"]
        # label_values(SELECTOR, label): check the selector.
        if q.startswith("label_values(") and q.endswith(")"):
            exprs.append(("variable " + name, q[len("label_values("):q.rindex(",")]))

subst = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h",
         "$instance": ".*", "$consumer": ".*"}
with open(out, "w", encoding="utf-8") as f:
    f.write("groups:\n  - name: dashboard\n    rules:\n")
    for i, (title, e) in enumerate(exprs):
        for k, v in subst.items():
            e = e.replace(k, v)
        if "$" in e:
            problems.append("panel %r: unknown variable in %s" % (title, e))
        f.write("      - record: govex_dashboard_expr_%d\n" % i)
        f.write("        expr: %s\n" % json.dumps(e))
for p in problems:
    print(p)
print("%d expressions" % len(exprs))
sys.exit(1 if problems else 0)
EOF
    echo "ok   dashboard JSON, datasource variable ($(tail -n1 "$tmp/out"))"
else
    echo "FAIL dashboard JSON, datasource variable"
    sed 's/^/     /' "$tmp/out"
    status=1
fi
if [[ -f $tmp/dashboard-rules.yml ]]; then
    run "promtool parses every dashboard expression" promtool check rules "$tmp/dashboard-rules.yml"
fi

# Metric names: every govex_* name used is exported (histogram series too).
unknown=""
for name in $(grep -ohE 'govex_[a-z0-9_]+' "$here/govex-alerts.yml" "$here/govex-alerts.test.yml" "$dashboard" | sort -u); do
    base=$name
    for suffix in _bucket _sum _count; do
        for hist in govex_release_latency_seconds govex_txn_commit_seconds \
                    govex_adapter_txn_commit_seconds; do
            [[ $base == $hist$suffix ]] && base=$hist
        done
    done
    case $base in
    govex_dashboard_expr_*) continue ;;
    esac
    grep -qx "$base" <<<"$METRICS" || unknown+=" $name"
done
if [[ -z $unknown ]]; then
    echo "ok   every govex metric named is exported"
else
    echo "FAIL metrics named but not exported:$unknown"
    status=1
fi

exit $status
