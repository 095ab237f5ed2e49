#!/usr/bin/env bash
# Render scripts/haproxy.cfg for Rasa instances on local ports and run HAProxy in the foreground.
#   scripts/haproxy.sh CONFIG_OUT LISTEN_PORT INSTANCE_PORT... [-- haproxy options]
# Writes CONFIG_OUT, checks it, then execs HAProxy on it (so the caller's pid is HAProxy's).
# HAPROXY_STATS_PORT, when set, serves HAProxy's stats page on 127.0.0.1:that port (/stats).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$1"; listen="$2"; shift 2
ports=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do ports+=("$1"); shift; done
[ "${1:-}" = "--" ] && shift
[ ${#ports[@]} -gt 0 ] || { echo "usage: $0 CONFIG_OUT LISTEN_PORT INSTANCE_PORT..." >&2; exit 2; }
"$here/install_haproxy.sh"
haproxy="$(command -v haproxy || echo /usr/sbin/haproxy)"

servers=""
for i in "${!ports[@]}"; do
  servers+="    server rasa$((i + 1)) 127.0.0.1:${ports[$i]}"$'\n'
done
stats=""
if [ -n "${HAPROXY_STATS_PORT:-}" ]; then
  stats=$'\nfrontend stats\n    bind 127.0.0.1:'"$HAPROXY_STATS_PORT"$'\n    stats enable\n    stats uri /stats\n'
fi
python3 - "$here/haproxy.cfg" "$out" "127.0.0.1:$listen" "$servers" "$stats" <<'PY'
import sys
template, out, listen, servers, stats = sys.argv[1:]
text = open(template).read().replace("@LISTEN@", listen).replace("@SERVERS@", servers.rstrip("\n"))
open(out, "w").write(text.replace("@STATS@", stats))
PY
"$haproxy" -c -q -f "$out"
exec "$haproxy" -W -db -f "$out" "$@"
