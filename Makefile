# Everyday commands. `make help` lists them; each is one line of what CI or the README runs.
.DEFAULT_GOAL := help
.PHONY: help setup test lint bench demo

help: ## list the commands
	@awk 'BEGIN {FS = ":.*## "} /^[a-z]+:.*## / {printf "  make %-6s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

setup: ## build .venv from uv.lock (add SYSTEM=1 for the Debian packages the tests need)
	bash .ci/setup $(if $(SYSTEM),--system)

test: ## the whole suite, exactly as CI runs it (.ci/run: setup --system, then pytest)
	bash .ci/run

lint: ## ruff on the Python, sqlfluff on pipelines/models (both must be clean)
	.venv/bin/ruff check .
	.venv/bin/sqlfluff lint pipelines/models

bench: ## the benchmarks on one generated county (SCALE=tiny|small|county|province)
	.venv/bin/python -m benchmarks.run --scale $(or $(SCALE),county)

demo: ## generate a county, ingest it and open the dashboard (xiangzhi demo)
	.venv/bin/xiangzhi demo
