#!/usr/bin/env bash
# Create .venv with Python 3.10 and install the pinned set when requirements.lock changed.
set -euo pipefail
cd "$(dirname "$0")/.."

find_python() {
  if command -v python3.10 >/dev/null 2>&1 && python3.10 -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then
    command -v python3.10; return
  fi
  if command -v pyenv >/dev/null 2>&1; then
    local p; p="$(pyenv root)/versions/3.10.13/bin/python3.10"
    [ -x "$p" ] && { echo "$p"; return; }
  fi
  [ -x "$HOME/.pyenv/versions/3.10.13/bin/python3.10" ] && { echo "$HOME/.pyenv/versions/3.10.13/bin/python3.10"; return; }
  return 1
}

if [ ! -x .venv/bin/python ]; then
  if ! PY="$(find_python)"; then
    echo "Erreur : Python 3.10 introuvable. Installez python3.10 (ou pyenv install 3.10.13) puis relancez." >&2
    exit 1
  fi
  echo "==> Création de .venv avec $PY"
  "$PY" -m venv .venv
fi

stamp=.venv/.requirements.sha
want="$(sha256sum requirements.lock | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "==> Installation des dépendances (requirements.lock), environ 1,5 minute"
  start=$(date +%s)
  .venv/bin/python -m pip install -q --upgrade "pip<25" 2>&1 | grep -v '^WARNING: Location' || true
  .venv/bin/python -m pip install -q -r requirements.lock 2>&1 | grep -v '^WARNING: Location' || true
  .venv/bin/python -m pip check
  .venv/bin/python -c "import rasa, spacy; spacy.load('fr_core_news_sm')"
  echo "$want" > "$stamp"
  echo "==> Dépendances installées en $(( $(date +%s) - start )) s"
fi
