#!/usr/bin/env bash
# Runs the whole suite: Criterion unit tests, then the integration tests
# against a private single-node Kafka on a free loopback port, removed
# afterwards (so two runs never collide). Exit status non-zero on any failure.
#   tests/run-tests.sh [BUILD_DIR [all|unit|integration]]
set -uo pipefail
O=${1:-build}
what=${2:-all}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

status=0
if [ "$what" != integration ]; then
    echo "== unit tests"
    "$O/tests/unit-tests" --jobs 2 || status=1
    echo "== Prometheus config, alert rules and dashboard (promtool)"
    deploy/prometheus/check.sh || status=1
fi
if [ "$what" = all ]; then
    echo "== quick benchmarks (figures only, no assertions)"
    for b in "$O"/bench-*; do
        [ -x "$b" ] || continue
        echo "-- $b"; "$b" --quick || status=1
    done
    echo "-- bench/macro/run.sh --quick"; bench/macro/run.sh --build "$O" --quick || status=1
fi
[ "$what" = unit ] && exit $status

echo "== integration tests (real Kafka)"
tmp=$(mktemp -d /tmp/govex-test.XXXXXX)
cleanup() {
    deploy/local/kafka.sh stop --dir "$tmp/kafka" >/dev/null 2>&1 || true
    # Kafkas a test started for itself (fault and TLS tests), in case it
    # died before its own clean-up (a timeout, a crash).
    for d in "$tmp"/*/; do
        [ -f "$d/cluster" ] || [ -f "$d/server.properties" ] || continue
        deploy/local/kafka.sh stop --dir "$d" >/dev/null 2>&1 || true
    done
    if [ "$status" -ne 0 ]; then
        for f in "$tmp"/*.log; do
            [ -f "$f" ] || continue
            echo "== last lines of $f"; tail -n 30 "$f"
        done
        echo "== last lines of the Kafka log"; tail -n 30 "$tmp/kafka/logs/server.log" 2>/dev/null
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
port=$(deploy/local/kafka.sh free-port)
if ! bs=$(deploy/local/kafka.sh start --port "$port" --dir "$tmp/kafka"); then
    echo "could not start the local Kafka" >&2
    exit 1
fi
GOVEX_TEST_BROKERS=$bs GOVEX_TEST_BIN="$top/$O" GOVEX_TEST_TMP="$tmp" \
    "$O/tests/integration-tests" --jobs 1 || status=1
exit $status
