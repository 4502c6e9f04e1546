# bench/scale.sh: the scale rows of bench/run (sourced by it; `bench/run scale`
# runs them alone). N logged-in idle sessions for each N of SCALE_NS, held
# by one `loadgen hold`, against a popperd and a Dovecot with their
# per-session limits raised; then a login storm. One repetition per N (a
# 10,000-session hold is minutes of logins), so each row is one sitting's
# number; the active-session rows are medians of ACTIVE_REPS runs.
#
# Uses from bench/run: TOOLS POPPERD DOVECOT W OWNER PASS RESULTS QUICK
# record emit own say die vmhwm_of write_dovecot_conf now_ns ms_since calc.

if [ "$QUICK" = 1 ]; then
    SCALE_NS="50 200" STORM_CLIENTS=100 ACTIVE_SECONDS=0.5 ACTIVE_REPS=1
else
    SCALE_NS="1000 5000 10000" STORM_CLIENTS=2000 ACTIVE_SECONDS=3 ACTIVE_REPS=3
fi
ACTIVE_CLIENTS=8               # the issue's "8 further clients"
SCALE_MSGS=2 SCALE_MSG_SIZE=2048 # small mailboxes
SCALE_MAX=0
for n in $SCALE_NS; do [ "$n" -gt "$SCALE_MAX" ] && SCALE_MAX=$n; done
[ "$STORM_CLIENTS" -gt "$SCALE_MAX" ] && SCALE_MAX=$STORM_CLIENTS
SCALE_LIMIT=$((SCALE_MAX + 200)) # max_sessions: the held, the active, the storm

# Every process below `root` (a server's listener or master) and itself.
process_tree() { # root-pid
    ps -e -o pid=,ppid= | awk -v root="$1" '
        { parent[$1] = $2; pids[NR] = $1 }
        END {
            for (i = 1; i <= NR; i++) {
                p = pids[i]; q = p
                for (d = 0; d < 64 && q != "" && q != 0; d++) {
                    if (q == root) { print p; break }
                    q = parent[q]
                }
            }
        }'
}
# Sum of Pss (KiB) over a server's processes, and how many there are.
pss_of_tree() { # root-pid -> "kib processes"
    local pids
    pids=$(process_tree "$1" | sed 's#.*#/proc/&/smaps_rollup#')
    # shellcheck disable=SC2086
    awk '/^Pss:/ { s += $2; n++ } END { printf "%d %d\n", s, n }' $pids 2>/dev/null
}

scale_fixtures() {
    SF=$W/scale
    mkdir -p "$SF"
    "$TOOLS/mboxgen" --messages $SCALE_MSGS --size $SCALE_MSG_SIZE --seed 11 --out "$SF/box.mbox" 2>/dev/null
    [ -n "${HASH:-}" ] || HASH=$(openssl passwd -6 -salt popperdbench2026 "$PASS")
    SCALE_USERS=$(
        seq -f 'u%.0f' 0 $((SCALE_MAX - 1))
        seq -f 'a%.0f' 0 $((ACTIVE_CLIENTS - 1))
    )
    # popperd
    SP=$SF/popperd
    mkdir -p "$SP/spool" "$SP/drop"
    own "$SP/spool" "$SP/drop"
    for u in $SCALE_USERS; do printf '%s:%s:%s:%s::/nonexistent:\n' "$u" "$HASH" "${OWNER%:*}" "${OWNER#*:}"; done >"$SP/users"
    chmod 600 "$SP/users"
    cat >"$SP/popperd.conf" <<CONF
listen = 127.0.0.1:0
users_file = $SP/users
spool_dir = $SP/spool
drop_dir = $SP/drop
pidfile = $SP/popperd.pid
log = stderr
log_level = notice
auth_failure_delay = 0ms
idle_timeout = 30m
max_sessions = $SCALE_LIMIT
max_sessions_per_ip = $SCALE_LIMIT
CONF
    # Dovecot
    if [ -n "$DOVECOT" ]; then
        SD=$SF/dovecot
        mkdir -p "$SD/spool" "$SD/home"
        own "$SD/spool"
        for u in $SCALE_USERS; do
            printf '%s:{CRYPT}%s:%s:%s::%s::\n' "$u" "$HASH" "${OWNER%:*}" "${OWNER#*:}" "$SD/home/$u"
        done >"$SD/passwd"
        chmod 640 "$SD/passwd"
        chgrp dovecot "$SD/passwd" 2>/dev/null || true
        (cd "$SD/home" && printf '%s/mail\n' $SCALE_USERS | xargs mkdir -p)
        chown -R "$OWNER" "$SD/home"
        # As Dovecot's docs say for many connections (doc.dovecot.org,
        # "Service configuration", "Login processes"): process and client
        # limits above the connections to hold. The pop3 service has its own
        # process_limit (1024 built in), which default_process_limit does
        # not raise; default_client_limit stays within our descriptors.
        {
            D=$SD write_dovecot_conf scale "$("$TOOLS/loadgen" freeport)"
            echo "default_process_limit = $((SCALE_LIMIT + 100))"
            echo "default_client_limit = $((SCALE_LIMIT + 1000))"
            echo "service pop3 {"
            echo "  process_limit = $((SCALE_LIMIT + 100))"
            echo "}"
        } >"$SD/scale.conf"
    fi
    scale_refill popperd
    [ -z "$DOVECOT" ] || scale_refill dovecot
}
scale_spool_dir() { case $1 in popperd) echo "$SP/spool" ;; *) echo "$SD/spool" ;; esac; }
# Every scale user's mailbox as delivered; Dovecot's ~/mail state cleared.
scale_refill() { # server
    local dir
    dir=$(scale_spool_dir "$1")
    find "$dir" -mindepth 1 -delete
    [ "$1" != popperd ] || find "$SP/drop" -mindepth 1 -delete
    local box u
    box=$(cat "$SF/box.mbox"; echo x) # the x keeps the final newline
    box=${box%x}
    for u in $SCALE_USERS; do printf '%s' "$box" >"$dir/$u"; done # no fork per file
    chmod 600 "$dir"/*
    [ "$(id -u)" != 0 ] || chown "$OWNER" "$dir"/*
}
# Mail intact after sessions that deleted nothing. popperd: every spool byte
# for byte as delivered and no drop left behind. Dovecot writes its own
# headers (X-UID, Status) into an mbox it has served: every spool still
# holds its messages.
scale_check_intact() { # server
    local dir bad want
    dir=$(scale_spool_dir "$1")
    if [ "$1" = popperd ]; then
        want=$(sha1sum <"$SF/box.mbox" | cut -d' ' -f1)
        bad=$(cd "$dir" && sha1sum -- * | awk -v w="$want" '$1 != w { print $2 }')
        [ -z "$bad" ] || die "popperd: mailboxes changed after the scale run: $(echo $bad | cut -c1-200)"
        bad=$(find "$SP/drop" -name '*.pop*')
        [ -z "$bad" ] || die "popperd left drop files after the scale run: $(echo $bad | cut -c1-200)"
    else
        bad=$(cd "$dir" && grep -c '^From ' -- * | awk -F: -v m=$SCALE_MSGS '$2 != m { print $1 }')
        [ -z "$bad" ] || die "$1: mailboxes without their $SCALE_MSGS messages: $(echo $bad | cut -c1-200)"
    fi
    return 0
}

SCALE_PORT=
SCALE_PID=
scale_start() { # server
    local log i
    if [ "$1" = popperd ]; then
        log=$SP/popperd.log
        : >"$log"
        "$POPPERD" -f -c "$SP/popperd.conf" 2>>"$log" &
        SCALE_PID=$!
        SCALE_PORT=
        for i in $(seq 200); do
            SCALE_PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log" | head -1)
            [ -n "$SCALE_PORT" ] && break
            sleep 0.1
        done
        [ -n "$SCALE_PORT" ] || { cat "$log" >&2; die "popperd (scale) did not start"; }
    else
        SCALE_PORT=$(sed -n 's/^    port = \([0-9]*\)$/\1/p' "$SD/scale.conf" | head -1)
        "$DOVECOT" -F -c "$SD/scale.conf" 2>>"$SD/scale.log" &
        SCALE_PID=$!
        wait_port "$SCALE_PORT" || { cat "$SD/scale.log" >&2; die "dovecot (scale) did not start"; }
    fi
    SERVER_PIDS+=("$SCALE_PID")
}
scale_stop() {
    kill "$SCALE_PID" 2>/dev/null || true
    wait "$SCALE_PID" 2>/dev/null || true
}

scale_active() { # server label
    local rep
    for rep in $(seq $ACTIVE_REPS); do
        record "$TOOLS/loadgen" sessions --port "$SCALE_PORT" --pass "$PASS" --server "$1" \
            --concurrency $ACTIVE_CLIENTS --seconds $ACTIVE_SECONDS --user-prefix a \
            --users $ACTIVE_CLIENTS --expect-count $SCALE_MSGS --name "scale.active.$2"
    done
}

# N held sessions on one server: login time, memory, the active rows, then
# QUIT for all (Dovecot) or SIGTERM to the listener (popperd: the drain row).
scale_hold() { # server n
    local s=$1 n=$2 ctl=$SF/hold.ctl ready=$SF/hold.ready out=$SF/hold.out hold_pid t pss
    rm -f "$ctl" "$ready"
    mkfifo "$ctl"
    "$TOOLS/loadgen" hold --port "$SCALE_PORT" --pass "$PASS" --server "$s" --user-prefix u \
        --users "$n" --concurrency 100 --expect-count $SCALE_MSGS --ready-file "$ready" \
        --name "scale.n$n" <"$ctl" >"$out" 2>"$SF/hold.err" &
    hold_pid=$!
    exec 7>"$ctl"
    while [ ! -e "$ready" ]; do
        kill -0 $hold_pid 2>/dev/null || { cat "$SF/hold.err" >&2; die "loadgen hold failed"; }
        sleep 0.5
    done
    cat "$out" | tee -a "$RESULTS"
    sleep 2 # let the last sessions settle (pre-login processes gone)
    read -r pss procs <<<"$(pss_of_tree "$SCALE_PID")"
    emit "scale.n$n.pss_per_session" "$s" "$(calc "$pss / $n")" KiB "pss_total_kb=$pss processes=$procs"
    emit "scale.n$n.listener_vmhwm" "$s" "$(vmhwm_of "$SCALE_PID")" KiB
    scale_active "$s" "n$n"
    if [ "$s" = popperd ]; then
        echo drain >&7
        t=$(now_ns)
        kill -TERM "$SCALE_PID"
        wait "$SCALE_PID" 2>/dev/null || true
        emit "scale.n$n.sigterm_exit" "$s" "$(ms_since "$t")" ms "sessions=$n"
    else
        echo quit >&7
    fi
    exec 7>&-
    wait $hold_pid || die "loadgen hold failed: $(cat "$SF/hold.err")"
    tail -n +3 "$out" | tee -a "$RESULTS"
    rm -f "$ctl"
}

scale_main() {
    local s n avail per
    say "scale: N held sessions for N = $SCALE_NS, a storm of $STORM_CLIENTS; ${ACTIVE_CLIENTS} active clients"
    ulimit -n $((4 * SCALE_LIMIT + 1000)) 2>/dev/null || ulimit -n "$(ulimit -Hn)"
    scale_fixtures
    SCALE_SERVERS=popperd
    [ -z "$DOVECOT" ] || SCALE_SERVERS="popperd dovecot"
    for s in $SCALE_SERVERS; do
        scale_start "$s"
        say "scale: $s with none held"
        read -r pss procs <<<"$(pss_of_tree "$SCALE_PID")"
        emit scale.idle_pss "$s" "$pss" KiB "processes=$procs"
        scale_active "$s" n0
        scale_stop
    done
    for n in $SCALE_NS; do
        for s in $SCALE_SERVERS; do
            if [ "$s" = dovecot ] && [ -n "${DOVECOT_PER_SESSION_KB:-}" ]; then
                avail=$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo)
                if [ "$(calc "(($n * $DOVECOT_PER_SESSION_KB * 1.5) > $avail) ? 1 : 0")" = 1 ]; then
                    say "scale: skipping Dovecot at $n: $n × ${DOVECOT_PER_SESSION_KB} KiB × 1.5 > MemAvailable ${avail} KiB"
                    emit "scale.n$n.skipped" "$s" "$avail" KiB "reason=memory"
                    continue
                fi
            fi
            say "scale: $s holding $n sessions"
            scale_start "$s"
            scale_hold "$s" "$n"
            [ "$s" = popperd ] || scale_stop
            if [ "$s" = dovecot ]; then
                per=$(grep "name=scale.n$n.pss_per_session server=dovecot " "$RESULTS" | tail -1 | sed 's/.* value=\([0-9.]*\).*/\1/')
                DOVECOT_PER_SESSION_KB=$per
            fi
            scale_check_intact "$s"
        done
    done
    for s in $SCALE_SERVERS; do
        say "scale: $s, a storm of $STORM_CLIENTS clients within 1 s"
        scale_start "$s"
        record "$TOOLS/loadgen" storm --port "$SCALE_PORT" --pass "$PASS" --server "$s" \
            --user-prefix u --clients $STORM_CLIENTS --within 1 --expect-count $SCALE_MSGS \
            --name scale.storm
        # The same storm with no password checks in the way: what the
        # greeting costs alone (fork, sandbox, greeting), against the above.
        record "$TOOLS/loadgen" storm --port "$SCALE_PORT" --pass "$PASS" --server "$s" \
            --user-prefix u --clients $STORM_CLIENTS --within 1 --greeting-only \
            --name scale.storm_greeting_only
        scale_stop
        scale_check_intact "$s"
    done
}

# The scale table: one column per server, then the targets of issue 17.
scale_table() {
    local n s
    val() { stat_of "$1" "$2" 3; }
    extra() { grep "name=$1 server=$2 " "$RESULTS" | tail -1 | sed -n "s/.* $3=\([^ ]*\).*/\1/p"; }
    active_cell() { # label server
        local r p50 p99
        r=$(val "scale.active.$1" "$2")
        [ -n "$r" ] || { echo "—"; return; }
        p50=$(extra "scale.active.$1" "$2" p50_ms)
        p99=$(extra "scale.active.$1" "$2" p99_ms)
        echo "$(fmt "$r")/s, p50 $(fmt "$p50") ms, p99 $(fmt "$p99") ms"
    }
    echo "## Scale: held sessions and a login storm"
    echo
    echo "Each N held by one client process (100 logins in flight), $SCALE_MSGS × $((SCALE_MSG_SIZE / 1024)) KiB per mailbox, distinct users;" \
        "popperd with max_sessions = $SCALE_LIMIT; Dovecot (shipped mode) with default_process_limit and \`service pop3 { process_limit }\` = $((SCALE_LIMIT + 100))," \
        "default_client_limit = $((SCALE_LIMIT + 1000)). PSS per session = the sum of Pss over all the server's processes ÷ N." \
        "Active: $ACTIVE_CLIENTS further clients, connect…QUIT, ${ACTIVE_SECONDS} s × $ACTIVE_REPS (median rate; p50/p99 of the last run)."
    echo
    echo "| row | popperd | Dovecot | popperd/Dovecot |"
    echo "| --- | --- | --- | --- |"
    echo "| server's PSS, nothing held (KiB) | $(fmt "$(val scale.idle_pss popperd)") | $(fmt "$(val scale.idle_pss dovecot)") | $(ratio "$(val scale.idle_pss popperd)" "$(val scale.idle_pss dovecot)") |"
    echo "| active sessions, none held | $(active_cell n0 popperd) | $(active_cell n0 dovecot) | $(ratio "$(val scale.active.n0 popperd)" "$(val scale.active.n0 dovecot)") |"
    for n in $SCALE_NS; do
        echo "| **N = $(thousands "$n")**: held / errors | $(extra scale.n$n.login_all popperd held) / $(fmt "$(val scale.n$n.errors popperd)") | $(extra scale.n$n.login_all dovecot held) / $(fmt "$(val scale.n$n.errors dovecot)") | |"
        echo "| N = $(thousands "$n"): time to log all in (s) | $(fmt "$(val scale.n$n.login_all popperd)") | $(fmt "$(val scale.n$n.login_all dovecot)") | $(ratio "$(val scale.n$n.login_all popperd)" "$(val scale.n$n.login_all dovecot)") |"
        echo "| N = $(thousands "$n"): PSS per held session (KiB) | $(fmt "$(val scale.n$n.pss_per_session popperd)") | $(fmt "$(val scale.n$n.pss_per_session dovecot)") | $(ratio "$(val scale.n$n.pss_per_session popperd)" "$(val scale.n$n.pss_per_session dovecot)") |"
        echo "| N = $(thousands "$n"): listener VmHWM (KiB; Dovecot: master) | $(fmt "$(val scale.n$n.listener_vmhwm popperd)") | $(fmt "$(val scale.n$n.listener_vmhwm dovecot)") | |"
        echo "| N = $(thousands "$n"): active sessions while held | $(active_cell n$n popperd) | $(active_cell n$n dovecot) | $(ratio "$(val scale.active.n$n popperd)" "$(val scale.active.n$n dovecot)") |"
        echo "| N = $(thousands "$n"): active rate held / none | $(percent "$(val scale.active.n$n popperd)" "$(val scale.active.n0 popperd)") | $(percent "$(val scale.active.n$n dovecot)" "$(val scale.active.n0 dovecot)") | |"
        echo "| N = $(thousands "$n"): popperd SIGTERM → listener exit (ms); goodbyes / resets / errors | $(fmt "$(val scale.n$n.sigterm_exit popperd)"); $(extra scale.n$n.drain popperd goodbyes) / $(extra scale.n$n.drain popperd resets) / $(extra scale.n$n.drain popperd errors) | (QUIT of all: $(fmt "$(val scale.n$n.quit dovecot)") s) | |"
    done
    echo "| storm of $(thousands $STORM_CLIENTS) in 1 s: connect→greeting p50 / p99 (ms) | $(fmt "$(val scale.storm.greeting_p50 popperd)") / $(fmt "$(val scale.storm.greeting_p99 popperd)") | $(fmt "$(val scale.storm.greeting_p50 dovecot)") / $(fmt "$(val scale.storm.greeting_p99 dovecot)") | $(ratio "$(val scale.storm.greeting_p99 popperd)" "$(val scale.storm.greeting_p99 dovecot)") |"
    echo "| storm: connect→+OK after PASS p50 / p99 (ms) | $(fmt "$(val scale.storm.pass_p50 popperd)") / $(fmt "$(val scale.storm.pass_p99 popperd)") | $(fmt "$(val scale.storm.pass_p50 dovecot)") / $(fmt "$(val scale.storm.pass_p99 dovecot)") | $(ratio "$(val scale.storm.pass_p99 popperd)" "$(val scale.storm.pass_p99 dovecot)") |"
    echo "| storm, greetings only (no login): connect→greeting p50 / p99 (ms) | $(fmt "$(val scale.storm_greeting_only.greeting_p50 popperd)") / $(fmt "$(val scale.storm_greeting_only.greeting_p99 popperd)") | $(fmt "$(val scale.storm_greeting_only.greeting_p50 dovecot)") / $(fmt "$(val scale.storm_greeting_only.greeting_p99 dovecot)") | $(ratio "$(val scale.storm_greeting_only.greeting_p99 popperd)" "$(val scale.storm_greeting_only.greeting_p99 dovecot)") |"
    echo "| storm: errors / resets / refused | $(fmt "$(val scale.storm.errors popperd)") / $(extra scale.storm.errors popperd resets) / $(fmt "$(val scale.storm.refused popperd)") | $(fmt "$(val scale.storm.errors dovecot)") / $(extra scale.storm.errors dovecot resets) / $(fmt "$(val scale.storm.refused dovecot)") | |"
    echo
    echo "### Targets of issue 17 (this run)"
    echo
    echo "| target | measured | goal | met |"
    echo "| --- | --- | --- | --- |"
    local top=${SCALE_NS##* } held errs pss dpss r
    held=$(extra "scale.n$top.login_all" popperd held)
    errs=$(val "scale.n$top.errors" popperd)
    met() { if [ -z "$1" ] || [ "$1" = — ]; then echo —; elif [ "$(calc "($2) ? 1 : 0")" = 1 ]; then echo yes; else echo no; fi; }
    echo "| $(thousands "$top") sessions held, 0 errors | ${held:-—} held, ${errs:-—} errors | $top held, 0 errors | $(met "$held" "${held:-0} == $top && ${errs:-1} == 0") |"
    pss=$(val "scale.n$top.pss_per_session" popperd)
    echo "| PSS per held session at $(thousands "$top") | $(fmt "$pss") KiB | ≤ 150 KiB | $(met "$pss" "${pss:-0} <= 150") |"
    dpss=
    for n in $SCALE_NS; do
        [ -n "$(val "scale.n$n.pss_per_session" dovecot)" ] || continue
        r=$(ratio "$(val "scale.n$n.pss_per_session" popperd)" "$(val "scale.n$n.pss_per_session" dovecot)")
        echo "| PSS per held session vs Dovecot's at $(thousands "$n") | $r× | ≤ 0.5× | $(met "$r" "$r <= 0.5") |"
    done
    r=$(calc "$(val "scale.active.n$top" popperd) / $(val scale.active.n0 popperd)" 2>/dev/null || true)
    echo "| active rate with $(thousands "$top") held vs none | $(percent "$(val "scale.active.n$top" popperd)" "$(val scale.active.n0 popperd)") | ≥ 80 % | $(met "$r" "${r:-0} >= 0.8") |"
    r=$(val scale.storm.greeting_p99 popperd)
    echo "| storm p99 connect→greeting | $(fmt "$r") ms | ≤ 100 ms | $(met "$r" "${r:-1e9} <= 100") |"
    r=$(val scale.storm.errors popperd)
    echo "| storm: connections lost (resets, closes without a reply) | $(fmt "$r") | 0 | $(met "$r" "${r:-1} == 0") |"
}
