#!/usr/bin/env bash
# Start the action server, the Rasa server (REST + socket.io) and the widget's demo page; Ctrl-C stops them.
set -euo pipefail
cd "$(dirname "$0")/.."
export RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=2 SQLALCHEMY_SILENCE_UBER_WARNING=1
RASA_PORT="${RASA_PORT:-5005}"
ACTIONS_PORT="${ACTIONS_PORT:-5055}"
WIDGET_PORT="${WIDGET_PORT:-8080}"
# The demo page calls Rasa from its own origin: allowed unless BOT_CORS_ORIGINS says otherwise.
export BOT_CORS_ORIGINS="${BOT_CORS_ORIGINS:-http://127.0.0.1:$WIDGET_PORT http://localhost:$WIDGET_PORT}"
mkdir -p var

exec 8>var/run.lock
if ! flock -n 8; then
  echo "Erreur : l'assistant tourne déjà (make run est déjà lancé dans une autre fenêtre)." >&2
  exit 1
fi
for port in "$RASA_PORT" "$ACTIONS_PORT" "$WIDGET_PORT"; do
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
  wait 2>/dev/null || true
  echo "Assistant arrêté."
}
trap cleanup INT TERM EXIT

.venv/bin/rasa run actions --port "$ACTIONS_PORT" --actions actions >var/actions.log 2>&1 &
pids+=($!)
sed "s#127.0.0.1:5055#127.0.0.1:$ACTIONS_PORT#" endpoints.yml > var/endpoints.run.yml
# The HTTP API needs BOT_RASA_API_TOKEN (?token=...); CORS allows BOT_CORS_ORIGINS only (docs/production.md).
api_token="$(.venv/bin/python -c 'from bot.settings import get_settings; print(get_settings().rasa_api_token)')"
read -r -a cors <<<"$(.venv/bin/python -c 'from bot.settings import get_settings; print(*get_settings().cors_origins)')"
.venv/bin/rasa run --enable-api --auth-token "$api_token" -i 127.0.0.1 -p "$RASA_PORT" -m "$model" \
  --endpoints var/endpoints.run.yml --credentials credentials.yml ${cors[@]+--cors "${cors[@]}"} >var/rasa.log 2>&1 &
pids+=($!)
# The demo page with the widget; --demo-login lets anyone log in as Marie Tremblay: never in production.
.venv/bin/python -m bot.widget.serve --port "$WIDGET_PORT" --rasa-url "http://127.0.0.1:$RASA_PORT" --demo-login \
  >var/widget.log 2>&1 &
pids+=($!)

echo "==> Démarrage du serveur Rasa (environ une minute)…"
start=$(date +%s)
until curl -sf "http://127.0.0.1:$RASA_PORT/status?token=$api_token" >/dev/null 2>&1; do
  for pid in "${pids[@]}"; do
    kill -0 "$pid" 2>/dev/null || { echo "Erreur : un serveur s'est arrêté au démarrage; voir var/rasa.log et var/actions.log." >&2; tail -n 20 var/rasa.log >&2; exit 1; }
  done
  sleep 1
done
cat <<MSG
==> Assistant prêt en $(( $(date +%s) - start )) s.
    REST     : curl -XPOST http://127.0.0.1:$RASA_PORT/webhooks/rest/webhook -d '{"sender":"a","message":"Bonjour"}'
    socket.io: http://127.0.0.1:$RASA_PORT/socket.io
    Démo     : http://127.0.0.1:$WIDGET_PORT/ (une page de la Ville avec le widget de clavardage)
    Journaux : var/rasa.log, var/actions.log, var/widget.log
    Ctrl-C arrête tout.
MSG
wait -n "${pids[@]}"
echo "Erreur : un serveur s'est arrêté; voir var/rasa.log et var/actions.log." >&2
exit 1
