# `make bench` (issue 6): included by the top-level Makefile. Opt-in: nothing
# here is a prerequisite of build, test or run.
#
#   make bench                  the full run (~20 min), writes BENCHMARKS.md
#   BENCH_QUICK=1 make bench    small sizes, one repetition (smoke test; the
#                               report goes to bench/.work/results/)
#   BENCH_REPS=5 make bench     more repetitions (see bench/run.py for the rest)
#
# Needs root: it installs packages, creates the ftpbench user and starts the
# peers. Everything it downloads or generates stays in bench/.work (ignored).

BENCH_RELEASE ?= build-release
BENCH_CLIENT_BUILD ?= bench/build-bench
BENCH_PY := /usr/bin/python3

.PHONY: bench bench-tools bench-ftpsd bench-client bench-peers

bench: bench-tools bench-ftpsd bench-client bench-peers
	BENCH_FTPSD_BIN=$(CURDIR)/$(BENCH_RELEASE)/ftpsd \
	BENCH_CLIENT=$(CURDIR)/$(BENCH_CLIENT_BUILD)/ftpbench \
	BENCH_COMMAND="$(if $(BENCH_QUICK),BENCH_QUICK=$(BENCH_QUICK) )make bench" \
	  $(BENCH_PY) bench/run.py

# The project's build dependencies, plus what the harness itself runs.
bench-tools:
	@scripts/install-deps.sh
	@bench/peers/install-tools.sh

# A Release ftpsd. A build that fails does not stop the run: ftpsd's rows are
# then marked as failed (a stale binary is removed so it is not measured).
# The same compiler as `make build` (clang++): GCC 12 miscompiles some of ftpsd's coroutine code.
bench-ftpsd:
	@cmake -S . -B $(BENCH_RELEASE) -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Release \
	    -DFTPSD_BENCH=ON -DFTPSD_TESTS=OFF >/dev/null \
	  && ninja -C $(BENCH_RELEASE) ftpsd \
	  || { echo "bench: WARNING: the Release build of ftpsd failed; its rows will be marked failed" >&2; \
	       rm -f $(BENCH_RELEASE)/ftpsd; }

# The load client, built on its own so that it exists even if ftpsd does not.
bench-client:
	cmake -S bench -B $(BENCH_CLIENT_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
	ninja -C $(BENCH_CLIENT_BUILD)

bench-peers:
	bench/peers/setup.sh

# The Manager under load (bench/manager.py): FTP figures with the Manager idle, serving 1,000 API
# calls a second, and held by slow browsers. Needs the set-up of `make bench`.
.PHONY: bench-manager
bench-manager: bench-tools bench-ftpsd bench-client bench-peers
	BENCH_FTPSD_BIN=$(CURDIR)/$(BENCH_RELEASE)/ftpsd \
	BENCH_CLIENT=$(CURDIR)/$(BENCH_CLIENT_BUILD)/ftpbench \
	  $(BENCH_PY) bench/manager.py

# Cluster mode (bench/cluster.py): logins with the users in PostgreSQL against the users file, and the
# aggregate FTPS throughput of 1, 2 and 3 nodes. Needs the set-up of `make bench`; starts its own
# PostgreSQL (Debian's postgresql, installed by scripts/install-deps.sh).
.PHONY: bench-cluster
bench-cluster: bench-tools bench-ftpsd bench-client bench-peers
	BENCH_FTPSD_BIN=$(CURDIR)/$(BENCH_RELEASE)/ftpsd \
	BENCH_CLIENT=$(CURDIR)/$(BENCH_CLIENT_BUILD)/ftpbench \
	  $(BENCH_PY) bench/cluster.py
