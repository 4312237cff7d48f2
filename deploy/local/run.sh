#!/usr/bin/env bash
# `make run`: the exchange on a local Kafka with sample data.
#
# Starts a single-node Kafka (loopback, data under .gx-run/), creates the
# topics, publishes the sample catalogue, starts govex-broker, files a request
# from the civil affairs department (SX-MZ) for the unconditional population
# fields (granted at once), runs govex-adapter over the sample CSV as the
# public security department (SX-GA), which seals every batch with its key
# under the exchange's root (made on first run in .gx-run/keys), checks with
# `govexctl verify` that every released value proves to be SX-GA's, and shows
# the released records. Ctrl-C stops everything it started.
#   deploy/local/run.sh [BUILD_DIR]
set -euo pipefail
O=${1:-build}
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
run=$top/.gx-run
mkdir -p "$run"
PORT=${GOVEX_RUN_PORT:-19092}
PREFIX=govex

pids=()
cleanup() {
    trap - INT TERM EXIT
    echo
    echo "== stopping"
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    deploy/local/kafka.sh stop --dir "$run/kafka" || true
    echo "== stopped (logs and Kafka data kept in $run; rm -rf it for a fresh start)"
}
trap cleanup INT TERM EXIT

# mTLS (issue 8) unless GOVEX_RUN_TLS=0: the TLS CA and the certificates of
# the Kafka node and the exchange's admin (offline, first run only), Kafka
# with --ssl, every program with its own agency's certificate (-c FILE).
PKI=$run/pki
SSL=()
if [ "${GOVEX_RUN_TLS:-1}" != 0 ]; then
    if [ ! -f "$PKI/ca.crt" ]; then
        echo "== the exchange's TLS CA and the Kafka node's and admin's certificates ($PKI)"
        "$O/govexctl" agency ca-init --pki "$PKI"
        "$O/govexctl" agency add govex-kafka --role kafka --pki "$PKI" >/dev/null
        "$O/govexctl" agency add govex-admin --role admin --pki "$PKI" >/dev/null
    fi
    SSL=(--ssl "$PKI")
    source deploy/local/kafka-ssl.sh
    for a in govex-admin govex-broker SX-GA SX-MZ; do
        kafka_ssl_client_conf "$PKI" "$a" >"$run/$a.conf"
    done
fi
as() { [ ${#SSL[@]} = 0 ] || echo "-c $run/$1.conf"; } # (paths without spaces)

echo "== starting Kafka on 127.0.0.1:$PORT (data in $run/kafka${SSL:+, mutual TLS})"
BS=$(deploy/local/kafka.sh start --port "$PORT" --dir "$run/kafka" "${SSL[@]}")
K=$run/keys
SEAL=(-o "seal.root=$K/root.crt" -o "seal.keyring=$K/keyring.jsonl")
ctl() { "$O/govexctl" -b "$BS" $(as govex-admin) "${SEAL[@]}" "$@"; }

echo "== creating topics"
ctl setup
echo "== publishing the sample catalogue (schemas/catalog.sample.json)"
ctl catalog import schemas/catalog.sample.json
ctl catalog list

if [ ! -f "$K/root.crt" ]; then
    echo "== the exchange's root certificate and SX-GA's sealing key ($K)"
    ctl ca init --name "govex local root"
fi
[ -d "$K/SX-GA" ] || ctl keys new --agency SX-GA >/dev/null
[ -f "$run/subject.secret" ] || ctl secret new "$run/subject.secret"
[ -f "$run/exchange.key" ] || ctl key new "$run/exchange.key"
if [ ${#SSL[@]} != 0 ]; then
    echo "== agencies and their Kafka ACLs (govexctl agency add, acl sync)"
    for a in SX-GA:provider SX-MZ:consumer govex-broker:broker; do
        [ -f "$PKI/${a%%:*}.crt" ] || ctl agency add "${a%%:*}" --role "${a#*:}" --pki "$PKI"
    done
    ctl acl sync | tail -n 1
fi
echo "== starting govex-broker (log: $run/broker.log)"
"$O/govex-broker" -b "$BS" $(as govex-broker) -o broker.subject.secret.file="$run/subject.secret" \
    -o broker.checkpoint.key.file="$run/exchange.key" "${SEAL[@]}" \
    2>"$run/broker.log" &
pids+=($!)

echo "== SX-MZ (civil affairs) requests the unconditional population fields"
ctl request --consumer SX-MZ --item 140000-GA-RK-0001 \
    --fields name,sex,ethnicity,birth_date,division_code,education,status,updated_at \
    --purpose "最低生活保障资格核验 (minimum living allowance eligibility check)" \
    --basis "《社会救助暂行办法》第十一条"
ctl grants

echo "== SX-GA (public security) publishes deploy/sample/population.csv (log: $run/adapter.log)"
"$O/govex-adapter" -b "$BS" $(as SX-GA) --provider SX-GA --item 140000-GA-RK-0001 \
    "${SEAL[@]}" -o "seal.keys.dir=$K" \
    --csv deploy/sample/population.csv 2>"$run/adapter.log" &
pids+=($!)
wait "${pids[-1]}" || echo "govex-adapter failed: see $run/adapter.log"
sleep 2

echo "== SX-MZ checks the seals of what it received (govexctl verify)"
"$O/govexctl" -b "$BS" $(as SX-MZ) "${SEAL[@]}" verify --consumer SX-MZ || true

echo "== records released to SX-MZ (Ctrl-C to stop)"
"$O/govexctl" -b "$BS" $(as SX-MZ) consume --consumer SX-MZ --json --group "SX-MZ.run-$$" &
pids+=($!)
wait "${pids[-1]}" || true
