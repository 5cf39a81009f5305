# shellcheck shell=bash
# What the verification scripts share; source it. The tools' cache (VERIFY_CACHE_DIR, exported,
# defaulting to ~/.cache/envoy-edge-verify), and the log lines of a verification script:
# `verify_checks TAG` starts the counters, `say` logs, `bad` counts a failure of the script's own
# (the checks themselves are TypeScript scenarios). Each line carries the seconds since the script
# started (SECONDS), so a slow step shows in the log.
VERIFY_CACHE_DIR="${VERIFY_CACHE_DIR:-$HOME/.cache/envoy-edge-verify}"
export VERIFY_CACHE_DIR

verify_checks() { VERIFY_TAG="$1" PASSED=0 FAILED=0; }
say() { printf '[%s %ss] %s\n' "${VERIFY_TAG:-verify}" "$SECONDS" "$*" >&2; }
bad() { FAILED=$((FAILED + 1)); say "FAIL: $*"; }
