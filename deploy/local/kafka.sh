#!/usr/bin/env bash
# govex: a private local single-node Apache Kafka 3.9.1 (KRaft, combined
# broker+controller) for tests and `make run`. Loopback only.
#
#   kafka.sh start --port PORT --dir DIR [--controller-port CPORT]
#       Writes DIR/server.properties, formats DIR/data once, starts Kafka in
#       the background (pid in DIR/kafka.pid, log in DIR/logs/server.log),
#       waits until it answers, then prints the bootstrap address (and only
#       that) on stdout. Without --controller-port a free port is picked.
#   kafka.sh stop --dir DIR
#       SIGTERM, up to 30 s for a clean exit, then SIGKILL. Idempotent.
#   kafka.sh free-port
#       Prints a free loopback TCP port.
#
# The jars come from `make deps` (deploy/deps.sh) in
# ${GOVEX_CACHE:-~/.cache/govex}/kafka-3.9.1/lib.
# Environment: GOVEX_KAFKA_HEAP (default "-Xmx512m -Xms256m"),
#              GOVEX_KAFKA_START_TIMEOUT (seconds, default 60).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
LIB=${GOVEX_CACHE:-$HOME/.cache/govex}/kafka-3.9.1/lib
JAVA=${JAVA:-java}
HEAP=${GOVEX_KAFKA_HEAP:--Xmx512m -Xms256m}
JVM_FLAGS=(-server -XX:+UseG1GC -XX:MaxGCPauseMillis=20
           -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent
           -XX:MaxInlineLevel=15 -Djava.awt.headless=true)

die() { echo "kafka.sh: $*" >&2; exit 1; }

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Is process $1 alive (not a zombie) and the Kafka of directory $2?
is_ours() { tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qF "$2/server.properties"; }

# The pid in DIR/kafka.pid, if that process is alive and is our Kafka.
running_pid() {
    local pid
    pid=$(cat "$1/kafka.pid" 2>/dev/null) || return 1
    [[ $pid =~ ^[0-9]+$ ]] && is_ours "$pid" "$1" && echo "$pid"
}

# Does the broker answer a metadata request with itself as a live broker?
answers() { kcat -b "127.0.0.1:$1" -L -t __none -m 2 2>/dev/null | grep -q ' 1 brokers:'; }

need_lib() {
    [[ -f $LIB/../.complete ]] || { echo "kafka.sh: Kafka jars missing in $LIB: run make deps" >&2; exit 2; }
}

start() {
    local port="" cport="" dir=""
    while (($#)); do
        case $1 in
            --port) port=$2; shift 2 ;;
            --controller-port) cport=$2; shift 2 ;;
            --dir) dir=$2; shift 2 ;;
            *) die "start: unknown argument $1" ;;
        esac
    done
    [[ $port =~ ^[0-9]+$ && -n $dir ]] || die "usage: kafka.sh start --port PORT --dir DIR [--controller-port CPORT]"
    need_lib
    mkdir -p "$dir/logs"
    dir=$(cd "$dir" && pwd)

    if running_pid "$dir" >/dev/null; then
        answers "$port" || die "a Kafka is already running from $dir but does not answer on $port"
        echo "127.0.0.1:$port"
        return 0
    fi
    [[ -n $cport ]] || until cport=$(free_port); [[ $cport != "$port" ]]; do :; done
    for p in "$port" "$cport"; do
        ! port_in_use "$p" || die "port $p on 127.0.0.1 is already in use"
    done

    sed -e "s|@PORT@|$port|g" -e "s|@CPORT@|$cport|g" -e "s|@DIR@|$dir|g" \
        "$here/server.properties.in" >"$dir/server.properties"

    local jvm=($HEAP "${JVM_FLAGS[@]}" -Dlog4j.configuration="file:$here/log4j.properties"
               -Dkafka.logs.dir="$dir/logs" -cp "$LIB/*")
    if [[ ! -f $dir/data/meta.properties ]]; then
        local id
        id=$("$JAVA" "${jvm[@]}" kafka.tools.StorageTool random-uuid)
        "$JAVA" "${jvm[@]}" kafka.tools.StorageTool format -t "$id" \
            -c "$dir/server.properties" >"$dir/logs/format.log" 2>&1 \
            || { cat "$dir/logs/format.log" >&2; die "formatting $dir/data failed"; }
    fi

    # setsid + redirections: detached from our terminal and from the caller's
    # stdout, so `BS=$(kafka.sh start ...)` returns.
    setsid "$JAVA" "${jvm[@]}" kafka.Kafka "$dir/server.properties" \
        </dev/null >"$dir/logs/kafka.out" 2>&1 &
    local pid=$! t0=$SECONDS
    echo "$pid" >"$dir/kafka.pid"

    local timeout=${GOVEX_KAFKA_START_TIMEOUT:-60}
    while ((SECONDS - t0 < timeout)); do
        # (alive and not a zombie; cmdline may not be java's yet right after fork)
        [[ $(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null) == [^Z]* ]] || break
        if answers "$port"; then
            echo "kafka.sh: Kafka up on 127.0.0.1:$port (controller $cport, pid $pid) in $((SECONDS - t0)) s" >&2
            echo "127.0.0.1:$port" >"$dir/bootstrap"
            echo "127.0.0.1:$port"
            return 0
        fi
        sleep 0.5
    done

    echo "kafka.sh: Kafka did not come up on 127.0.0.1:$port; last lines of $dir/logs:" >&2
    tail -n 30 "$dir/logs/server.log" >&2 2>/dev/null || true
    tail -n 10 "$dir/logs/kafka.out" >&2 2>/dev/null || true
    stop --dir "$dir" >/dev/null 2>&1 || true
    exit 1
}

stop() {
    local dir=""
    while (($#)); do
        case $1 in
            --dir) dir=$2; shift 2 ;;
            *) die "stop: unknown argument $1" ;;
        esac
    done
    [[ -n $dir ]] || die "usage: kafka.sh stop --dir DIR"
    [[ -d $dir ]] || return 0
    dir=$(cd "$dir" && pwd)
    local pid
    if pid=$(running_pid "$dir"); then
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 60; i++)); do
            is_ours "$pid" "$dir" || break
            sleep 0.5
        done
        if is_ours "$pid" "$dir"; then
            echo "kafka.sh: Kafka (pid $pid) ignored SIGTERM for 30 s; killing it" >&2
            kill -KILL "$pid" 2>/dev/null || true
            while is_ours "$pid" "$dir"; do sleep 0.1; done
        fi
    fi
    rm -f "$dir/kafka.pid"
}

cmd=${1:-}
shift || true
case $cmd in
    start) start "$@" ;;
    stop) stop "$@" ;;
    free-port) free_port ;;
    *) die "usage: kafka.sh start --port PORT --dir DIR [--controller-port CPORT] | stop --dir DIR | free-port" ;;
esac
