# shellcheck shell=bash
# What the verification scripts share; source it. The tools' cache (VERIFY_CACHE_DIR, exported,
# defaulting to ~/.cache/envoy-edge-verify), and the PASS/FAIL lines a script of checks prints
# with their counters: `verify_checks TAG` starts them, then say, ok and bad. Each line carries the
# seconds since the script started (SECONDS), so a slow step shows in the log.
VERIFY_CACHE_DIR="${VERIFY_CACHE_DIR:-$HOME/.cache/envoy-edge-verify}"
export VERIFY_CACHE_DIR

verify_checks() { VERIFY_TAG="$1" PASSED=0 FAILED=0; }
say() { printf '[%s %ss] %s\n' "${VERIFY_TAG:-verify}" "$SECONDS" "$*" >&2; }
ok() { PASSED=$((PASSED + 1)); say "PASS: $*"; }
bad() { FAILED=$((FAILED + 1)); say "FAIL: $*"; }
