# The two commands of README.md: `make run` and `make test`. The others are their parts.
.PHONY: install db train browser run shell test lint pytest validate story-test eval bench scale chaos clean

export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export SQLALCHEMY_SILENCE_UBER_WARNING := 1

VENV := .venv
BIN := $(VENV)/bin

install:
	@scripts/bootstrap.sh

db: install
	@$(BIN)/python -m bot backend seed

train: install
	@scripts/train.sh >/dev/null

browser:
	@scripts/install_browser.sh

run: db
	@scripts/run.sh

shell: db train
	@scripts/shell.sh

lint: install
	$(BIN)/ruff check bot actions tests scripts
	$(BIN)/mypy

pytest: db train browser
	$(BIN)/pytest -q

validate: install
	$(BIN)/rasa data validate --fail-on-warnings

story-test: train
	$(BIN)/rasa test core --stories tests/stories -m "$$(scripts/train.sh)" --fail-on-prediction-errors --out results/stories

test: lint validate pytest story-test

# The NLU report, then the citizen-led conversations of tests/conversations/ ("conversations completed
# without a person" and the failing turns); fails when the NLU misses a target.
eval: train
	@status=0; \
	$(BIN)/python -m bot.tools.evaluation --model "$$(scripts/train.sh)" || status=$$?; \
	$(BIN)/python -m bot.tools.conversations --model "$$(scripts/train.sh)" --json var/eval/conversations.json || status=$$?; \
	exit $$status

# Registration night: what `make run` starts, under an open-loop load of whole conversations stepped
# up until p95 > 300 ms or an error; prints a table and JSON (about 10 minutes; `make bench
# BENCH_ARGS=--quick` for a 2-minute check while developing).
BENCH_ARGS ?=
bench: db train
	@scripts/install_haproxy.sh
	$(BIN)/python -m bot.tools.bench --model "$$(scripts/train.sh)" $(BENCH_ARGS)

# Two Rasa instances + action server on PostgreSQL and Redis behind the HAProxy of `make run`,
# phone calls and 200 conversations, one instance killed.
scale: db train
	@scripts/install_haproxy.sh
	BOT_SCALE_TEST=1 $(BIN)/pytest -q tests/scale

# The same layout; each fault of docs/production.md ("When a part fails") injected with conversations
# running (action server down, slow, killed mid-request; account and tracker databases cut; Redis
# down; a Rasa instance killed mid-form). Prints the table; a few minutes.
chaos: db train
	@scripts/install_haproxy.sh
	BOT_CHAOS_TEST=1 $(BIN)/pytest -q -s tests/chaos

clean:
	rm -rf models results var/*.log
