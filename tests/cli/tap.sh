# Shared by the CLI test scripts (run-cli.sh, run-hygiene.sh): TAP lines for commands run in $WORK. The caller sets
# WORK and starts n=0 failed=0, then ends with `echo "1..$n"; [ "$failed" -eq 0 ]`.

ok() { # ok NAME COMMAND...: passes when the command succeeds
    local name=$1
    shift
    n=$((n + 1))
    if "$@" >"$WORK/out.$n" 2>&1; then
        echo "ok $n - $name"
    else
        echo "not ok $n - $name"
        sed 's/^/# /' "$WORK/out.$n" | tail -20
        failed=$((failed + 1))
    fi
}
