#!/usr/bin/env bash
# Train the model only when data, domain, config or custom NLU code changed; print its path.
# Serialised with a lock so that two trainings never run at once on this machine.
# `scripts/train.sh --before-review`: the same model without the help desk's data/nlu/reviewed.yml, for the
# before/after figures of `make eval` (docs/report.md).
set -euo pipefail
cd "$(dirname "$0")/.."
export RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=2 SQLALCHEMY_SILENCE_UBER_WARNING=1
mkdir -p models var
data=(data)
if [ "${1:-}" = "--before-review" ]; then  # same inputs, same hash: a model of those inputs is reused
  mapfile -t data < <(find data -type f -name "*.yml" ! -path data/nlu/reviewed.yml | sort)
fi
inputs=$( (find domain.yml config.yml "${data[@]}" -type f -name "*.yml"; ls bot/nlu/*.py) | sort)
hash=$( (cat requirements.lock; for f in $inputs; do echo "$f"; cat "$f"; done) | sha256sum | cut -c1-16)
model="models/model-$hash.tar.gz"
# A model already trained (its .train-seconds is written last) needs no lock: no waiting behind
# another worktree's training.
if [ -f "$model" ] && [ -f "${model%.tar.gz}.train-seconds" ]; then
  echo "$model"
  exit 0
fi
# Rasa's training cache (.rasa/) keys a component by its config and its input data, not by our code:
# after a change to the custom NLU code it would restore components trained with the old code. One
# cache per version of that code; the others are removed.
code_hash=$(cat bot/nlu/*.py | sha256sum | cut -c1-12)
export RASA_CACHE_DIRECTORY=".rasa/cache-$code_hash"
exec 9>var/train.lock
flock 9
if [ ! -f "$model" ]; then
  echo "==> Entraînement du modèle ($model)" >&2
  start=$(date +%s)
  # One line per stage on stderr while Rasa trains (the whole log goes to var/train.log): a newcomer
  # sees what it is doing instead of minutes of silence; stdout stays the model's path.
  .venv/bin/rasa train --fixed-model-name "model-$hash" --data "${data[@]}" --out models 2>&1 | tee var/train.log | \
    .venv/bin/python scripts/train_progress.py "$start" >&2 || {
    tail -n 40 var/train.log >&2; echo "Erreur : l'entraînement a échoué (var/train.log)." >&2; exit 1; }
  seconds=$(( $(date +%s) - start ))
  echo "$seconds" > "${model%.tar.gz}.train-seconds"  # read by `make bench`
  echo "==> Modèle entraîné en $seconds s, $(du -h "$model" | cut -f1)" >&2
  find .rasa -mindepth 1 -maxdepth 1 ! -name "cache-$code_hash" -exec rm -rf {} + 2>/dev/null || true
  # Keep the five newest models only.
  ls -t models/model-*.tar.gz | tail -n +6 | sed 's/\.tar\.gz$//' | xargs -r -I{} rm -f {}.tar.gz {}.train-seconds
fi
echo "$model"
