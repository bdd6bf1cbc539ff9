#!/bin/sh
# The main job on a fresh Debian machine, as root: set up, build runt, build a busybox bundle
# and run a container that prints its hostname, its pid (1) and its process list.
set -eu
cd "$(dirname "$0")/.."
# The demo needs no engines (RUNT_SKIP_ENGINES): only the tests drive them.
RUNT_SKIP_ENGINES=1 scripts/setup.sh
npm run build
bundle=${RUNT_DEMO_BUNDLE:-/tmp/runt-demo}
scripts/make-bundle.sh "$bundle"
cd "$bundle"
exec env -u NODE_EXTRA_CA_CERTS -u NODE_OPTIONS "$OLDPWD/dist/runt" run "runt-demo-$$"
