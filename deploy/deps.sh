#!/usr/bin/env bash
# govex: install what a fresh Debian 12 machine lacks (run by `make deps`).
#
#   1. Debian packages: only the missing ones are installed (apt-get update runs
#      only then), so with everything present this is a no-op.
#   2. The Kafka 3.9.1 jars, fetched by Maven from deploy/local/kafka-pom.xml into
#      $GOVEX_CACHE/kafka-3.9.1/lib (GOVEX_CACHE defaults to ~/.cache/govex,
#      outside the work tree). A marker file makes later runs skip Maven.
#
# Run as root (or with sudo available) when packages are missing.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
GOVEX_CACHE=${GOVEX_CACHE:-$HOME/.cache/govex}
KAFKA_VERSION=3.9.1
LIB=$GOVEX_CACHE/kafka-$KAFKA_VERSION/lib
MARKER=$GOVEX_CACHE/kafka-$KAFKA_VERSION/.complete

PACKAGES=(
    build-essential pkg-config ca-certificates
    librdkafka-dev libavro-dev libjansson-dev libcsv-dev libmicrohttpd-dev
    libssl-dev uuid-dev libcriterion-dev libpq-dev
    kcat openjdk-17-jre-headless maven python3
    postgresql  # the adapter's PostgreSQL test starts a private server
    python3-avro python3-confluent-kafka
    prometheus  # promtool checks /metrics output and deploy/prometheus; a real server for the monitoring test
    chromium    # headless, renders the HTML compliance report in its integration test
)

# --- 1. Debian packages ------------------------------------------------------
missing=()
for p in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [[ $status == "install ok installed" ]] || missing+=("$p")
done
if ((${#missing[@]})); then
    echo "deps: installing ${missing[*]}"
    sudo=""
    ((EUID == 0)) || sudo=sudo
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# --- 2. Kafka jars -----------------------------------------------------------
if [[ ! -f $MARKER ]]; then
    echo "deps: fetching Kafka $KAFKA_VERSION jars into $LIB"
    rm -rf "$LIB"
    mkdir -p "$LIB"
    mvn -q -B -Dstyle.color=never -f "$here/local/kafka-pom.xml" dependency:copy-dependencies \
        -DoutputDirectory="$LIB" -DincludeScope=runtime
    # Exactly one slf4j binding, or Kafka's logging goes to the wrong place.
    bindings=$(cd "$LIB" && ls | grep -E '^(slf4j-(log4j12|reload4j|simple|jdk14|nop)|logback-classic|log4j-slf4j)' || true)
    if [[ $bindings != slf4j-reload4j-*.jar ]]; then
        echo "deps: unexpected slf4j bindings in $LIB:" $bindings >&2
        exit 1
    fi
    [[ -f $LIB/kafka_2.13-$KAFKA_VERSION.jar ]] || { echo "deps: kafka jar missing" >&2; exit 1; }
    touch "$MARKER"
fi

# --- 3. Python packages from PyPI for tests/interop/verify_seals.py ----------
# A venv at $GOVEX_CACHE/venv that also sees Debian's python3 packages; PyPI's
# fastavro, gmssl (pure-Python SM2/SM3), cryptography (Ed25519) and
# confluent-kafka are installed into it, once (skipped when all import).
VENV=$GOVEX_CACHE/venv
PYPI_PACKAGES=(fastavro gmssl cryptography confluent-kafka)
if ! "$VENV/bin/python" -c 'import fastavro, gmssl, cryptography, confluent_kafka' 2>/dev/null; then
    echo "deps: Python venv $VENV with ${PYPI_PACKAGES[*]}"
    if ! /usr/bin/python3 -c 'import ensurepip' 2>/dev/null; then
        sudo=""
        ((EUID == 0)) || sudo=sudo
        $sudo apt-get update -q
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends python3-venv
    fi
    /usr/bin/python3 -m venv --system-site-packages "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check --upgrade "${PYPI_PACKAGES[@]}"
fi
