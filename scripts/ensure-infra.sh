#!/usr/bin/env bash
# Make sure PostgreSQL, Redis and RabbitMQ are installed and running on this machine, so that
# `make run` and `make test` work on a fresh Debian bookworm box (a container, usually as root).
#
#   scripts/ensure-infra.sh        # idempotent; well under a second when everything is already up
#
# Per service it prints one line, e.g. `postgres: running (already)`, `redis: started`,
# `rabbitmq: installed and started`. Errors go to stderr and the exit status is non-zero.
#
# Overrides: if DATABASE_URL / REDIS_URL / AMQP_URL point at another host (or at a local port other
# than the default 5432 / 6379 / 5672), that service is not managed here: the script only checks
# that it is reachable. Needs root for installing and starting; uses sudo when not root.
set -euo pipefail

export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

PG_PORT=5432
REDIS_PORT=6379
AMQP_PORT=5672
PG_TIMEOUT=${ENSURE_INFRA_PG_TIMEOUT:-60}
REDIS_TIMEOUT=${ENSURE_INFRA_REDIS_TIMEOUT:-20}
RABBIT_TIMEOUT=${ENSURE_INFRA_RABBIT_TIMEOUT:-90}
POLL=0.25
DATABASES=(cicero cicero_test)
HBA_MARKER='# Added by scripts/ensure-infra.sh'

die() { printf 'ensure-infra: error: %s\n' "$*" >&2; exit 1; }
note() { printf '%s\n' "$*" >&2; }

# --- privileges --------------------------------------------------------------------------------
# as_root WHY CMD...: run CMD as root (directly, or via sudo), or explain what is missing.
# fd 9 (the lock below) is closed for CMD, so that daemons it starts do not keep holding the lock.
as_root() {
    local why=$1; shift
    if [[ $EUID -eq 0 ]]; then
        "$@" 9>&-
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@" 9>&-
    else
        die "$why needs root, but this script runs as $(id -un) and sudo is not installed:" \
            "run it as root, or install sudo (it stopped at: $*)"
    fi
}

# Serialise concurrent runs (e.g. `make -j run test`); uncontended this costs a few ms.
if command -v flock >/dev/null 2>&1; then
    exec 9>"${TMPDIR:-/tmp}/cicero-ensure-infra.$EUID.lock"
    flock -w 300 9 || die "another scripts/ensure-infra.sh has held its lock for 5 minutes"
fi

# --- helpers -----------------------------------------------------------------------------------
# tcp_open HOST PORT: true if something accepts TCP connections there (3 s connect timeout).
tcp_open() {
    # shellcheck disable=SC2016  # $0/$1 are expanded by the inner bash
    timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$1" "$2" 2>/dev/null
}

# parse_url URL DEFAULT_PORT: sets URL_HOST and URL_PORT (scheme://[user[:pw]@]host[:port][/...]).
parse_url() {
    local rest=${1#*://}
    rest=${rest%%[/?#]*}
    rest=${rest##*@}
    rest=${rest%%,*}                        # libpq multi-host lists: use the first one
    if [[ $rest == \[*\]* ]]; then         # [ipv6]:port
        URL_HOST=${rest%%]*}; URL_HOST=${URL_HOST#[}
        URL_PORT=${rest#*]}; URL_PORT=${URL_PORT#:}
    elif [[ $rest == *:* ]]; then
        URL_HOST=${rest%%:*}; URL_PORT=${rest#*:}
    else
        URL_HOST=$rest; URL_PORT=
    fi
    URL_HOST=${URL_HOST:-127.0.0.1}
    URL_PORT=${URL_PORT:-$2}
}

# managed NAME ENVVAR DEFAULT_PORT: true if this script should install/start the service.
# Otherwise only checks that the configured endpoint is reachable, prints the status line, and
# returns false.
managed() {
    local name=$1 var=$2 port=$3 url=${!2:-}
    [[ -z $url ]] && return 0
    parse_url "$url" "$port"
    case $URL_HOST in
        localhost|127.*|::1|0:0:0:0:0:0:0:1)
            [[ $URL_PORT == "$port" ]] && return 0 ;;
    esac
    if tcp_open "$URL_HOST" "$URL_PORT"; then
        echo "$name: not managed, $var points at $URL_HOST:$URL_PORT (reachable)"
        return 1
    fi
    die "$name: $var points at $URL_HOST:$URL_PORT, which is not reachable (this script does not" \
        "manage it; start it there, or unset $var to use a local $name)"
}

# wait_for TIMEOUT CMD...: poll CMD every $POLL s until it succeeds (true) or TIMEOUT s pass (false).
wait_for() {
    local limit=$1; shift
    local deadline=$((SECONDS + limit))
    until "$@" >/dev/null 2>&1; do
        ((SECONDS < deadline)) || return 1
        sleep "$POLL"
    done
}

pg_ready()      { pg_isready -q -h 127.0.0.1 -p "$PG_PORT" -t 2; }
redis_ready()   { [[ $(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null) == PONG ]]; }
rabbit_ready()  { tcp_open 127.0.0.1 "$AMQP_PORT"; }
pg_server_installed() {
    command -v pg_ctlcluster >/dev/null 2>&1 && compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null
}

# psql as postgres over local TCP, never prompting for a password.
pg_sql() {
    PGCONNECT_TIMEOUT=5 psql -X -w -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres \
        -v ON_ERROR_STOP=1 -tA "$@"
}

# --- 1. probe (the fast path) ------------------------------------------------------------------
MANAGE_PG=0; MANAGE_REDIS=0; MANAGE_RABBIT=0
PG_UP=0; REDIS_UP=0; RABBIT_UP=0
if managed postgres DATABASE_URL "$PG_PORT"; then
    MANAGE_PG=1
    command -v pg_isready >/dev/null 2>&1 && pg_ready && PG_UP=1
fi
if managed redis REDIS_URL "$REDIS_PORT"; then
    MANAGE_REDIS=1
    command -v redis-cli >/dev/null 2>&1 && redis_ready && REDIS_UP=1
fi
if managed rabbitmq AMQP_URL "$AMQP_PORT"; then
    MANAGE_RABBIT=1
    rabbit_ready && RABBIT_UP=1
fi

# --- 2. install what is missing (one apt-get run) -----------------------------------------------
PKGS=()
if ((MANAGE_PG && !PG_UP)); then
    pg_server_installed || PKGS+=(postgresql)
fi
if ((MANAGE_PG)); then        # needed for the auth / database checks even when it already runs
    { command -v psql && command -v pg_isready; } >/dev/null 2>&1 || PKGS+=(postgresql-client)
fi
if ((MANAGE_REDIS && !REDIS_UP)); then
    command -v redis-server >/dev/null 2>&1 || PKGS+=(redis-server)
    command -v redis-cli >/dev/null 2>&1 || PKGS+=(redis-tools)
fi
if ((MANAGE_RABBIT && !RABBIT_UP)); then
    command -v rabbitmq-server >/dev/null 2>&1 || PKGS+=(rabbitmq-server)
fi

INSTALLED=" "
if ((${#PKGS[@]})); then
    command -v apt-get >/dev/null 2>&1 ||
        die "missing: ${PKGS[*]}, and apt-get is not available here; install them by hand"
    note "ensure-infra: installing ${PKGS[*]} (apt-get) ..."
    # Without systemd, keep package scripts from starting services (we start them below, the same
    # way every time); respect a policy-rc.d that is already there.
    policy_added=0
    if [[ ! -d /run/systemd/system && ! -e /usr/sbin/policy-rc.d ]]; then
        as_root "installing ${PKGS[*]}" sh -c 'printf "#!/bin/sh\nexit 101\n" > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d'
        policy_added=1
        trap 'as_root "removing /usr/sbin/policy-rc.d" rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    apt_log=$(mktemp)
    if ! as_root "installing ${PKGS[*]}" env DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 \
            apt-get update -q >"$apt_log" 2>&1 ||
       ! as_root "installing ${PKGS[*]}" env DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 \
            apt-get install -y -q --no-install-recommends "${PKGS[@]}" >>"$apt_log" 2>&1; then
        tail -n 30 "$apt_log" >&2
        die "apt-get failed while installing ${PKGS[*]} (full log: $apt_log)"
    fi
    rm -f "$apt_log"
    if ((policy_added)); then
        as_root "removing /usr/sbin/policy-rc.d" rm -f /usr/sbin/policy-rc.d
        trap - EXIT
    fi
    INSTALLED=" ${PKGS[*]} "
fi
installed() { [[ $INSTALLED == *" $1 "* ]]; }
status() {  # status NAME PACKAGE WAS_UP [EXTRA]
    local what
    if installed "$2"; then what="installed and started"
    elif (($3)); then what="running (already)"
    else what="started"
    fi
    echo "$1: $what${4:+; $4}"
}

# --- 3. PostgreSQL -----------------------------------------------------------------------------
if ((MANAGE_PG)); then
    PG_EXTRA=()
    if ((!PG_UP)); then
        # The cluster to use is the one configured on port 5432 (on a fresh machine: <version> main).
        read -r PG_VER PG_CLUSTER _ < <(pg_lsclusters -h 2>/dev/null | awk -v p="$PG_PORT" '$3 == p' ; true) || true
        if [[ -z ${PG_VER:-} ]]; then
            if [[ -n $(pg_lsclusters -h 2>/dev/null) ]]; then
                pg_lsclusters >&2
                die "postgres: no cluster is configured on port $PG_PORT (see above); set 'port = $PG_PORT'" \
                    "in its postgresql.conf, or point DATABASE_URL at the port it uses"
            fi
            PG_VER=$(printf '%s\n' /usr/lib/postgresql/*/bin/postgres | cut -d/ -f5 | sort -V | tail -n 1)
            PG_CLUSTER=main
            as_root "creating a PostgreSQL cluster" env LC_ALL=C.UTF-8 \
                pg_createcluster -p "$PG_PORT" "$PG_VER" "$PG_CLUSTER" --start >/dev/null ||
                die "postgres: pg_createcluster $PG_VER $PG_CLUSTER failed"
            PG_EXTRA+=("created cluster $PG_VER/$PG_CLUSTER")
        else
            rc=0
            as_root "checking the PostgreSQL cluster" pg_ctlcluster "$PG_VER" "$PG_CLUSTER" status >/dev/null 2>&1 || rc=$?
            if ((rc != 0)); then      # 3 = not running (0 = running but not accepting yet: just wait)
                as_root "starting PostgreSQL" \
                    pg_ctlcluster --skip-systemctl-redirect "$PG_VER" "$PG_CLUSTER" start ||
                    die "postgres: 'pg_ctlcluster --skip-systemctl-redirect $PG_VER $PG_CLUSTER start' failed" \
                        "(log: /var/log/postgresql/postgresql-$PG_VER-$PG_CLUSTER.log)"
            fi
        fi
        wait_for "$PG_TIMEOUT" pg_ready ||
            die "postgres: cluster $PG_VER/$PG_CLUSTER does not accept connections on 127.0.0.1:$PG_PORT" \
                "after ${PG_TIMEOUT}s (log: /var/log/postgresql/postgresql-$PG_VER-$PG_CLUSTER.log;" \
                "listen_addresses must include localhost)"
    fi

    # Passwordless TCP login as postgres from this machine (what the tests and `make run` use).
    if ! out=$(pg_sql -c 'select 1' 2>&1); then
        case $out in
            *"authentication failed"*|*"no password supplied"*|*"no pg_hba.conf entry"*) ;;
            *) die "postgres: cannot connect as postgres to 127.0.0.1:$PG_PORT: $out" ;;
        esac
        [[ -n ${PG_VER:-} ]] ||
            read -r PG_VER PG_CLUSTER _ < <(pg_lsclusters -h 2>/dev/null | awk -v p="$PG_PORT" '$3 == p' ; true) || true
        hba=/etc/postgresql/${PG_VER:-?}/${PG_CLUSTER:-?}/pg_hba.conf
        as_root "reading $hba" test -f "$hba" ||
            die "postgres: password login is required ($out) and $hba does not exist"
        if as_root "reading $hba" grep -qF "$HBA_MARKER" "$hba"; then
            die "postgres: $hba already has the trust lines from this script, yet login fails: $out"
        fi
        backup="$hba.$(date +%Y%m%d%H%M%S).bak"
        # shellcheck disable=SC2016  # positional parameters of the inner sh
        as_root "editing $hba" sh -c '
            cp -p "$1" "$2" &&
            { printf "%s (passwordless TCP from this machine, development only):\n" "$3"
              printf "host    all             all             127.0.0.1/32            trust\n"
              printf "host    all             all             ::1/128                 trust\n"
              cat "$2"; } > "$1"' sh "$hba" "$backup" "$HBA_MARKER"
        as_root "reloading PostgreSQL" \
            pg_ctlcluster --skip-systemctl-redirect "$PG_VER" "$PG_CLUSTER" reload >/dev/null
        note "postgres: login as postgres over TCP needed a password ($out)"
        note "postgres: added 'host all all 127.0.0.1/32 trust' and 'host all all ::1/128 trust' at the" \
             "top of $hba (backup: $backup) and reloaded"
        wait_for 10 pg_sql -c 'select 1' ||
            die "postgres: still cannot log in as postgres over TCP after the pg_hba.conf change: $(pg_sql -c 'select 1' 2>&1 || true)"
        PG_EXTRA+=("trust auth for 127.0.0.1 and ::1 in $hba")
    fi

    # Databases: cicero, cicero_test and the one named in a local DATABASE_URL.
    dbs=("${DATABASES[@]}")
    if [[ -n ${DATABASE_URL:-} ]]; then
        db=${DATABASE_URL##*/}; db=${db%%\?*}
        [[ $db =~ ^[A-Za-z_][A-Za-z0-9_]*$ && " ${dbs[*]} " != *" $db "* ]] && dbs+=("$db")
    fi
    in_list=$(printf "'%s'," "${dbs[@]}")
    have=" $(pg_sql -c "select string_agg(datname, ' ') from pg_database where datname in (${in_list%,})") "
    for db in "${dbs[@]}"; do
        [[ $have == *" $db "* ]] && continue
        if ! err=$(pg_sql -c "create database \"$db\"" 2>&1); then
            # a concurrent test run may have created it in the meantime
            [[ $(pg_sql -c "select 1 from pg_database where datname = '$db'") == 1 ]] ||
                die "postgres: could not create database $db: $err"
        fi
        PG_EXTRA+=("created database $db")
    done
    extra=
    for e in "${PG_EXTRA[@]}"; do extra+="${extra:+; }$e"; done
    status postgres postgresql "$PG_UP" "$extra"
fi

# --- 4. Redis ----------------------------------------------------------------------------------
if ((MANAGE_REDIS)); then
    if ((!REDIS_UP)); then
        if tcp_open 127.0.0.1 "$REDIS_PORT"; then
            die "redis: something listens on 127.0.0.1:$REDIS_PORT but does not answer PING with PONG" \
                "(password set? another program?): $(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>&1 || true)"
        fi
        as_root "starting Redis" mkdir -p /var/lib/redis /var/log/redis
        as_root "starting Redis" redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" \
            --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log >/dev/null ||
            die "redis: redis-server failed to start (log: /var/log/redis/ci.log)"
        wait_for "$REDIS_TIMEOUT" redis_ready || {
            as_root "reading the Redis log" tail -n 15 /var/log/redis/ci.log >&2 || true
            die "redis: not answering PING on 127.0.0.1:$REDIS_PORT after ${REDIS_TIMEOUT}s (log: /var/log/redis/ci.log)"
        }
    fi
    status redis redis-server "$REDIS_UP"
fi

# --- 5. RabbitMQ -------------------------------------------------------------------------------
# The node's short name: `rabbit` unless /etc/rabbitmq/rabbitmq-env.conf says otherwise.
RABBIT_NODE=$(sed -n 's/^\(RABBITMQ_\)\{0,1\}NODENAME=["'"'"']\{0,1\}\([^@"'"'"']*\).*/\2/p' \
    /etc/rabbitmq/rabbitmq-env.conf 2>/dev/null | tail -n 1)
RABBIT_NODE=${RABBIT_NODE:-rabbit}
rabbit_node_registered() {   # the Erlang node has registered with epmd (it is booting or running)
    command -v epmd >/dev/null 2>&1 && epmd -names 2>/dev/null | grep -q "^name $RABBIT_NODE at port"
}
rabbit_fail() {
    note "--- tail of the RabbitMQ logs:"
    as_root "reading the RabbitMQ logs" sh -c 'tail -n 20 /var/log/rabbitmq/startup_err /var/log/rabbitmq/rabbit@*.log' >&2 2>/dev/null || true
    die "rabbitmq: $* (logs: /var/log/rabbitmq/)"
}
if ((MANAGE_RABBIT)); then
    if ((!RABBIT_UP)); then
        started=$SECONDS; deadline=$((SECONDS + RABBIT_TIMEOUT))
        if ! rabbit_node_registered; then
            as_root "starting RabbitMQ" rabbitmq-server -detached >/dev/null 2>&1 ||
                rabbit_fail "'rabbitmq-server -detached' failed"
        fi
        until rabbit_ready; do
            ((SECONDS < deadline)) ||
                rabbit_fail "port $AMQP_PORT on 127.0.0.1 not open after ${RABBIT_TIMEOUT}s"
            # the node registers with epmd early in its boot; if it is gone, it has crashed
            if ((SECONDS - started > 15)) && command -v epmd >/dev/null 2>&1 && ! rabbit_node_registered; then
                rabbit_fail "the node stopped while booting"
            fi
            sleep "$POLL"
        done
        left=$((deadline - SECONDS)); ((left >= 5)) || left=5
        as_root "waiting for RabbitMQ" timeout "$((left + 5))" \
            rabbitmqctl -q --timeout "$left" await_startup >/dev/null 2>&1 ||
            rabbit_fail "'rabbitmqctl await_startup' did not succeed within ${RABBIT_TIMEOUT}s"
    fi
    status rabbitmq rabbitmq-server "$RABBIT_UP"
fi
