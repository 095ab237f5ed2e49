#!/usr/bin/env bash
# Start the action server, one one-worker Rasa server per core behind HAProxy (REST + socket.io,
# sticky by conversation) and the widget's demo page; Ctrl-C stops them.
# Several instances need Redis (lock store and slot vault, 127.0.0.1:6379 unless BOT_RUN_REDIS says
# otherwise): without it, one instance serves on RASA_PORT directly. BOT_RASA_INSTANCES overrides.
set -euo pipefail
cd "$(dirname "$0")/.."
export RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=2 SQLALCHEMY_SILENCE_UBER_WARNING=1
RASA_PORT="${RASA_PORT:-5005}"
ACTIONS_PORT="${ACTIONS_PORT:-5055}"
WIDGET_PORT="${WIDGET_PORT:-8080}"
# The demo page calls Rasa from its own origin: allowed unless BOT_CORS_ORIGINS says otherwise.
export BOT_CORS_ORIGINS="${BOT_CORS_ORIGINS:-http://127.0.0.1:$WIDGET_PORT http://localhost:$WIDGET_PORT}"
# A developer's machine: the phone line accepts requests without BOT_IVR_TOKEN (production refuses them).
export BOT_ENVIRONMENT="${BOT_ENVIRONMENT:-development}"
mkdir -p var
REDIS_HOSTPORT="${BOT_RUN_REDIS:-127.0.0.1:6379}"
redis_up() {
  .venv/bin/python -c "import socket,sys; h,p=sys.argv[1].rsplit(':',1); socket.create_connection((h,int(p)),timeout=1).close()" \
    "$REDIS_HOSTPORT" 2>/dev/null
}
if [ -n "${BOT_RASA_INSTANCES:-}" ]; then
  instances="$BOT_RASA_INSTANCES"
elif redis_up; then
  instances="$(nproc)"
else
  instances=1
  echo "==> Redis absent ($REDIS_HOSTPORT) : une seule instance Rasa (voir docs/production.md)."
fi
if [ "$instances" -gt 1 ] && ! redis_up; then
  echo "Erreur : plusieurs instances Rasa demandent Redis sur $REDIS_HOSTPORT (BOT_RUN_REDIS)." >&2
  exit 1
fi
# Instance ports: RASA_PORT itself with one instance; RASA_PORT+1... behind HAProxy on RASA_PORT otherwise.
instance_ports=()
if [ "$instances" -gt 1 ]; then
  for i in $(seq 1 "$instances"); do instance_ports+=("$((RASA_PORT + i))"); done
  scripts/install_haproxy.sh
else
  instance_ports=("$RASA_PORT")
fi

exec 8>var/run.lock
if ! flock -n 8; then
  echo "Erreur : l'assistant tourne déjà (make run est déjà lancé dans une autre fenêtre)." >&2
  exit 1
fi
for port in "$RASA_PORT" "${instance_ports[@]}" "$ACTIONS_PORT" "$WIDGET_PORT"; do
  if ! .venv/bin/python -c "import socket,sys; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1', int(sys.argv[1])))" "$port" 2>/dev/null; then
    echo "Erreur : le port $port est déjà utilisé. Arrêtez le programme qui l'occupe ou choisissez un autre port (RASA_PORT=..., ACTIONS_PORT=..., WIDGET_PORT=...)." >&2
    exit 1
  fi
done

model="$(scripts/train.sh)"
pids=()
cleanup() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  # A part that has not stopped after 20 s is killed: Ctrl-C always stops everything.
  for _ in $(seq 1 40); do
    alive=""
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive="$alive $pid"; done
    [ -z "$alive" ] && break
    sleep 0.5
  done
  for pid in $alive; do
    echo "Arrêt forcé du processus $pid ($(tr '\0' ' ' </proc/"$pid"/cmdline 2>/dev/null | cut -c1-80))." >&2
    kill -9 "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  echo "Assistant arrêté."
}
trap cleanup INT TERM EXIT

.venv/bin/rasa run actions --port "$ACTIONS_PORT" --actions actions >var/actions.log 2>&1 &
pids+=($!)
sed "s#127.0.0.1:5055#127.0.0.1:$ACTIONS_PORT#" endpoints.yml > var/endpoints.run.yml
export SANIC_WORKERS=1
if [ "$instances" -gt 1 ]; then
  # Shared by the instances: the SQLite tracker store (WAL: one writer at a time, readers never
  # wait; each conversation stays on one instance), the Redis lock store and the Redis slot vault.
  cat >>var/endpoints.run.yml <<YML

lock_store:
  type: bot.lock_store.RedisTicketLockStore
  url: ${REDIS_HOSTPORT%:*}
  port: ${REDIS_HOSTPORT##*:}
  db: 1
  key_prefix: terrebonne_run
YML
  export BOT_SLOT_VAULT_URL="${BOT_SLOT_VAULT_URL:-redis://$REDIS_HOSTPORT/2}"
fi
# The HTTP API needs BOT_RASA_API_TOKEN (?token=...); CORS allows BOT_CORS_ORIGINS only (docs/production.md).
api_token="$(.venv/bin/python -c 'from bot.settings import get_settings; print(get_settings().rasa_api_token)')"
read -r -a cors <<<"$(.venv/bin/python -c 'from bot.settings import get_settings; print(*get_settings().cors_origins)')"
logs=()
for i in "${!instance_ports[@]}"; do
  log=var/rasa.log
  [ "$instances" -gt 1 ] && log="var/rasa$((i + 1)).log"
  logs+=("$log")
  .venv/bin/rasa run --enable-api --auth-token "$api_token" -i 127.0.0.1 -p "${instance_ports[$i]}" -m "$model" \
    --endpoints var/endpoints.run.yml --credentials credentials.yml ${cors[@]+--cors "${cors[@]}"} >"$log" 2>&1 &
  pids+=($!)
done
if [ "$instances" -gt 1 ]; then
  scripts/haproxy.sh var/haproxy.cfg "$RASA_PORT" "${instance_ports[@]}" >var/haproxy.log 2>&1 &
  pids+=($!)
fi
# The demo page with the widget; --demo-login lets anyone log in as Marie Tremblay: never in production.
.venv/bin/python -m bot.widget.serve --port "$WIDGET_PORT" --rasa-url "http://127.0.0.1:$RASA_PORT" --demo-login \
  >var/widget.log 2>&1 &
pids+=($!)

echo "==> Démarrage de $instances serveur(s) Rasa (environ une minute)…"
start=$(date +%s)
for port in "${instance_ports[@]}" "$RASA_PORT"; do
  until curl -sf "http://127.0.0.1:$port/status?token=$api_token" >/dev/null 2>&1; do
    for pid in "${pids[@]}"; do
      kill -0 "$pid" 2>/dev/null || { echo "Erreur : un serveur s'est arrêté au démarrage; voir ${logs[*]} et var/actions.log." >&2; tail -n 20 "${logs[0]}" >&2; exit 1; }
    done
    sleep 1
  done
done
# HAProxy marks an instance up only after two good checks: wait until it sends requests to every
# instance, or a conversation's first turns could land on one instance and the next ones elsewhere.
if [ "$instances" -gt 1 ]; then
  seen=""
  for _ in $(seq 1 120); do
    name=$(curl -s -o /dev/null -D - "http://127.0.0.1:$RASA_PORT/status?token=$api_token" 2>/dev/null \
      | tr -d '\r' | awk -F': ' 'tolower($1) == "x-rasa-instance" {print $2}')
    case " $seen " in *" $name "*) ;; *) [ -n "$name" ] && seen="$seen $name" ;; esac
    [ "$(echo $seen | wc -w)" -ge "$instances" ] && break
    sleep 0.5
  done
fi
# Resident memory of everything started here (each process with its children), in MB.
rss_mb=$(for pid in "${pids[@]}"; do echo "$pid"; pgrep -P "$pid" || true; done \
  | xargs -r -I{} awk '/^VmRSS:/ {print $2}' /proc/{}/status 2>/dev/null | awk '{s += $1} END {printf "%d", s / 1024}')
front="Rasa"
[ "$instances" -gt 1 ] && front="HAProxy devant $instances instances Rasa (une par cœur, collantes par conversation)"
cat <<MSG
==> Assistant prêt en $(( $(date +%s) - start )) s : $front, $rss_mb Mo de mémoire résidente en tout.
    REST     : curl -XPOST http://127.0.0.1:$RASA_PORT/webhooks/rest/webhook -d '{"sender":"a","message":"Bonjour"}'
    socket.io: http://127.0.0.1:$RASA_PORT/socket.io
    Démo     : http://127.0.0.1:$WIDGET_PORT/ (une page de la Ville avec le widget de clavardage)
    Journaux : ${logs[*]}, var/actions.log, var/widget.log$([ "$instances" -gt 1 ] && echo ", var/haproxy.log")
    Ctrl-C arrête tout.
MSG
wait -n "${pids[@]}"
echo "Erreur : un serveur s'est arrêté; voir ${logs[*]} et var/actions.log." >&2
exit 1
