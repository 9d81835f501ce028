#!/usr/bin/env bash
# Builds the browser explorer (explorer/, TypeScript with Vite) into
# explorer/dist, which trellisd serves with --explorer_dir=explorer/dist.
# npm's cache stays in ~/.npm; packages are the lockfile's exact versions.
# Runs the page's verification tests first (node --test).
set -euo pipefail
cd "$(dirname "$0")/../explorer"
# Vite 8 needs Node.js 20.19 or later.
if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number);
              process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' 2>/dev/null; then
  echo "explorer: needs Node.js 20.19 or later (have: $(node --version 2>&1))" >&2
  exit 1
fi
stamp=node_modules/.trellis-lock
if ! cmp -s package-lock.json "$stamp" 2>/dev/null; then
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
fi
log=$(mktemp)
npm test --silent >"$log" 2>&1 || { cat "$log" >&2; rm -f "$log"; exit 1; }
rm -f "$log"
npx tsc --noEmit -p .
npx vite build --logLevel=warn
echo "explorer: built into explorer/dist"
