# A three-broker Kafka cluster on one machine for the cluster topology. Source
# it after lib.sh; do not run it.
#
# Node i (1..3) stands for a host of its own: it binds only 127.0.0.(10+i),
# so the three can share the port numbers as real hosts would, and keeps
# everything in BASE_DIR/kafka-i:
#   server.properties, log4j2.properties   regenerated on every start
#   data/                                  the node's log.dirs
#   kafka.log, kafka.pid                   its output and its pid
# BASE_DIR/cluster.id holds the KRaft cluster id all three are formatted with.
# Every node is broker and controller (KRaft combined mode, static voters),
# so the cluster keeps working with one node down and stops with two.
#   CLUSTER_KAFKA_PORT (default 29092), CLUSTER_KAFKA_CONTROLLER_PORT (29093)
#   CLUSTER_KAFKA_JVM_OPTS replaces the JVM options below
#   CLUSTER_KAFKA_START_TIMEOUT_SECONDS (default 90), KAFKA_LOG_LEVEL (INFO)
# The jars are the single-node install's (.tools/kafka/libs, infra/kafka.sh).

EVS_KAFKA_CLUSTER_NODES=3

# A small heap and C1 only, as for the single broker, and a smaller heap than
# its 512m: three of them share the machine with everything else.
_evs_kc_jvm_opts() {
  printf '%s' "${CLUSTER_KAFKA_JVM_OPTS:--Xms128m -Xmx384m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC}"
}

_evs_kc_java() { printf '%s' "${JAVA_HOME:+$JAVA_HOME/bin/}java"; }
_evs_kc_libs() { printf '%s/.tools/kafka/libs' "$EVS_ROOT"; }
_evs_kc_port() { printf '%s' "${CLUSTER_KAFKA_PORT:-29092}"; }
_evs_kc_controller_port() { printf '%s' "${CLUSTER_KAFKA_CONTROLLER_PORT:-29093}"; }
_evs_kc_timeout() { printf '%s' "${CLUSTER_KAFKA_START_TIMEOUT_SECONDS:-90}"; }

# evs_kafka_node_addr I: the loopback address that stands for node I's host.
evs_kafka_node_addr() { printf '127.0.0.%s' "$((10 + $1))"; }

# evs_kafka_cluster_brokers: the bootstrap list for clients (KAFKA_BROKERS).
evs_kafka_cluster_brokers() {
  local i out=""
  for ((i = 1; i <= EVS_KAFKA_CLUSTER_NODES; i++)); do
    out+="${out:+,}$(evs_kafka_node_addr "$i"):$(_evs_kc_port)"
  done
  printf '%s\n' "$out"
}

# The base folder is part of every node's pid marker: a relative path would
# name another cluster once the caller changes directory.
_evs_kc_base() {
  [[ -n "${1:-}" ]] || evs_die "kafka cluster: no base directory given"
  realpath -m "$1"
}

_evs_kc_check_node() {
  [[ "${1:-}" =~ ^[0-9]+$ ]] && (($1 >= 1 && $1 <= EVS_KAFKA_CLUSTER_NODES)) ||
    evs_die "kafka cluster: node must be 1..$EVS_KAFKA_CLUSTER_NODES, not '${1:-}'"
}

# The properties path ties a process to this node of this cluster, and keeps
# it apart from the single-node broker (whose path ends in kafka/server.properties).
_evs_kc_marker() { printf 'kafka.Kafka %s/kafka-%s/server.properties' "$1" "$2"; }

# evs_kafka_node_pid BASE_DIR I: prints node I's pid if it runs; fails otherwise.
evs_kafka_node_pid() {
  local base node="${2:-}" pid
  base="$(_evs_kc_base "${1:-}")"
  _evs_kc_check_node "$node"
  [[ -f "$base/kafka-$node/kafka.pid" ]] || return 1
  pid="$(<"$base/kafka-$node/kafka.pid")"
  evs_pid_matches "$pid" "$(_evs_kc_marker "$base" "$node")" || return 1
  printf '%s\n' "$pid"
}

# Kafka cluster ids are 16 random bytes in URL-safe base64 without padding;
# one that starts with '-' would read as an option, so draw again.
_evs_kc_new_cluster_id() {
  local id
  while :; do
    id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
    [[ "$id" != -* ]] && break
  done
  printf '%s' "$id"
}

# The id must survive as long as any node's data does: a lost cluster.id is
# recovered from a formatted node rather than replaced, since a node
# formatted with another id refuses to join.
_evs_kc_ensure_cluster_id() {
  local base="$1" file="$1/cluster.id" i meta id=""
  [[ -s "$file" ]] && return 0
  for ((i = 1; i <= EVS_KAFKA_CLUSTER_NODES; i++)); do
    meta="$base/kafka-$i/data/meta.properties"
    [[ -f "$meta" ]] || continue
    id="$(sed -n 's/^cluster\.id=//p' "$meta")"
    [[ -n "$id" ]] && break
  done
  if [[ -n "$id" ]]; then
    evs_log "kafka cluster: $file missing; taking the id $id from the formatted data"
  else
    id="$(_evs_kc_new_cluster_id)"
  fi
  printf '%s\n' "$id" >"$file.tmp" && mv "$file.tmp" "$file" || evs_die "cannot write $file"
}

_evs_kc_write_config() {
  local base="$1" node="$2" dir="$1/kafka-$2" addr voters="" i
  addr="$(evs_kafka_node_addr "$node")"
  for ((i = 1; i <= EVS_KAFKA_CLUSTER_NODES; i++)); do
    voters+="${voters:+,}$i@$(evs_kafka_node_addr "$i"):$(_evs_kc_controller_port)"
  done
  mkdir -p "$dir/data" || evs_die "cannot create $dir/data"
  # Replication 3 with min ISR 2: acks=all writes go on with one node down
  # and stop with two, like a production cluster. Internal topics get few
  # partitions: each is three replicas to create and load on every start.
  # A killed broker stays leader and in-sync replica of its partitions until
  # the controller fences it for missed heartbeats, and acks=all writes wait
  # for it until then: with the default 9 s session a send after kill -9 ran
  # out of KafkaJS's default retries (5, about 7 to 10 s). With 4 s, writes
  # resumed 4 to 5 s after the kill, 6 to 7.5 s when the node killed was
  # also the active controller (2 s more to elect another, whose session
  # clocks then start afresh). Shorter still, a busy machine's pauses would
  # fence live brokers.
  cat >"$dir/server.properties" <<EOF
# Generated by infra/cluster/kafka-cluster.sh on each start; edit the script, not this file.
process.roles=broker,controller
node.id=$node
controller.quorum.voters=$voters
listeners=PLAINTEXT://$addr:$(_evs_kc_port),CONTROLLER://$addr:$(_evs_kc_controller_port)
advertised.listeners=PLAINTEXT://$addr:$(_evs_kc_port)
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$dir/data
num.partitions=3
default.replication.factor=3
min.insync.replicas=2
offsets.topic.replication.factor=3
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=3
transaction.state.log.min.isr=2
transaction.state.log.num.partitions=3
share.coordinator.state.topic.replication.factor=3
share.coordinator.state.topic.min.isr=2
share.coordinator.state.topic.num.partitions=3
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
log.retention.hours=168
broker.session.timeout.ms=4000
broker.heartbeat.interval.ms=1000
EOF
  evs_write_kafka_log4j "$dir/log4j2.properties" infra/cluster/kafka-cluster.sh
}

# Fills the caller's array named by $3 with node I's java command line.
_evs_kc_java_cmd() {
  local dir="$1/kafka-$2"
  local -n _evs_kc_out="$3"
  local -a opts
  read -r -a opts <<<"$(_evs_kc_jvm_opts)"
  _evs_kc_out=("$(_evs_kc_java)" "${opts[@]}" "-Dlog4j2.configurationFile=$dir/log4j2.properties"
    "-Dkafka.logs.dir=$dir" -cp "$(_evs_kc_libs)/*")
}

# The jars come from the single-node install, which is a no-op when its POM
# stamp matches. EVS_KAFKA_EXTERNAL=0: a KAFKA_BROKERS pointing at this very
# cluster must not make kafka.sh skip the install as "external".
_evs_kc_prepare() {
  local java_major
  EVS_KAFKA_EXTERNAL=0 bash "$EVS_ROOT/infra/kafka.sh" install || evs_die "kafka cluster: installing the broker jars failed"
  compgen -G "$(_evs_kc_libs)/kafka_2.13-*.jar" >/dev/null || evs_die "kafka cluster: no broker jars in $(_evs_kc_libs)"
  java_major="$("$(_evs_kc_java)" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')"
  [[ "${java_major:-0}" =~ ^[0-9]+$ && "$java_major" -ge 17 ]] ||
    evs_die "Kafka 4 needs Java 17 or newer; $(_evs_kc_java) reports '${java_major:-nothing}' (set JAVA_HOME)"
}

# Two starts of one cluster at once would both format and launch the nodes.
# The lock's descriptor must not reach the brokers, or it would be held for
# as long as they run (see _evs_kc_start_node).
_evs_kc_lock() {
  mkdir -p "$1" || evs_die "cannot create $1"
  exec {_EVS_KC_LOCK_FD}>>"$1/.evs-kafka-cluster.lock" || evs_die "cannot open $1/.evs-kafka-cluster.lock"
  if ! flock -w 300 "$_EVS_KC_LOCK_FD"; then
    exec {_EVS_KC_LOCK_FD}>&-
    evs_die "timed out waiting for another start of the Kafka cluster in $1"
  fi
}
_evs_kc_unlock() { exec {_EVS_KC_LOCK_FD}>&-; }

# Writes node I's configuration and formats its storage unless it is
# formatted already. Not for a running node: its files are its own.
_evs_kc_format_node() {
  local base="$1" node="$2" dir="$1/kafka-$2" id
  local -a cmd
  id="$(<"$base/cluster.id")"
  _evs_kc_write_config "$base" "$node"
  if [[ -f "$dir/data/meta.properties" ]]; then
    grep -qxF "cluster.id=$id" "$dir/data/meta.properties" ||
      evs_die "kafka-$node: $dir/data was formatted for another cluster than $base/cluster.id ($id); delete $base to start over"
    return 0
  fi
  evs_log "kafka-$node: formatting $dir/data (cluster id $id)"
  _evs_kc_java_cmd "$base" "$node" cmd
  "${cmd[@]}" kafka.tools.StorageTool format -t "$id" -c "$dir/server.properties" \
    --ignore-formatted >>"$dir/kafka.log" 2>&1 {_EVS_KC_LOCK_FD}>&- || {
    tail -n 30 "$dir/kafka.log" >&2
    evs_die "kafka-$node: storage format failed; log: $dir/kafka.log"
  }
}

# Anything answering on a stopped node's address (a wildcard listener
# included) would take the broker's connections or make it fail to bind.
_evs_kc_check_free() {
  local node="$1" addr port owner
  addr="$(evs_kafka_node_addr "$node")"
  for port in "$(_evs_kc_port)" "$(_evs_kc_controller_port)"; do
    if evs_port_open "$addr" "$port"; then
      owner="$(ss -Hltnp "sport = :$port" 2>/dev/null | tr -s ' ' | head -n 3 | tr '\n' ';')"
      evs_die "kafka-$node: $addr:$port is already in use by another process: ${owner:-unknown}"
    fi
  done
}

# Starts node I unless it runs; does not wait (a single node of a fresh
# cluster cannot get far until a quorum of controllers is up). Sets
# _EVS_KC_STARTED to the new pid, or to nothing when it was already running.
# FORMATTED=1 when the caller has just run _evs_kc_format_node for it.
_evs_kc_start_node() {
  local base="$1" node="$2" formatted="${3:-0}" dir="$1/kafka-$2" addr pid
  local -a cmd
  _EVS_KC_STARTED=""
  if pid="$(evs_kafka_node_pid "$base" "$node")"; then
    evs_log "kafka-$node: already running (pid $pid)"
    return 0
  fi
  addr="$(evs_kafka_node_addr "$node")"
  _evs_kc_check_free "$node"
  [[ "$formatted" == 1 ]] || _evs_kc_format_node "$base" "$node"
  _evs_kc_java_cmd "$base" "$node" cmd
  evs_log "kafka-$node: starting on $addr:$(_evs_kc_port) (controller :$(_evs_kc_controller_port)), data $dir/data"
  # evs_start_bg keeps the pid and the log in EVS_RUN_DIR / EVS_LOG_DIR: the
  # node's own folder here. EVS_ENV only labels the log's start banner.
  local EVS_RUN_DIR="$dir" EVS_LOG_DIR="$dir"
  [[ -v EVS_ENV ]] || local EVS_ENV=cluster
  evs_start_bg kafka "${cmd[@]}" kafka.Kafka "$dir/server.properties" {_EVS_KC_LOCK_FD}>&-
  _EVS_KC_STARTED="$EVS_STARTED_PID"
}

# Waits for node I's broker port; on failure prints the end of its log.
_evs_kc_wait_node() {
  local base="$1" node="$2" pid
  pid="$(evs_kafka_node_pid "$base" "$node")" || pid=""
  if [[ -z "$pid" ]]; then
    evs_log "kafka-$node: not running"
  elif evs_wait_until "$(_evs_kc_timeout)" "kafka-$node" "$pid" \
    evs_port_open "$(evs_kafka_node_addr "$node")" "$(_evs_kc_port)"; then
    return 0
  fi
  printf -- '----- last lines of %s -----\n' "$base/kafka-$node/kafka.log" >&2
  tail -n 40 "$base/kafka-$node/kafka.log" >&2 2>/dev/null || true
  printf -- '-----\n' >&2
  return 1
}

# evs_kafka_cluster_start BASE_DIR: formats (once) and starts the three
# nodes, leaving running ones alone, and waits until every broker port
# accepts connections. A failed start stops the nodes it started.
evs_kafka_cluster_start() {
  local base rc=0
  base="$(_evs_kc_base "${1:-}")"
  _evs_kc_prepare
  _evs_kc_lock "$base"
  _evs_kc_cluster_start_locked "$base" || rc=$?
  _evs_kc_unlock
  return "$rc"
}

_evs_kc_cluster_start_locked() {
  local base="$1" i pid fmt_pids=() down=() started=() failed=0 t0="$SECONDS"
  _evs_kc_ensure_cluster_id "$base"
  for ((i = 1; i <= EVS_KAFKA_CLUSTER_NODES; i++)); do
    if pid="$(evs_kafka_node_pid "$base" "$i")"; then
      evs_log "kafka-$i: already running (pid $pid)"
    else
      down+=("$i")
    fi
  done
  # Before anything starts: a clash found halfway would leave nodes behind.
  for i in "${down[@]}"; do _evs_kc_check_free "$i"; done
  # Formatting is a JVM start per node (about a second each): side by side.
  for i in "${down[@]}"; do
    _evs_kc_format_node "$base" "$i" &
    fmt_pids+=("$!")
  done
  for i in "${fmt_pids[@]}"; do wait "$i" || failed=1; done
  ((failed == 0)) || evs_die "the Kafka cluster in $base could not be formatted"
  # All three before any wait: a broker opens its port only once a quorum of
  # controllers (two of the three nodes) has registered and unfenced it.
  for i in "${down[@]}"; do
    _evs_kc_start_node "$base" "$i" 1
    [[ -z "$_EVS_KC_STARTED" ]] || started+=("$i")
  done
  for ((i = 1; i <= EVS_KAFKA_CLUSTER_NODES; i++)); do
    if ! _evs_kc_wait_node "$base" "$i"; then
      for i in "${started[@]}"; do evs_kafka_node_stop "$base" "$i"; done
      evs_die "the Kafka cluster in $base did not start"
    fi
  done
  evs_log "kafka cluster: ready in $((SECONDS - t0))s at $(evs_kafka_cluster_brokers) (data $base)"
}

# evs_kafka_node_start BASE_DIR I: (re)starts node I alone, e.g. after a
# fault test killed it, and waits for its broker port.
evs_kafka_node_start() {
  local base node="${2:-}" rc=0
  base="$(_evs_kc_base "${1:-}")"
  _evs_kc_check_node "$node"
  _evs_kc_prepare
  _evs_kc_lock "$base"
  {
    _evs_kc_ensure_cluster_id "$base"
    _evs_kc_start_node "$base" "$node"
    _evs_kc_wait_node "$base" "$node"
  } || rc=$?
  _evs_kc_unlock
  ((rc == 0)) || evs_die "kafka-$node in $base did not start"
  evs_log "kafka-$node: ready at $(evs_kafka_node_addr "$node"):$(_evs_kc_port)"
}

# evs_kafka_node_stop BASE_DIR I [kill]: SIGTERM with a grace period, then
# SIGKILL; with "kill", SIGKILL at once, as a crash would (fault tests).
# Returns once the process is gone.
evs_kafka_node_stop() {
  local base node="${2:-}" mode="${3:-}" pid marker
  base="$(_evs_kc_base "${1:-}")"
  _evs_kc_check_node "$node"
  marker="$(_evs_kc_marker "$base" "$node")"
  case "$mode" in
    "")
      # evs_stop names the process after its pid file (kafka): the tag says which node.
      local EVS_RUN_DIR="$base/kafka-$node" EVS_LOG_TAG="${EVS_LOG_TAG:-infra}/kafka-$node"
      evs_stop kafka "$marker" "${CLUSTER_KAFKA_STOP_GRACE_SECONDS:-30}"
      ;;
    kill)
      if pid="$(evs_kafka_node_pid "$base" "$node")"; then
        evs_log "kafka-$node: SIGKILL pid $pid"
        kill -KILL "$pid" 2>/dev/null || true
        while evs_pid_matches "$pid" "$marker"; do sleep 0.1; done
      fi
      rm -f "$base/kafka-$node/kafka.pid"
      ;;
    *) evs_die "evs_kafka_node_stop: mode must be empty or 'kill', not '$mode'" ;;
  esac
}

# evs_kafka_cluster_stop BASE_DIR: stops all nodes at once. One after the
# other, the last node would wait out its controlled shutdown with no
# controller quorum left to answer it.
evs_kafka_cluster_stop() {
  local base i pids=()
  base="$(_evs_kc_base "${1:-}")"
  for ((i = 1; i <= EVS_KAFKA_CLUSTER_NODES; i++)); do
    [[ -f "$base/kafka-$i/kafka.pid" ]] || continue
    evs_kafka_node_stop "$base" "$i" &
    pids+=("$!")
  done
  ((${#pids[@]} == 0)) || wait "${pids[@]}"
}
