#!/usr/bin/env bash
# Runs the whole suite: Criterion unit tests, then the integration tests
# against a private single-node Kafka on a free loopback port, removed
# afterwards (so two runs never collide). Exit status non-zero on any failure.
#   tests/run-tests.sh [BUILD_DIR]
set -uo pipefail
O=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

status=0
echo "== unit tests"
"$O/tests/unit-tests" --jobs 2 || status=1

echo "== integration tests (real Kafka)"
tmp=$(mktemp -d /tmp/govex-test.XXXXXX)
cleanup() {
    deploy/local/kafka.sh stop --dir "$tmp/kafka" >/dev/null 2>&1 || true
    if [ "$status" -ne 0 ] && [ -n "${CI:-}" ]; then
        echo "== last lines of the Kafka log"; tail -n 40 "$tmp/kafka/logs/server.log" 2>/dev/null
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
