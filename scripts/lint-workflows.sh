#!/usr/bin/env bash
# The CI workflow shipped for the user's repository (.github/workflows/) must pass actionlint, built
# from its Go module by scripts/cluster/build-tools.sh. A copy with an unknown runner label must be
# refused, so a linter that checks nothing cannot pass.
set -euo pipefail
cd "$(dirname "$0")/.."
. "$(bash scripts/cluster/build-tools.sh)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

"$VERIFY_ACTIONLINT" -no-color .github/workflows/*.yml
echo "actionlint $("$VERIFY_ACTIONLINT" -version | head -n1): $(ls .github/workflows/*.yml | wc -l) workflow file(s) pass"

sed 's/runs-on: ubuntu-latest/runs-on: ubuntu-latestt/' .github/workflows/ci.yml >"$work/broken.yml"
if "$VERIFY_ACTIONLINT" -no-color "$work/broken.yml" >"$work/out.txt" 2>&1; then
  echo "actionlint passed a workflow with an unknown runner label" >&2
  exit 1
fi
echo "and refuses a copy with an unknown runner label: $(grep -o 'label "[^"]*" is unknown' "$work/out.txt")"
