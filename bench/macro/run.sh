#!/usr/bin/env bash
# bench/macro/run.sh - how close govex comes to Kafka's own speed (issue 10).
#
#   bench/macro/run.sh [--build DIR] [--quick] [--json FILE] [--only LIST]
#                      [--perf FILE] [--keep]
#
# On a private single-node Kafka (deploy/local/kafka.sh, a free loopback
# port, a temporary directory, removed afterwards) it measures:
#   ingest   N generated population rows (govexctl sample) through
#            govex-adapter vs `kcat -P -l` of the same lines;
#   release  those N sealed ingest records (6 partitions) drained by
#            govex-broker (three consumer agencies: a full grant, a
#            conditional grant of half the fields, none) vs gxbench copy, a
#            plain librdkafka consume-and-produce copy of every record to as
#            many topics as govex writes per record (two deliveries and the
#            decision: 3); plus the broker's peak RSS;
#   replay   decisions verified per second by `govexctl replay`;
#   grants   the broker's RSS with G live grants loaded;
#   latency  collected_at -> visible to a read_committed consumer, rows
#            inserted into a PostgreSQL table at a steady 5,000/s that a
#            govex-adapter follows.
# It prints a table and, with --json, writes every figure to FILE. Targets
# are printed beside the figures, never asserted: the exit status is
# non-zero only when the harness itself failed.
#
# --quick: small sizes (CI; under two minutes). --only: a comma list of
# ingest,release,replay,grants,latency (release and replay load the
# ingest topic first, so they run the ingest figures too). --perf FILE:
# record the broker during release with perf (call graphs) into FILE, and
# the adapter during ingest into FILE.adapter.
# --keep: leave the working directory (logs) in place.
# Environment: BENCH_ROWS, BENCH_GRANTS_ITEMS, BENCH_GRANTS_CONSUMERS,
# BENCH_LAT_SECONDS, BENCH_LAT_RATE, BENCH_LAT_COMMIT (the latency adapter's
# adapter.commit.interval, default 100ms), BENCH_DIR (parent of the working
# directory, default /tmp), BENCH_BROKER_OPTS (space-separated key=value
# settings for every govex-broker, e.g. "broker.commit.interval=1s"),
# BENCH_ADAPTER_OPTS (the same for every govex-adapter),
# BENCH_SEAL_SUITE (sm2-sm3 or ed25519-sha256), BENCH_PERF_ARGS (perf record
# options for --perf; default -F 499 --call-graph dwarf,16384).
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
caller=$PWD
cd "$top"
O=build quick=0 json_out="" only="ingest,release,replay,grants,latency" perf_out="" keep=0
while (($#)); do
    case $1 in
        --build) O=$2; shift 2 ;;
        --quick) quick=1; shift ;;
        --json) json_out=$2; shift 2 ;;
        --only) only=$2; shift 2 ;;
        --perf) perf_out=$2; shift 2 ;;
        --keep) keep=1; shift ;;
        *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
# Seconds a drain or a copy may take; a stalled broker must not hold the
# test suite's quick form for an hour.
DRAIN_T=3600
((quick)) && DRAIN_T=300
[[ $json_out && $json_out != /* ]] && json_out=$caller/$json_out
[[ $perf_out && $perf_out != /* ]] && perf_out=$caller/$perf_out
[[ $O == /* ]] && B=$O || B=$top/$O
for p in govexctl govex-broker govex-adapter gxbench; do
    [[ -x $B/$p ]] || { echo "run.sh: $B/$p missing (make all $O/gxbench)" >&2; exit 3; }
done
want() { [[ ,$only, == *,$1,* ]]; }

if ((quick)); then
    ROWS=${BENCH_ROWS:-20000} GI=${BENCH_GRANTS_ITEMS:-100} GC=${BENCH_GRANTS_CONSUMERS:-20}
    LAT_S=${BENCH_LAT_SECONDS:-8} LAT_DRAIN=5
else
    ROWS=${BENCH_ROWS:-1000000} GI=${BENCH_GRANTS_ITEMS:-1000} GC=${BENCH_GRANTS_CONSUMERS:-100}
    LAT_S=${BENCH_LAT_SECONDS:-60} LAT_DRAIN=30
fi
LAT_RATE=${BENCH_LAT_RATE:-5000}
LAT_COMMIT=${BENCH_LAT_COMMIT:-100ms}
PERF_ARGS=${BENCH_PERF_ARGS:--F 499 --call-graph dwarf,16384}
broker_opts=()
for kv in ${BENCH_BROKER_OPTS:-}; do broker_opts+=(-o "$kv"); done
adapter_opts=()
for kv in ${BENCH_ADAPTER_OPTS:-}; do adapter_opts+=(-o "$kv"); done

D=$(mktemp -d "${BENCH_DIR:-/tmp}/govex-bench.XXXXXX")
R=$D/results
mkdir -p "$R" "$D/bin"
# A copy of the programs: one consistent set for the whole run, even if
# the build directory is rebuilt meanwhile.
for p in govexctl govex-broker govex-adapter gxbench; do
    cp "$B/$p" "$D/bin/" || { echo "run.sh: cannot copy $B/$p" >&2; rm -rf "$D"; exit 3; }
done
B=$D/bin
pids=()
pg_up=0
cleanup() {
    for p in "${pids[@]}"; do
        pkill -TERM -P "$p" 2>/dev/null   # what a gxbench run wrapper started
        kill -TERM "$p" 2>/dev/null && wait "$p" 2>/dev/null
    done
    ((pg_up)) && runuser -u postgres -- "$PGBIN/pg_ctl" -D "$D/pg/data" -m immediate stop >/dev/null 2>&1
    deploy/local/kafka.sh stop --dir "$D/kafka" >/dev/null 2>&1
    if ((keep)); then echo "run.sh: kept $D" >&2; else rm -rf "$D"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() { echo "run.sh: $*" >&2; for f in "$D"/*.log; do [[ -f $f ]] && { echo "== tail $f" >&2; tail -n 15 "$f" >&2; }; done; exit 3; }
note() { printf '%s %s\n' "$(date +%T)" "$*" >&2; }

port=$(deploy/local/kafka.sh free-port)
BS=$(deploy/local/kafka.sh start --port "$port" --dir "$D/kafka") || fail "Kafka did not start"
note "Kafka on $BS; working directory $D"

# ---- keys: seals when the programs know them (issue 5), else without ----
# The keys come from `govexctl ca init` / `keys new --agency` once govexctl
# has them, and until then from gxbench keys (the same files, made with
# the same library calls).
sealed=0 seal_how="" seal_ctl=() seal_broker=() seal_adapter=()
SUITE=${BENCH_SEAL_SUITE:-sm2-sm3}
# (grep reads to the end: with pipefail, an early grep -q would make the
# program die of SIGPIPE and the test fail at random.)
if "$B/govex-adapter" --help 2>/dev/null | grep '^ *seal\.keys\.dir ' >/dev/null; then
    mkdir -p "$D/keys"
    seal_ctl=(-o "seal.suite=$SUITE" -o "seal.root=$D/keys/root.crt"
              -o "seal.keyring=$D/keys/keyring.jsonl")
    if "$B/govexctl" ca init --help >/dev/null 2>&1; then
        seal_how="govexctl ca init, keys new"
        "$B/govexctl" "${seal_ctl[@]}" ca init >"$D/ca.out" 2>"$D/ca.log" \
            || fail "govexctl ca init failed"
        "$B/govexctl" "${seal_ctl[@]}" keys new --agency SX-GA \
            >"$D/keys.out" 2>"$D/keys.log" || fail "govexctl keys new --agency SX-GA failed"
    else
        seal_how="gxbench keys (govexctl ca not there yet)"
        "$B/gxbench" keys "$D/keys" "$SUITE" SX-GA >"$D/keys.out" 2>"$D/keys.log" \
            || fail "gxbench keys failed"
    fi
    seal_adapter=("${seal_ctl[@]}" -o "seal.keys.dir=$D/keys")
    "$B/govex-broker" --help 2>/dev/null | grep '^ *seal\.root ' >/dev/null && seal_broker=("${seal_ctl[@]}")
    "$B/govexctl" --help 2>/dev/null | grep seal >/dev/null || seal_ctl=()
    sealed=1
fi
note "seals: $( ((sealed)) && echo "on, $SUITE, keys by $seal_how, broker verifies: $( ((${#seal_broker[@]})) && echo yes || echo "no (not wired yet)")" || echo "off (the adapter has no seal.* keys yet)")"

"$B/govexctl" secret new "$D/subject.secret" >/dev/null 2>&1 || fail "govexctl secret new failed"
"$B/govexctl" "${seal_ctl[@]}" key new "$D/checkpoint.key" >/dev/null 2>&1 || fail "govexctl key new failed"

ctl() { local p=$1; shift; "$B/govexctl" -b "$BS" -o "topic.prefix=$p" "${seal_ctl[@]}" "$@"; }

# A population item: citizen_id, address and marital_status conditional,
# the rest unconditional, so one grant can cover every field.
catalog_item() {
    cat <<EOF
{"item": "$1", "name": "人口基础信息", "library": "population",
 "provider": "SX-GA", "provider_name": "山西省公安厅", "update_period": "daily",
 "format": "avro", "fields": [
  {"name": "citizen_id", "share": "conditional", "legal_basis": "《中华人民共和国居民身份证法》第十九条"},
  {"name": "name", "share": "unconditional"}, {"name": "sex", "share": "unconditional"},
  {"name": "ethnicity", "share": "unconditional"}, {"name": "birth_date", "share": "unconditional"},
  {"name": "division_code", "share": "unconditional"},
  {"name": "address", "share": "conditional", "legal_basis": "《个人信息保护法》第十三条"},
  {"name": "marital_status", "share": "conditional", "legal_basis": "《婚姻登记条例》第二条"},
  {"name": "education", "share": "unconditional"}, {"name": "status", "share": "unconditional"},
  {"name": "updated_at", "share": "unconditional"}]}
EOF
}
ALL=citizen_id,name,sex,ethnicity,birth_date,division_code,address,marital_status,education,status,updated_at
HALF=citizen_id,name,sex,birth_date,address

# setup PREFIX ITEM PARTITIONS: topics, the item, and the three consumers:
# SX-MZ a full grant, SX-JY a conditional grant of half the fields, SX-RS
# none (its request was denied).
setup() {
    local p=$1 item=$2 parts=$3 rid
    ctl "$p" setup --partitions "$parts" >/dev/null 2>>"$D/$p.govexctl.log" || fail "setup $p"
    catalog_item "$item" >"$D/$p.catalog.json"
    ctl "$p" catalog import "$D/$p.catalog.json" >/dev/null 2>>"$D/$p.govexctl.log" || fail "catalog import $p"
    rid=$(ctl "$p" request --consumer SX-MZ --item "$item" --fields "$ALL" --purpose 基准测试 \
          --basis 基准 2>>"$D/$p.govexctl.log") || fail "request SX-MZ"
    ctl "$p" approve "$rid" --by SX-GA >/dev/null 2>>"$D/$p.govexctl.log" || fail "approve SX-MZ"
    rid=$(ctl "$p" request --consumer SX-JY --item "$item" --fields "$HALF" --purpose 基准测试 \
          --basis 基准 2>>"$D/$p.govexctl.log") || fail "request SX-JY"
    ctl "$p" approve "$rid" --by SX-GA >/dev/null 2>>"$D/$p.govexctl.log" || fail "approve SX-JY"
    rid=$(ctl "$p" request --consumer SX-RS --item "$item" --fields "$ALL" --purpose 基准测试 \
          --basis 基准 2>>"$D/$p.govexctl.log") || fail "request SX-RS"
    ctl "$p" deny "$rid" --by SX-GA --reason 基准 >/dev/null 2>>"$D/$p.govexctl.log" || fail "deny SX-RS"
}

# start_broker PREFIX: in the background; sets bpid.
start_broker() {
    local p=$1
    "$B/govex-broker" -b "$BS" -o "topic.prefix=$p" -o "broker.group=$p-broker" \
        -o "broker.transactional.id=$p-broker-1" \
        -o "broker.subject.secret.file=$D/subject.secret" \
        -o "broker.checkpoint.key.file=$D/checkpoint.key" -o http.port=0 \
        "${seal_broker[@]}" "${broker_opts[@]}" 2>"$D/$p.broker.log" &
    bpid=$!
    pids+=("$bpid")
}
stop_pid() { kill -TERM "$1" 2>/dev/null; wait "$1" 2>/dev/null; }
# wait_log FILE EVENT SECONDS
wait_log() {
    local t=$((SECONDS + $3))
    until grep -q "event=$2" "$1" 2>/dev/null; do
        ((SECONDS < t)) || return 1
        sleep 0.2
    done
}

# ---- ingest: govex-adapter vs kcat -P ----
if want ingest || want release || want replay; then
    note "generating $ROWS population rows"
    "$B/govexctl" sample population --rows "$ROWS" --seed 10 --out "$D/pop.csv" 2>/dev/null \
        || fail "govexctl sample"
    setup bench POP-BENCH 6
    note "ingest: govex-adapter"
    "$B/gxbench" run "$R/adapter.json" -- "$B/govex-adapter" -b "$BS" -o topic.prefix=bench \
        -o http.port=0 "${seal_adapter[@]}" "${adapter_opts[@]}" --provider SX-GA --item POP-BENCH \
        --csv "$D/pop.csv" >"$D/adapter.out" 2>"$D/bench.adapter.log" &
    runpid=$!
    pids+=("$runpid")
    if [[ $perf_out ]] && want ingest; then
        for _ in $(seq 100); do apid=$(pgrep -P "$runpid" -x govex-adapter) && break; sleep 0.05; done
        [[ $apid ]] && { perf record $PERF_ARGS -p "$apid" -o "$perf_out.adapter" 2>"$D/perf.adapter.log" & aperf=$!; }
    fi
    wait "$runpid" || fail "govex-adapter failed"
    [[ ${aperf:-} ]] && wait "$aperf"
    "$B/gxbench" topic -b "$BS" -t bench.kcat -p 6 >/dev/null || fail "topic bench.kcat"
    note "ingest: kcat -P"
    "$B/gxbench" run "$R/kcat.json" -- kcat -P -b "$BS" -t bench.kcat -l "$D/pop.csv" \
        2>"$D/kcat.log" || fail "kcat -P failed"
fi

# ---- release: govex-broker vs the plain copy ----
if want release; then
    note "release: govex-broker draining $ROWS records"
    start_broker bench
    wait_log "$D/bench.broker.log" broker_started 120 || fail "the broker did not start"
    if [[ $perf_out ]]; then
        perf record $PERF_ARGS -p "$bpid" -o "$perf_out" 2>"$D/perf.log" &
        perfpid=$!
    fi
    "$B/gxbench" drain -b "$BS" -t bench.ingest.population -g bench-broker -n "$ROWS" \
        --pid "$bpid" -T "$DRAIN_T" >"$R/release.json" || fail "drain failed"
    [[ $perf_out ]] && { kill -INT "$perfpid"; wait "$perfpid"; }
    stop_pid "$bpid"
    note "release: baseline copy"
    for k in 0 1 2; do
        "$B/gxbench" topic -b "$BS" -t "bench.copy.$k" -p 3 >/dev/null || fail "topic bench.copy.$k"
    done
    "$B/gxbench" copy -b "$BS" -t bench.ingest.population -n "$ROWS" -k 3 -o bench.copy \
        -g bench-copy -T "$DRAIN_T" >"$R/copy.json" || fail "baseline copy failed"
fi

# ---- replay ----
if want replay && want release; then
    note "replay: govexctl replay"
    "$B/gxbench" run "$R/replay-run.json" -- "$B/govexctl" -b "$BS" -o topic.prefix=bench \
        replay --json --pubkey "$D/checkpoint.key.pub" >"$R/replay.json" 2>"$D/replay.log"
    rrc=$?
    [[ -s $R/replay.json ]] || fail "govexctl replay printed nothing"
    # A finding is a broken decision chain: in the quick form the test
    # suite runs, that is a failure (correctness, not speed).
    ((quick == 0 || rrc == 0)) || fail "govexctl replay found mismatches (exit $rrc)"
fi

# ---- grants: the broker's memory with G live grants ----
if want grants; then
    note "grants: $((GI * GC)) live grants"
    ctl gm setup --partitions 1 >/dev/null 2>>"$D/gm.govexctl.log" || fail "setup gm"
    python3 - "$GI" >"$D/gm.catalog.json" <<'EOF' || fail "grants catalogue"
import json, sys
n = int(sys.argv[1])
f = [{"name": x, "share": "unconditional"} for x in
     "citizen_id name sex ethnicity birth_date division_code address marital_status education status updated_at".split()]
json.dump([{"item": "GM%05d" % i, "name": "人口基础信息", "library": "population",
            "provider": "SX-GA", "provider_name": "山西省公安厅", "update_period": "daily",
            "format": "avro", "fields": f} for i in range(n)], sys.stdout, ensure_ascii=False)
EOF
    ctl gm catalog import "$D/gm.catalog.json" >/dev/null 2>>"$D/gm.govexctl.log" || fail "catalog import gm"
    "$B/gxbench" grants -b "$BS" --prefix gm --items "$GI" --consumers "$GC" --item-prefix GM \
        >"$R/grants-load.json" || fail "loading grants"
    start_broker gm
    wait_log "$D/gm.broker.log" broker_started 300 || fail "the gm broker did not start"
    wait_log "$D/gm.broker.log" state_loaded 300 || fail "the gm broker loaded no state"
    python3 - "$bpid" "$D/gm.broker.log" >"$R/grants.json" <<'EOF' || fail "grants figures"
import json, re, sys
st = dict(l.split(":", 1) for l in open("/proc/%s/status" % sys.argv[1]) if ":" in l)
kb = lambda k: int(st[k].split()[0])
m = re.search(r"event=state_loaded .*grants=(\d+)", open(sys.argv[2]).read())
print(json.dumps({"grants_loaded": int(m.group(1)) if m else None,
                  "rss_kb": kb("VmRSS"), "peak_rss_kb": kb("VmHWM")}))
EOF
    stop_pid "$bpid"
fi

# ---- latency: steady rows through a PostgreSQL-following adapter ----
if want latency; then
    PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | tail -n 1)
    if [[ -z $PGBIN ]] || ! id postgres >/dev/null 2>&1; then
        note "latency: skipped (no PostgreSQL; make deps installs it)"
        echo '{"skipped": "no PostgreSQL"}' >"$R/latency.json"
    else
        note "latency: ${LAT_RATE} rows/s for ${LAT_S}s"
        mkdir -p "$D/pg"
        chmod 711 "$D"    # postgres must reach $D/pg (mktemp made $D 0700)
        chown postgres: "$D/pg"
        runuser -u postgres -- "$PGBIN/initdb" -D "$D/pg/data" -A trust -U govex -E UTF8 \
            --locale=C.UTF-8 --no-sync >"$D/pg.log" 2>&1 || fail "initdb"
        runuser -u postgres -- "$PGBIN/pg_ctl" -D "$D/pg/data" -l "$D/pg/server.log" -w \
            -o "-k $D/pg -c listen_addresses= -c fsync=off -c synchronous_commit=off" \
            start >>"$D/pg.log" 2>&1 || fail "postgres did not start"
        pg_up=1
        PGC="host=$D/pg port=5432 user=govex dbname=postgres"
        cols=$(tr , '\n' <<<"$ALL" | sed 's/.*/& text/' | paste -sd, -)
        "$PGBIN/psql" -q -v ON_ERROR_STOP=1 "$PGC" >>"$D/pg.log" 2>&1 <<EOF || fail "create table"
CREATE SEQUENCE people_seq;
CREATE TABLE people ($cols, seq bigint NOT NULL DEFAULT nextval('people_seq'));
CREATE INDEX people_seq_idx ON people (seq);
EOF
        setup lat POP-LAT 3
        start_broker lat
        wait_log "$D/lat.broker.log" partitions_assigned 120 || fail "the lat broker got no partitions"
        lat_seal=()
        ((sealed)) && lat_seal=(-o seal.batch.interval="$LAT_COMMIT")
        "$B/govex-adapter" -b "$BS" -o topic.prefix=lat -o http.port=0 "${seal_adapter[@]}" \
            "${lat_seal[@]}" --provider SX-GA --item POP-LAT -o source.type=pg \
            -o "source.pg.conninfo=$PGC" -o source.pg.table=people \
            -o source.pg.cursor.column=seq -o source.pg.poll.interval=10ms \
            -o "adapter.commit.interval=$LAT_COMMIT" "${adapter_opts[@]}" >"$D/lat.adapter.out" \
            2>"$D/lat.adapter.log" &
        apid=$!
        pids+=("$apid")
        wait_log "$D/lat.adapter.log" adapter_started 120 || fail "the lat adapter did not start"
        "$B/gxbench" latency -b "$BS" --pg "$PGC" --table people --rate "$LAT_RATE" \
            --seconds "$LAT_S" --warmup 3 --drain "$LAT_DRAIN" --samples "$D/latency.samples" -t lat.deliver.SX-MZ.population \
            >"$R/latency.json" || fail "latency probe failed"
        stop_pid "$apid"
        stop_pid "$bpid"
    fi
fi

# ---- the table ----
python3 - "$R" "$json_out" "$sealed" "$quick" "$ROWS" "$LAT_COMMIT" <<'EOF'
import json, os, platform, sys, time
R, out, sealed, quick, rows, lat_commit = sys.argv[1:7]
def load(name):
    p = os.path.join(R, name + ".json")
    try:
        return json.load(open(p))
    except (OSError, ValueError):
        return None
j = {k: load(k) for k in ("adapter", "kcat", "release", "copy", "replay", "replay-run",
                          "grants", "grants-load", "latency")}
rows = int(rows)
res = {"when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "host": platform.node(),
       "cpus": os.cpu_count(), "quick": quick == "1", "sealed": sealed == "1", "rows": rows,
       "raw": j}
lines = []
def row(what, govex, base, ratio, target, note=""):
    lines.append((what, govex, base, ratio, target, note))
def f(x, unit=""):
    return "-" if x is None else ("{:,.0f}".format(x) + unit)
if j["adapter"] and j["kcat"]:
    a = rows / j["adapter"]["seconds"]; k = rows / j["kcat"]["seconds"]
    res["ingest"] = {"govex_rps": a, "kcat_rps": k, "ratio": a / k, "target": 0.5,
                     "adapter_peak_rss_kb": j["adapter"]["maxrss_kb"]}
    row("ingest (rec/s)", f(a), f(k), "%.2f" % (a / k), ">= 0.50",
        "adapter peak RSS %s MiB" % f(j["adapter"]["maxrss_kb"] / 1024))
if j["release"] and j["copy"]:
    g = j["release"]["rate"]; c = j["copy"]["rate"]
    res["release"] = {"govex_rps": g, "baseline_rps": c, "ratio": g / c, "target": 0.7,
                      "broker_peak_rss_kb": j["release"].get("peak_rss_kb"),
                      "broker_cpu_seconds": j["release"].get("cpu_seconds"),
                      "baseline_cpu_seconds": j["copy"].get("cpu_seconds"),
                      "outputs": j["copy"]["outputs"]}
    row("release (rec/s)", f(g), f(c), "%.2f" % (g / c), ">= 0.70",
        "baseline writes each record to %d topics" % j["copy"]["outputs"])
    rss = j["release"].get("peak_rss_kb")
    res["memory_release_peak_rss_mib"] = rss / 1024 if rss else None
    row("broker peak RSS, release", f(rss / 1024 if rss else None, " MiB"), "", "", "< 128 MiB")
if j["grants"]:
    res["memory_grants"] = j["grants"]
    row("broker RSS, %s live grants" % f(j["grants"]["grants_loaded"]),
        f(j["grants"]["rss_kb"] / 1024, " MiB"), "", "", "",
        "peak %s MiB" % f(j["grants"]["peak_rss_kb"] / 1024))
lat = j["latency"]
def ms(x):
    return "> %.0f s" % (lat["drain_seconds"]) if x is None else "%.0f" % x
if lat and "p50_ms" in lat:
    res["latency"] = lat
    lines.append(("latency at %s rec/s, p50/p99/max ms" % f(lat["rate"]),
                  "%s / %s / %s" % (ms(lat["p50_ms"]), ms(lat["p99_ms"]), ms(lat["max_ms"])),
                  "", "", "p99 < 250 ms",
                  "%s rows after warm-up, %s not visible within %.0f s of the last insert "
                  "(slowest seen %s ms); adapter.commit.interval=%s; p50/p99 to the "
                  "broker's decision %s / %s ms, from it to visible %s / %s ms" %
                  (f(lat["inserted"]), f(lat["unseen"]), lat["drain_seconds"],
                   f(lat.get("max_seen_ms")), lat_commit,
                   f(lat.get("to_decision_p50_ms")), f(lat.get("to_decision_p99_ms")),
                   f(lat.get("decision_to_visible_p50_ms")),
                   f(lat.get("decision_to_visible_p99_ms")))))
elif lat:
    res["latency"] = lat
    row("latency", "skipped", "", "", "p99 < 250 ms", lat.get("skipped", "no samples"))
rp, rr = j["replay"], j["replay-run"]
if rp and rr:
    d = rp.get("decisions") or 0
    res["replay"] = {"decisions": d, "seconds": rr["seconds"], "decisions_per_s": d / rr["seconds"],
                     "exit": rr["exit"], "findings": rp.get("findings")}
    res["replay"]["peak_rss_kb"] = rr["maxrss_kb"]
    row("replay (decisions/s)", f(d / rr["seconds"]), "", "", "",
        "%s decisions in %.1f s, exit %d, peak RSS %s MiB" %
        (f(d), rr["seconds"], rr["exit"], f(rr["maxrss_kb"] / 1024)))
hdr = ("figure", "govex", "Kafka baseline", "ratio", "target", "")
w = [max(len(str(l[i])) for l in lines + [hdr]) for i in range(6)]
print("govex benchmark%s: %s, seals %s, %s CPUs" % (
    " (QUICK)" if quick == "1" else "",
    "%s rows" % f(rows) if j["adapter"] else "no ingest run",
    "on" if sealed == "1" else "off", os.cpu_count()))
for l in [hdr] + lines:
    print("  ".join(str(x).ljust(w[i]) if i in (0, 5) else str(x).rjust(w[i])
                    for i, x in enumerate(l)).rstrip())
if out:
    with open(out, "w") as fp:
        json.dump(res, fp, indent=2, ensure_ascii=False)
    print("figures written to", out)
EOF
