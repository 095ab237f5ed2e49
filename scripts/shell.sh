#!/usr/bin/env bash
# Chat with the assistant in the terminal; the action server runs for the session.
set -euo pipefail
cd "$(dirname "$0")/.."
export RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=2 SQLALCHEMY_SILENCE_UBER_WARNING=1
ACTIONS_PORT="${ACTIONS_PORT:-5055}"
model="$(scripts/train.sh)"
.venv/bin/rasa run actions --port "$ACTIONS_PORT" --actions actions >var/actions.log 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' INT TERM EXIT
sed "s#127.0.0.1:5055#127.0.0.1:$ACTIONS_PORT#" endpoints.yml > var/endpoints.run.yml
.venv/bin/rasa shell -m "$model" --endpoints var/endpoints.run.yml
