#!/usr/bin/env bash
# govex: a private local Apache Kafka 3.9.1 (KRaft, every node a combined
# broker+controller) for tests and `make run`: one node, or a cluster of
# several on loopback for the fault tests. Loopback only.
#
#   kafka.sh start --port PORT --dir DIR [--controller-port CPORT]
#       One node. Writes DIR/server.properties, formats DIR/data once, starts
#       Kafka in the background (pid in DIR/kafka.pid, log in
#       DIR/logs/server.log), waits until it answers, then prints the
#       bootstrap address (and only that) on stdout. Without
#       --controller-port the one used last time from DIR is kept if it is
#       free, else a free port is picked. Run again on a stopped DIR, it
#       starts the same node again with its data.
#   kafka.sh start --nodes N --port PORT --dir DIR [--controller-port CPORT]
#       A cluster of N nodes (N >= 2): node i (1..N) listens on PORT+i-1,
#       its controller on CPORT+i-1 (a free run of N ports when not given),
#       data in DIR/node<i>. With three nodes or more: replication factor 3
#       and min.insync.replicas=2 for every topic, the consumer offsets and
#       the transaction log (a write with acks=all survives one node down);
#       with two: 2 and 1. Waits until every node is in the cluster, prints
#       the bootstrap list "127.0.0.1:P1,127.0.0.1:P2,..." on stdout. Run
#       again on the same DIR, it starts whichever nodes are not running.
#   start ... --ssl PKI (issue 8, one node or a cluster): every listener TLS
#       with client certificates, principal mapping and the ACL authorizer;
#       PKI and what it holds: deploy/local/kafka-ssl.sh.
#   kafka.sh stop --dir DIR
#       Every node of DIR: SIGTERM, up to 30 s for a clean exit, then
#       SIGKILL. Idempotent.
#   kafka.sh kill-node N --dir DIR
#       SIGKILL node N of a cluster (a crash: no clean shutdown), and wait
#       until it is gone. Its data stays for start-node.
#   kafka.sh stop-node N --dir DIR
#       Stop node N cleanly, as stop does.
#   kafka.sh start-node N --dir DIR
#       Start node N of a cluster again with its data and ports; waits until
#       it answers and has rejoined the cluster.
#   kafka.sh free-port [--count N]
#       Prints a free loopback TCP port P such that P..P+N-1 are all free
#       (N defaults to 1).
#
# The jars come from `make deps` (deploy/deps.sh) in
# ${GOVEX_CACHE:-~/.cache/govex}/kafka-3.9.1/lib.
# Environment: GOVEX_KAFKA_HEAP (default "-Xmx512m -Xms256m"),
#              GOVEX_KAFKA_START_TIMEOUT (seconds, default 60; 120 for a
#              cluster).
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

# A port P with P..P+$1-1 free (checked by binding each, so nothing else
# listens there now; the caller binds them soon after).
free_run() {
    python3 - "$1" <<'EOF'
import socket, sys
n = int(sys.argv[1])
for _ in range(200):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close()
    if p + n > 65535:
        continue
    ok = True
    for q in range(p, p + n):
        t = socket.socket()
        try:
            t.bind(("127.0.0.1", q))
        except OSError:
            ok = False
        t.close()
        if not ok:
            break
    if ok:
        print(p); sys.exit(0)
sys.exit("no run of %d free ports found" % n)
EOF
}

# Is process $1 alive (not a zombie) and the Kafka of node directory $2?
is_ours() { tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qF "$2/server.properties"; }

# The pid in NDIR/kafka.pid, if that process is alive and is our Kafka.
running_pid() {
    local pid
    pid=$(cat "$1/kafka.pid" 2>/dev/null) || return 1
    [[ $pid =~ ^[0-9]+$ ]] && is_ours "$pid" "$1" && echo "$pid"
}

# Does the node on port $1 answer a metadata request listing itself (node
# id $2) among the live brokers, and at least $3 live brokers in all?
answers() {
    local md
    md=$(kcat -b "127.0.0.1:$1" "${KCAT_ARGS[@]}" -L -t __none -m 2 2>/dev/null) || return 1
    grep -q "^  broker $2 at 127.0.0.1:$1\b" <<<"$md" || return 1
    local n
    n=$(sed -n 's/^ \([0-9][0-9]*\) brokers:$/\1/p' <<<"$md")
    [[ -n $n ]] && ((n >= $3))
}

# ---- issue 8: --ssl PKI (kafka-ssl.sh) ----
SSL_PKI="" KCAT_ARGS=() # kcat's TLS options when the node is SSL
# Use PKI (or the one a node directory $2 was started with) from now on.
ssl_use() {
    local pki=$1
    local d
    for d in "${2:-}" "${2:-}/node1"; do # a restarted TLS node stays TLS
        [[ -n $pki || -z ${2:-} || ! -f $d/ssl.pki ]] || pki=$(cat "$d/ssl.pki")
    done
    [[ -n $pki ]] || return 0
    source "$here/kafka-ssl.sh"
    SSL_PKI=$(cd "$pki" && pwd) || die "--ssl: no directory $pki"
    kafka_ssl_check "$SSL_PKI" || die "--ssl $SSL_PKI: not usable"
    mapfile -t KCAT_ARGS < <(kafka_ssl_kcat_args "$SSL_PKI")
}
# ---- end issue 8 ----

need_lib() {
    [[ -f $LIB/../.complete ]] || { echo "kafka.sh: Kafka jars missing in $LIB: run make deps" >&2; exit 2; }
}

jvm_args() {
    JVM=($HEAP "${JVM_FLAGS[@]}" -Dlog4j.configuration="file:$here/log4j.properties"
         -Dkafka.logs.dir="$1/logs" -cp "$LIB/*")
}

#
# The one place a node's configuration is made: NDIR/server.properties from
# server.properties.in. Arguments: NDIR NODE_ID PORT CPORT VOTERS RF MIN_ISR.
# A new option (a TLS listener, ...) goes here: substitute it in the
# template, or append its lines after the sed.
#
write_properties() {
    local ndir=$1 id=$2 port=$3 cport=$4 voters=$5 rf=$6 minisr=$7
    sed -e "s|@NODE_ID@|$id|g" -e "s|@VOTERS@|$voters|g" \
        -e "s|@PORT@|$port|g" -e "s|@CPORT@|$cport|g" \
        -e "s|@DATA@|$ndir/data|g" -e "s|@DIR@|$ndir|g" \
        -e "s|@RF@|$rf|g" -e "s|@MIN_ISR@|$minisr|g" \
        "$here/server.properties.in" >"$ndir/server.properties.tmp"
    # ---- issue 8: --ssl: PEM stores and the TLS/ACL lines (later lines win) ----
    if [[ -n $SSL_PKI ]]; then
        kafka_ssl_pem "$SSL_PKI" "$ndir" || die "--ssl: cannot write $ndir/ssl"
        kafka_ssl_properties "$ndir" "$port" "$cport" >>"$ndir/server.properties.tmp"
        echo "$SSL_PKI" >"$ndir/ssl.pki"
    fi
    # ---- end issue 8 ----
    mv "$ndir/server.properties.tmp" "$ndir/server.properties"
}

# Format NDIR/data for cluster id $2, once.
format_node() {
    local ndir=$1
    [[ -f $ndir/data/meta.properties ]] && return 0
    jvm_args "$ndir"
    "$JAVA" "${JVM[@]}" kafka.tools.StorageTool format -t "$2" \
        -c "$ndir/server.properties" >"$ndir/logs/format.log" 2>&1 \
        || { cat "$ndir/logs/format.log" >&2; die "formatting $ndir/data failed"; }
}

new_cluster_id() {
    jvm_args /tmp
    "$JAVA" "${JVM[@]}" kafka.tools.StorageTool random-uuid
}

# Start the node of NDIR in the background (pid in NDIR/kafka.pid).
launch_node() {
    local ndir=$1
    jvm_args "$ndir"
    # setsid + redirections: detached from our terminal and from the caller's
    # stdout, so `BS=$(kafka.sh start ...)` returns.
    setsid "$JAVA" "${JVM[@]}" kafka.Kafka "$ndir/server.properties" \
        </dev/null >>"$ndir/logs/kafka.out" 2>&1 &
    echo "$!" >"$ndir/kafka.pid"
}

# Wait until the node of NDIR (id, port) answers with at least NEED live
# brokers; 0 when it does, 1 if it died or the time ran out.
wait_node() {
    local ndir=$1 id=$2 port=$3 need=$4 timeout=$5 t0=$SECONDS pid
    pid=$(cat "$ndir/kafka.pid")
    while ((SECONDS - t0 < timeout)); do
        # (alive and not a zombie; cmdline may not be java's yet right after fork)
        [[ $(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null) == [^Z]* ]] || return 1
        answers "$port" "$id" "$need" && return 0
        sleep 0.5
    done
    return 1
}

node_failed() {
    echo "kafka.sh: Kafka did not come up on 127.0.0.1:$2; last lines of $1/logs:" >&2
    tail -n 30 "$1/logs/server.log" >&2 2>/dev/null || true
    tail -n 10 "$1/logs/kafka.out" >&2 2>/dev/null || true
}

# Stop the node of NDIR: signal $2 (TERM: up to 30 s, then KILL).
stop_node() {
    local ndir=$1 sig=$2 pid
    if pid=$(running_pid "$ndir"); then
        kill -"$sig" "$pid" 2>/dev/null || true
        for ((i = 0; i < 60; i++)); do
            is_ours "$pid" "$ndir" || break
            sleep 0.5
        done
        if is_ours "$pid" "$ndir"; then
            echo "kafka.sh: Kafka (pid $pid) ignored SIG$sig for 30 s; killing it" >&2
            kill -KILL "$pid" 2>/dev/null || true
            while is_ours "$pid" "$ndir"; do sleep 0.1; done
        fi
    fi
    rm -f "$ndir/kafka.pid"
}

start_single() {
    local port=$1 cport=$2 dir=$3
    if running_pid "$dir" >/dev/null; then
        answers "$port" 1 1 || die "a Kafka is already running from $dir but does not answer on $port"
        echo "127.0.0.1:$port"
        return 0
    fi
    # The controller port of the last start, so a restarted node finds its
    # quorum where it left it.
    if [[ -z $cport && -f $dir/controller.port ]]; then
        cport=$(cat "$dir/controller.port")
        { [[ $cport != "$port" ]] && ! port_in_use "$cport"; } || cport=""
    fi
    [[ -n $cport ]] || until cport=$(free_port); [[ $cport != "$port" ]]; do :; done
    for p in "$port" "$cport"; do
        ! port_in_use "$p" || die "port $p on 127.0.0.1 is already in use"
    done

    write_properties "$dir" 1 "$port" "$cport" "1@127.0.0.1:$cport" 1 1
    echo "$cport" >"$dir/controller.port"
    [[ -f $dir/data/meta.properties ]] || format_node "$dir" "$(new_cluster_id)"

    local t0=$SECONDS
    launch_node "$dir"
    if wait_node "$dir" 1 "$port" 1 "${GOVEX_KAFKA_START_TIMEOUT:-60}"; then
        echo "kafka.sh: Kafka up on 127.0.0.1:$port (controller $cport, pid $(cat "$dir/kafka.pid")) in $((SECONDS - t0)) s" >&2
        echo "127.0.0.1:$port" >"$dir/bootstrap"
        echo "127.0.0.1:$port"
        return 0
    fi
    node_failed "$dir" "$port"
    stop_node "$dir" TERM >/dev/null 2>&1 || true
    exit 1
}

# Cluster layout, DIR/cluster: "nodes=N port=P cport=C".
read_cluster() {
    [[ -f $1/cluster ]] || die "$1 holds no cluster (kafka.sh start --nodes N ...)"
    local line
    line=$(cat "$1/cluster")
    [[ $line =~ ^nodes=([0-9]+)\ port=([0-9]+)\ cport=([0-9]+)$ ]] || die "$1/cluster is malformed"
    NODES=${BASH_REMATCH[1]} PORT=${BASH_REMATCH[2]} CPORT=${BASH_REMATCH[3]}
}

cluster_bootstrap() {
    local bs="" i
    for ((i = 0; i < NODES; i++)); do bs+="${bs:+,}127.0.0.1:$((PORT + i))"; done
    echo "$bs"
}

start_cluster() {
    local nodes=$1 port=$2 cport=$3 dir=$4 i
    if [[ -f $dir/cluster ]]; then
        read_cluster "$dir"
        [[ $NODES == "$nodes" && $PORT == "$port" ]] \
            || die "$dir holds a cluster of $NODES nodes on port $PORT"
    else
        [[ -n $cport ]] || until cport=$(free_run "$nodes"); ((cport + nodes <= port || cport >= port + nodes)); do :; done
        NODES=$nodes PORT=$port CPORT=$cport
    fi
    local rf=$((NODES >= 3 ? 3 : NODES)) minisr=$((NODES >= 3 ? 2 : 1)) voters=""
    for ((i = 0; i < NODES; i++)); do voters+="${voters:+,}$((i + 1))@127.0.0.1:$((CPORT + i))"; done

    local starting=() ndir id
    for ((i = 0; i < NODES; i++)); do
        id=$((i + 1)) ndir=$dir/node$id
        mkdir -p "$ndir/logs"
        running_pid "$ndir" >/dev/null && continue
        for p in $((PORT + i)) $((CPORT + i)); do
            ! port_in_use "$p" || die "port $p on 127.0.0.1 is already in use"
        done
        write_properties "$ndir" "$id" $((PORT + i)) $((CPORT + i)) "$voters" "$rf" "$minisr"
        starting+=("$id")
    done
    echo "nodes=$NODES port=$PORT cport=$CPORT" >"$dir/cluster"
    local cid=""
    for id in "${starting[@]}"; do
        [[ -f $dir/node$id/data/meta.properties ]] && continue
        if [[ -z $cid ]]; then
            # One cluster id for all: from a formatted node, else a new one.
            cid=$(cat "$dir"/node*/data/meta.properties 2>/dev/null | sed -n 's/^cluster.id=//p' | head -n 1 || true)
            [[ -n $cid ]] || cid=$(new_cluster_id)
        fi
        format_node "$dir/node$id" "$cid" &
    done
    wait
    for id in "${starting[@]}"; do
        [[ -f $dir/node$id/data/meta.properties ]] || die "formatting $dir/node$id/data failed"
    done
    local t0=$SECONDS
    for id in "${starting[@]}"; do launch_node "$dir/node$id"; done
    local timeout=${GOVEX_KAFKA_START_TIMEOUT:-120}
    for ((i = 0; i < NODES; i++)); do
        id=$((i + 1))
        if ! wait_node "$dir/node$id" "$id" $((PORT + i)) "$NODES" $((timeout - (SECONDS - t0))); then
            node_failed "$dir/node$id" $((PORT + i))
            stop "--dir" "$dir" >/dev/null 2>&1 || true
            exit 1
        fi
    done
    local bs
    bs=$(cluster_bootstrap)
    echo "kafka.sh: Kafka cluster of $NODES up on $bs (controllers from $CPORT) in $((SECONDS - t0)) s" >&2
    echo "$bs" >"$dir/bootstrap"
    echo "$bs"
}

start() {
    local port="" cport="" dir="" nodes=1 ssl=""
    while (($#)); do
        case $1 in
            --port) port=$2; shift 2 ;;
            --controller-port) cport=$2; shift 2 ;;
            --dir) dir=$2; shift 2 ;;
            --nodes) nodes=$2; shift 2 ;;
            --ssl) ssl=$2; shift 2 ;; # issue 8
            *) die "start: unknown argument $1" ;;
        esac
    done
    [[ $port =~ ^[0-9]+$ && -n $dir && $nodes =~ ^[1-9][0-9]?$ ]] \
        || die "usage: kafka.sh start [--nodes N] --port PORT --dir DIR [--controller-port CPORT]"
    need_lib
    mkdir -p "$dir/logs"
    dir=$(cd "$dir" && pwd)
    ssl_use "$ssl" "$dir" # issue 8
    if ((nodes == 1)); then
        [[ ! -f $dir/cluster ]] || die "$dir holds a cluster: start --nodes N"
        start_single "$port" "$cport" "$dir"
    else
        [[ ! -f $dir/data/meta.properties ]] || die "$dir holds a single node"
        start_cluster "$nodes" "$port" "$cport" "$dir"
    fi
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
    if [[ -f $dir/cluster ]]; then
        # All at once: a node stopping alone waits for its leaderships to
        # move, which the others, stopping too, cannot take.
        local n
        for n in "$dir"/node*/; do
            [[ -d $n ]] && stop_node "${n%/}" TERM &
        done
        wait
    else
        stop_node "$dir" TERM
    fi
}

# kill-node / stop-node / start-node N --dir DIR
node_cmd() {
    local what=$1 n=${2:-} dir=""
    shift 2 || true
    while (($#)); do
        case $1 in
            --dir) dir=$2; shift 2 ;;
            *) die "$what: unknown argument $1" ;;
        esac
    done
    [[ $n =~ ^[0-9]+$ && -n $dir ]] || die "usage: kafka.sh $what N --dir DIR"
    dir=$(cd "$dir" && pwd)
    read_cluster "$dir"
    ((n >= 1 && n <= NODES)) || die "$what: no node $n in a cluster of $NODES"
    local ndir=$dir/node$n
    ssl_use "" "$ndir" # issue 8: a node started with --ssl is asked over TLS
    case $what in
        kill-node)
            stop_node "$ndir" KILL
            echo "kafka.sh: node $n killed" >&2 ;;
        stop-node)
            stop_node "$ndir" TERM
            echo "kafka.sh: node $n stopped" >&2 ;;
        start-node)
            need_lib
            if running_pid "$ndir" >/dev/null; then
                echo "kafka.sh: node $n is already running" >&2
                return 0
            fi
            local t0=$SECONDS port=$((PORT + n - 1))
            launch_node "$ndir"
            if ! wait_node "$ndir" "$n" "$port" "$NODES" "${GOVEX_KAFKA_START_TIMEOUT:-120}"; then
                node_failed "$ndir" "$port"
                exit 1
            fi
            echo "kafka.sh: node $n up on 127.0.0.1:$port in $((SECONDS - t0)) s" >&2 ;;
    esac
}

cmd=${1:-}
shift || true
case $cmd in
    start) start "$@" ;;
    stop) stop "$@" ;;
    kill-node | stop-node | start-node) node_cmd "$cmd" "$@" ;;
    free-port)
        if [[ ${1:-} == --count ]]; then
            [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || die "usage: kafka.sh free-port [--count N]"
            free_run "$2"
        else
            free_port
        fi ;;
    *) die "usage: kafka.sh start [--nodes N] --port PORT --dir DIR [--controller-port CPORT] | stop --dir DIR | kill-node N --dir DIR | stop-node N --dir DIR | start-node N --dir DIR | free-port [--count N]" ;;
esac
