#!/usr/bin/env bash
# Fails, saying what to run, when package.json and package-lock.json disagree, that is when
# `npm install` would rewrite the lock file. npm decides, not a comparison written here: it runs
# `npm install --package-lock-only` on copies of the two files and compares the lock file it writes
# with the committed one, byte for byte. When they agree that needs neither the network nor npm's
# cache (a few seconds). `npm ci` alone is not enough: it refuses a lock file that lacks a package,
# but accepts one that still lists a dependency package.json no longer names.
#
#   bash scripts/check-lock-file.sh [DIR]    DIR holds package.json and package-lock.json
#                                            (default: this repository; tests use a copy)
set -euo pipefail
dir="${1:-$(dirname "${BASH_SOURCE[0]}")/..}"
# npm before 11.11.0 never writes the lock file's "libc" fields (npm/cli#9025): it would rewrite a
# lock file that agrees, so this check needs at least the npm that wrote it, package.json's
# devEngines.packageManager.version (">=X.Y.Z"). A package.json npm cannot read is npm's to report.
floor="$(node -p 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).devEngines?.packageManager?.version ?? ""' \
  "$dir/package.json" 2>/dev/null || true)"
have="$(npm --version)"
if [[ "$floor" == ">="* ]] && [ "$(printf '%s\n' "${floor#>=}" "$have" | sort -V | head -n 1)" != "${floor#>=}" ]; then
  echo "npm $have is older than the npm package-lock.json is written with (${floor#>=}, package.json's" \
    "devEngines): it drops the lock file's libc fields, so it would find a difference where there is" \
    "none. Install npm ${floor#>=} or later (\`npm install -g npm@11\`) and run again." >&2
  exit 1
fi
copy="$(mktemp -d)"
trap 'rm -rf "$copy"' EXIT
cp "$dir/package.json" "$dir/package-lock.json" "$copy/"
# The project's npm settings (how the lock file is written) apply to the copy too.
if [ -f "$dir/.npmrc" ]; then cp "$dir/.npmrc" "$copy/"; fi
# --prefix: under `npm test`, npm's own npm_config_* variables are in the environment.
# --prefer-offline: when they disagree, npm may need a manifest; from the cache if it has it.
if ! (cd "$copy" && npm install --prefix "$copy" --package-lock-only --prefer-offline \
  --ignore-scripts --no-audit --no-fund --loglevel=error >"$copy/npm-output" 2>&1); then
  cat "$copy/npm-output" >&2
  echo "package.json and package-lock.json: \`npm install --package-lock-only\` failed (above)." >&2
  echo "Fix package.json, then run \`npm install\` and commit package-lock.json with it." >&2
  exit 1
fi
if ! cmp -s "$dir/package-lock.json" "$copy/package-lock.json"; then
  diff -u --label "package-lock.json (committed)" --label "package-lock.json (as npm install writes it)" \
    "$dir/package-lock.json" "$copy/package-lock.json" | head -n 60 >&2 || true
  echo "package.json and package-lock.json disagree: \`npm install\` would change package-lock.json" \
    "(diff above, first 60 lines). Run \`npm install\` and commit package-lock.json with package.json." >&2
  exit 1
fi
