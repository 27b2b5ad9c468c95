# Shared by the benchmarks: free ports, starting and waiting for the platform's processes,
# their configuration from the devstack's state file, and identity tokens. Sourced by
# bench/*/run.sh, which set ROOT, WORK (their temporary folder), PIDS, START_TIMEOUT and
# GATEWAY_PORT.

say() { printf '%s\n' "$*"; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

# Installs the Debian packages named (none: nothing to do), refreshing the package lists only
# when the first try fails.
install_packages() {
  [ "$#" -eq 0 ] && return 0
  [ "$(id -u)" = 0 ] || die "missing $*; run as root so apt-get can install them"
  say "installing $*"
  if ! apt-get install -y -qq "$@" >/dev/null 2>&1; then
    apt-get update -qq >/dev/null
    apt-get install -y -qq "$@" >/dev/null
  fi
}

# Prints the path of a psql: on the PATH, or the newest of PostgreSQL's versioned folders.
find_psql() {
  command -v psql 2>/dev/null && return 0
  ls /usr/lib/postgresql/*/bin/psql 2>/dev/null | sort -V | tail -n 1 | grep .
}

# Installs with apt-get those of the tools named that are missing (psql: postgresql-client).
require_tools() {
  local tool
  local -a missing=()
  for tool in "$@"; do
    case "$tool" in
      psql) find_psql >/dev/null || missing+=(postgresql-client) ;;
      *) command -v "$tool" >/dev/null || missing+=("$tool") ;;
    esac
  done
  install_packages "${missing[@]}"
}

# A curl that signs S3 requests (--aws-sigv4, curl 7.75+), installed with apt-get when missing.
require_curl_sigv4() {
  curl --help all 2>/dev/null | grep -q -- '--aws-sigv4' || install_packages curl
  curl --help all 2>/dev/null | grep -q -- '--aws-sigv4' ||
    die "this curl ($(curl --version | head -n 1)) has no --aws-sigv4; a curl 7.75 or newer is needed"
}

# psql on database DB of the benchmark's devstack, quiet and stopping at the first error; the
# arguments that follow go to psql (-c SQL, or SQL on stdin). PSQL is find_psql's answer.
sql_on() {
  local db=$1 state="$WORK/devstack.properties"
  shift
  PGPASSWORD=$(prop "$state" postgres.password) "$PSQL" -q -t -A -h "$(prop "$state" postgres.host)" \
    -p "$(prop "$state" postgres.port)" -U "$(prop "$state" postgres.username)" -d "$db" -v ON_ERROR_STOP=1 "$@"
}

# Prints the value at PATH (Python subscripts, e.g. '["jobs"][0]["job_id"]') of the JSON on stdin.
json_path() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval("d"+sys.argv[1]))' "$1"; }

# A request to the gateway with the benchmark's API key: METHOD PATH [curl options].
api() {
  local method=$1 path=$2
  shift 2
  curl -s -X "$method" "http://127.0.0.1:$GATEWAY_PORT$path" -H "x-api-key: $API_KEY" "$@"
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

TAKEN=" "
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 12000))
    case "$TAKEN" in *" $p "*) continue ;; esac
    port_in_use "$p" && continue
    TAKEN="$TAKEN$p "
    PORT=$p
    return 0
  done
}

# Reads KEY from a Java properties file (Properties.store escapes ':' and '=').
prop() {
  grep -m1 "^${2//./\\.}=" "$1" | sed -e 's/^[^=]*=//' -e 's/\\\(.\)/\1/g'
}

# Starts NAME's command in the background, logging to WORK/NAME.log. A Quarkus application
# (quarkus-run.jar) gets a free management port too (health and metrics answer there), which
# management_port NAME prints.
background() {
  local name=$1
  shift
  local -a command=("$@")
  if [ "$1" = java ] && [[ " $* " == *"/quarkus-run.jar "* ]]; then
    free_port
    echo "$PORT" >"$WORK/$name.management-port"
    command=(java "-Dquarkus.management.port=$PORT" "${@:2}")
  fi
  setsid "${command[@]}" >"$WORK/$name.log" 2>&1 </dev/null &
  PIDS+=("$!")
}

# The management port of an application started by background (health, metrics, build info).
management_port() {
  cat "$WORK/$1.management-port"
}

# Waits until NAME (pid PID) is ready: its health answers on its management port, or on its HTTP
# PORT where it has no management interface (a baseline built from an older commit).
wait_ready() {
  local name=$1 port=$2 pid=$3 waited=0 management
  management=$(management_port "$name" 2>/dev/null || true)
  until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:${management:-$port}/q/health/ready")" = 200 ] ||
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/q/health/ready")" = 200 ]; do
    kill -0 "$pid" 2>/dev/null || die "$name exited during startup (log: $WORK/$name.log)"
    [ "$waited" -ge "$START_TIMEOUT" ] && die "$name was not ready within ${START_TIMEOUT}s"
    sleep 1
    waited=$((waited + 1))
  done
}

# Writes identity keys to WORK/keys and starts a devstack (first in PIDS) with the databases
# DATABASES (comma-separated) and the JVM options that follow; waits for its state file.
start_devstack() {
  local databases=$1 waited=0
  shift
  java -jar "$ROOT/devstack/target/devstack.jar" keys --dir "$WORK/keys" >"$WORK/keys.log" 2>&1
  background devstack java "$@" -jar "$ROOT/devstack/target/devstack.jar" run \
    --data-dir "$WORK/data" --state-file "$WORK/devstack.properties" --databases "$databases"
  until [ -s "$WORK/devstack.properties" ]; do
    kill -0 "${PIDS[0]}" 2>/dev/null || die "devstack exited during startup"
    [ "$waited" -ge $((START_TIMEOUT * 2)) ] && die "devstack was not ready within ${START_TIMEOUT}s"
    sleep 0.5
    waited=$((waited + 1))
  done
}

# JVM options of an application: its database DB, Kafka, the object store, the public key.
app_options() {
  local state="$WORK/devstack.properties" pg
  pg="$(prop "$state" postgres.host):$(prop "$state" postgres.port)"
  printf '%s\n' "-Dquarkus.http.host=127.0.0.1" \
    "-Dquarkus.datasource.reactive.url=postgresql://$pg/$1" \
    "-Dquarkus.datasource.jdbc.url=jdbc:postgresql://$pg/$1" \
    "-Dquarkus.datasource.username=$(prop "$state" postgres.username)" \
    "-Dquarkus.datasource.password=$(prop "$state" postgres.password)" \
    "-Dkafka.bootstrap.servers=$(prop "$state" kafka.bootstrap.servers)" \
    "-Dmlinfra.s3.endpoint=$(prop "$state" s3.endpoint)" \
    "-Dmlinfra.s3.access-key=$(prop "$state" s3.access-key)" \
    "-Dmlinfra.s3.secret-key=$(prop "$state" s3.secret-key)" \
    "-Dmlinfra.s3.region=$(prop "$state" s3.region)" \
    "-Dmlinfra.s3.bucket=mlinfra" \
    "-Dmp.jwt.verify.publickey.location=file:$WORK/keys/identity-public.pem" \
    "-Dmlinfra.public-url=http://127.0.0.1:$GATEWAY_PORT"
}

b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }

# An identity token as the gateway mints it (gateway TokenMint: RS256, kid = the key's id, scopes
# as groups), valid for an hour so it outlives the benchmark. Services verify it with the PEM file.
mint_identity_token() {
  local key_id=$1 header claims now signature
  now=$(date +%s)
  header=$(printf '{"alg":"RS256","kid":"bench","typ":"JWT"}' | b64url)
  claims=$(printf '{"iss":"mlinfra-gateway","aud":"mlinfra-services","sub":"%s","jti":"bench-%s","iat":%d,"exp":%d,"team":"default","groups":["read","write","admin"]}' \
    "$key_id" "$now" "$now" $((now + 3600)) | b64url)
  signature=$(printf '%s.%s' "$header" "$claims" |
    openssl dgst -sha256 -sign "$WORK/keys/identity-private.pem" -binary | b64url)
  echo "$header.$claims.$signature"
}

# Stops what the benchmark started, newest first (devstack last: it stops its servers on
# SIGTERM), and shows the end of the logs when the run failed (STATUS is the exit status).
stop_started() {
  local status=$1 pid i
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    pid=${PIDS[i]}
    kill -TERM "$pid" 2>/dev/null || continue
    for _ in $(seq 1 60); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.5
    done
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  done
  if [ -n "$WORK" ] && [ "$status" -ne 0 ]; then
    say "logs of the failed run were in $WORK; the last lines:" >&2
    tail -n 15 "$WORK"/*.log >&2 2>/dev/null || true
  fi
}

# The EXIT trap of a benchmark: stops what it started, and what was started from its work folder
# without being its child (trainers, model servers), then removes the folder.
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  stop_started "$status"
  if [ -n "$WORK" ]; then
    pkill -TERM -f "$WORK/" 2>/dev/null || true
    rm -rf "$WORK"
  fi
  exit "$status"
}

# CPU ticks that the JIT compiler threads (C1, C2) of process PID have used so far.
compiler_ticks() {
  local task sum=0 ticks
  for task in /proc/"$1"/task/*; do
    case "$(cat "$task/comm" 2>/dev/null)" in
      "C1 Compiler"* | "C2 Compiler"*)
        ticks=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "$task/stat" 2>/dev/null || echo 0)
        sum=$((sum + ticks)) ;;
    esac
  done
  echo "$sum"
}

# Reads wrk's output (with --latency) and prints "requests_per_second p50_ms p99_ms non_2xx socket_errors".
wrk_summary() {
  awk '
    function ms(v) {
      if (v ~ /us$/) return substr(v, 1, length(v) - 2) / 1000
      if (v ~ /ms$/) return substr(v, 1, length(v) - 2) + 0
      if (v ~ /s$/) return substr(v, 1, length(v) - 1) * 1000
      return v + 0
    }
    $1 == "50%" { p50 = ms($2) }
    $1 == "99%" { p99 = ms($2) }
    $1 == "Requests/sec:" { rps = $2 }
    /Non-2xx or 3xx responses:/ { non2xx = $NF }
    /Socket errors:/ { errors = $0; sub(/.*Socket errors: /, "", errors); gsub(/ /, "", errors) }
    END { printf "%.0f %.3f %.3f %d %s\n", rps, p50, p99, non2xx, (errors == "" ? "none" : errors) }
  '
}

CLK_TCK=$(getconf CLK_TCK)

# CPU time (clock ticks, user + system) that the processes PID... and their descendants have used.
cpu_ticks() {
  local -a queue=("$@")
  local total=0 pid
  while [ "${#queue[@]}" -gt 0 ]; do
    pid=${queue[0]}
    queue=("${queue[@]:1}")
    [ -n "$pid" ] || continue
    total=$((total + $(own_cpu_ticks "$pid")))
    mapfile -t -O "${#queue[@]}" queue < <(pgrep -P "$pid" || true)
  done
  echo "$total"
}

# CPU time (clock ticks, user + system) of process PID alone, without its children.
own_cpu_ticks() {
  local ticks
  # fields 14 and 15 (utime, stime), counted after the ')' that ends the command's name
  ticks=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $12 + $13 }')
  echo "${ticks:-0}"
}
