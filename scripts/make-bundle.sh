#!/bin/sh
# Build an OCI bundle from Debian's busybox-static: a rootfs with busybox and its applets,
# /etc/passwd and /etc/group, and a config.json from `runt spec` adjusted for a non-terminal
# demo. Usage: scripts/make-bundle.sh DIR [command...]
set -eu
dir=${1:?usage: make-bundle.sh DIR [command...]}
shift
busybox=$(command -v busybox || true)
[ -n "$busybox" ] || { echo "busybox not found: apt-get install busybox-static" >&2; exit 1; }
if ldd "$busybox" >/dev/null 2>&1; then
  echo "$busybox is dynamically linked; install busybox-static" >&2
  exit 1
fi
here=$(cd "$(dirname "$0")/.." && pwd)
runt=${RUNT:-$here/dist/runt}

rm -rf "$dir"
mkdir -p "$dir/rootfs"
root="$dir/rootfs"
mkdir -p "$root/bin" "$root/sbin" "$root/usr/bin" "$root/usr/sbin" "$root/proc" "$root/sys" \
  "$root/dev" "$root/tmp" "$root/etc" "$root/root" "$root/home/user" "$root/run" "$root/var/tmp"
chmod 1777 "$root/tmp" "$root/var/tmp"
cp "$busybox" "$root/bin/busybox"
for applet in $("$busybox" --list); do
  [ "$applet" = busybox ] && continue
  ln -sf busybox "$root/bin/$applet"
done
cat > "$root/etc/passwd" <<'P'
root:x:0:0:root:/root:/bin/sh
user:x:1000:1000:user:/home/user:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
P
cat > "$root/etc/group" <<'G'
root:x:0:
tty:x:5:
user:x:1000:
nogroup:x:65534:
G
chown 1000:1000 "$root/home/user"
echo "runt-demo" > "$root/etc/hostname"

(cd "$dir" && "$runt" spec)
if [ $# -eq 0 ]; then
  # The trailing `exit` keeps sh as pid 1 (it would exec its last command in its own place).
  set -- sh -c 'echo "hostname: $(hostname)"; echo "pid: $$"; echo "processes:"; ps -o pid,user,args; exit 0'
fi
node - "$dir/config.json" "$@" <<'JS'
const fs = require('fs')
const [file, ...args] = process.argv.slice(2)
const c = JSON.parse(fs.readFileSync(file, 'utf8'))
c.process.terminal = false
c.process.args = args
c.hostname = 'runt-demo'
fs.writeFileSync(file, JSON.stringify(c, null, '\t'))
JS
echo "bundle ready: $dir"
