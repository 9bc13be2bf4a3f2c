# Every target documents itself: `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv
PY := $(VENV)/bin/python
APT_PACKAGES := fonts-liberation2 fonts-croscore libharfbuzz-subset0 libpango-1.0-0 libpangoft2-1.0-0 \
	poppler-utils gettext redis-server postgresql chromium dovecot-imapd
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/congvan
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
MUTANTS_DATABASE_URL ?= $(TEST_DATABASE_URL)_mutants
MUTANTS ?=

.PHONY: help system-packages venv redis postgres setup run worker test lint format bench messages mutants

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

system-packages: ## Install the Debian packages (fonts, WeasyPrint's libraries, Redis, PostgreSQL, Chromium) when root
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "Installing Debian packages: $$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
		else \
			echo "Missing Debian packages: $$missing"; echo "Install them with: sudo apt-get install $$missing"; exit 1; \
		fi; \
	fi

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@test -x $(PY) || python3.11 -m venv $(VENV) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	@touch $@

venv: $(VENV)/.installed ## Create .venv and install the pinned requirements

redis: ## Make sure Redis answers on 127.0.0.1:6379 (start a local redis-server if needed)
	@redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 || { \
		command -v redis-server >/dev/null || { echo "Redis is not installed: run 'sudo apt-get install redis-server'"; exit 1; }; \
		echo "Starting redis-server"; mkdir -p var/redis; \
		redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no --dir var/redis --logfile "$(CURDIR)/var/redis/redis.log"; \
		for i in $$(seq 50); do redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break; sleep 0.1; done; }

postgres: ## Make sure PostgreSQL answers on 127.0.0.1:5432 (start the local cluster if needed)
	@pg_isready -q -h 127.0.0.1 -p 5432 || { \
		echo "Starting PostgreSQL"; \
		pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql | sort -V | tail -1) main start; \
		for i in $$(seq 100); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.2; done; }

setup: system-packages venv redis ## Install everything, migrate and seed the demo (SQLite, local Redis, outbox)
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py compilemessages -v0 --ignore=.venv
	$(PY) manage.py seed_demo

run: setup ## Set up, then run the web server and a Celery worker together (Ctrl-C stops both)
	@echo; echo "Admin:  http://127.0.0.1:8000/admin/   (logins above)"; \
	echo "Emails: $(CURDIR)/var/outbox/*.eml"; echo
	@trap 'trap - INT TERM EXIT; kill 0' INT TERM EXIT; \
	$(VENV)/bin/celery -A config worker -B -Q send-urgent,render,events,send,callbacks,celery -c 2 -l info & \
	$(PY) manage.py runserver 127.0.0.1:8000 & \
	wait -n

worker: venv ## Run one Celery worker (add more on other machines sharing Redis, PostgreSQL and storage)
	$(VENV)/bin/celery -A config worker -Q send-urgent,render,events,send,callbacks,celery -l info

test: system-packages venv redis postgres ## Set up, then run the whole test suite against PostgreSQL and Redis
	@psql -h 127.0.0.1 -U postgres -tAc "SELECT 1" >/dev/null
	$(PY) manage.py compilemessages -v0 --ignore=.venv
	$(VENV)/bin/lint-imports --no-logo --no-cache
	$(VENV)/bin/mypy
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(VENV)/bin/pytest $(PYTEST_ARGS)

lint: venv ## Check the code with ruff, the layers with import-linter and the types with mypy (pyproject.toml)
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-logo --no-cache
	$(VENV)/bin/mypy

format: venv ## Format the code with ruff
	$(VENV)/bin/ruff check --fix . && $(VENV)/bin/ruff format .

messages: venv ## Update the Vietnamese translation catalogue (locale/vi)
	$(PY) manage.py makemessages -l vi --ignore=.venv --ignore=var && $(PY) manage.py compilemessages --ignore=.venv

bench: venv redis postgres ## Run the benchmarks under bench/ (JSON lines)
	@for b in bench/[!_]*.py; do echo "# $$b"; DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(PY) $$b; done

mutants: venv redis postgres ## Mutation-test the critical code (slow, not in CI; files and tests in pyproject.toml [tool.mutmut]; MUTANTS='notices.sanitizing*' runs a few)
	$(PY) manage.py compilemessages -v0 --ignore=.venv --ignore=mutants  # the tests read the Vietnamese catalogue
	DATABASE_URL=$(MUTANTS_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(VENV)/bin/mutmut run --max-children 1 $(MUTANTS)
	@$(VENV)/bin/mutmut export-cicd-stats >/dev/null && $(PY) tests/mutation/mutation_score.py
# mutmut runs pytest several times in one process: each run names its test database test_<the last one>.
	@for db in $$(psql -h 127.0.0.1 -U postgres -tAc "SELECT datname FROM pg_database WHERE datname LIKE 'test\_%$(notdir $(MUTANTS_DATABASE_URL))'"); do \
		psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS \"$$db\" WITH (FORCE)"; done
