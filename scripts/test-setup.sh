#!/usr/bin/env bash
# Installs what the test suite needs beyond node_modules, when it is missing: redis-server (the
# integration tests start their own), Chromium at /usr/bin/chromium (browser tests),
# docker-compose (the compose file is validated), Caddy (deploy/caddy is validated, and run in
# front of two nodes by test/integration/caddy-proxy.test.ts), nginx (deploy/nginx, run the same way
# by test/integration/nginx-proxy.test.ts), Python 3 with venv for
# Schemathesis (the API fuzzing test, in a virtualenv under .cache/venv, gitignored) with the Python
# docs client's python-socketio and requests, and FerretDB
# (the MongoDB contract suite and tests run against it, built with Go: see build_ferretdb below).
# Run by `npm test` (pretest) and .ci/run. Everything present: no apt, pip or Go call, nothing
# printed. On Debian/Ubuntu it installs as root, or through sudo when that needs no password;
# otherwise it says exactly what to install and fails.
set -euo pipefail
cd "$(dirname "$0")/.."

# Pinned: its checks and CLI options change between releases (test/support/schemathesis.ts).
SCHEMATHESIS_VERSION=4.32.5
VENV=.cache/venv

install_schemathesis() {
  local st="$VENV/bin/st"
  if [ -x "$st" ] && [ "$("$st" --version 2>/dev/null)" = "st, version $SCHEMATHESIS_VERSION" ]; then
    return 0
  fi
  echo "test-setup: installing schemathesis $SCHEMATHESIS_VERSION into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
}

# The Python docs client (test/docs-client/python-client.test.ts) in the same virtualenv, pinned
# by its requirements file.
install_python_client() {
  local req=scripts/docs-client-python/requirements.txt
  if "$VENV/bin/python" - "$req" 2>/dev/null <<'PY'; then
import sys
from importlib.metadata import version
for line in open(sys.argv[1]):
    name, _, pinned = line.strip().partition("==")
    if name and version(name.split("[")[0]) != pinned:
        sys.exit(1)
PY
    return 0
  fi
  echo "test-setup: installing the Python docs client's packages into $VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$req"
}

# FerretDB 1.x, embedded in test/support/ferretdb-server, built once into a cache that every
# checkout, `npm test` and CI reuse (test/support/ferretdb.ts looks there; FERRETDB_BIN overrides
# both). Without Go it only says so: the Mongo suites are then reported as skipped, by name.
build_ferretdb() {
  local src bin go_cmd sum
  src="$(cd "$(dirname "$0")/.." && pwd)/test/support/ferretdb-server"
  bin="${FERRETDB_BIN:-$HOME/.cache/classroom-attendance/ferretdb-1.24.2/ferretdb-server}"
  [ -n "${MONGODB_URI:-}" ] && return 0
  # Rebuilt when its sources change (by content: a fresh clone has fresh mtimes).
  sum="$(cat "$src"/*.go "$src/go.mod" "$src/go.sum" | sha256sum | cut -d' ' -f1)"
  [ -x "$bin" ] && [ "$(cat "$bin.sha256" 2>/dev/null)" = "$sum" ] && return 0
  go_cmd="$(command -v go || true)"
  [ -z "$go_cmd" ] && [ -x /usr/local/go/bin/go ] && go_cmd=/usr/local/go/bin/go
  if [ -z "$go_cmd" ]; then
    echo "test-setup: Go is not installed, so FerretDB is not built: the MongoDB contract suite and the Mongo store tests will be skipped (install Go 1.24+, or set MONGODB_URI)." >&2
    return 0
  fi
  echo "test-setup: building FerretDB 1.24.2 into $bin (once; a few minutes on a cold Go cache)"
  mkdir -p "$(dirname "$bin")"
  (cd "$src" && "$go_cmd" build -trimpath -o "$bin.tmp" . && mv "$bin.tmp" "$bin")
  echo "$sum" >"$bin.sha256"
}
build_ferretdb

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v caddy >/dev/null 2>&1 || missing+=(caddy)
# /usr/sbin is not on a normal user's PATH. The tests run their own nginx on free ports; the
# package's service, which Debian starts where the init system allows, is never used by them.
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
[ -x /usr/bin/chromium ] || missing+=(chromium)
if ! command -v docker-compose >/dev/null 2>&1 && ! docker compose version >/dev/null 2>&1; then
  missing+=(docker-compose)
fi
# Debian splits venv (and with it pip) out of python3.
python3 -m venv --help >/dev/null 2>&1 || missing+=(python3 python3-venv)
if [ "${#missing[@]}" -eq 0 ]; then
  install_schemathesis
  install_python_client
  exit 0
fi

install=(apt-get install -y -qq --no-install-recommends "${missing[@]}")
fail() {
  echo "test-setup: the tests need ${missing[*]}, which are not installed, and $1." >&2
  echo "test-setup: install them, then run the tests again:" >&2
  echo "  sudo apt-get update && sudo ${install[*]}" >&2
  exit 1
}

command -v apt-get >/dev/null 2>&1 || fail "this is not a Debian-like system (no apt-get); install the equivalent packages"
if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  fail "installing needs root (run as root, or with password-less sudo)"
fi

echo "test-setup: installing ${missing[*]}"
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive "${install[@]}"
install_schemathesis
install_python_client
