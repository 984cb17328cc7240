# The commands the README opens with. Each installs what is missing first.
BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_TEST_SECONDS ?= 8
PYTEST     := /usr/bin/python3 -m pytest
JOBS       ?= $(shell nproc)

.PHONY: deps build build-asan build-fuzz run test lint tidy unit-test integration-test nat-test cluster-test interop-test fuzz \
        fuzz-test format format-check clean install

# make install [PREFIX=/usr/local] [DESTDIR=/tmp/stage] [SYSCONFDIR=/etc]: the binary, the systemd unit,
# the man page, an example configuration (never over an existing ftpsd.toml), README and examples.
PREFIX     ?= /usr/local
SYSCONFDIR ?= /etc
SBINDIR    := $(PREFIX)/sbin
UNITDIR    := $(PREFIX)/lib/systemd/system
MANDIR     := $(PREFIX)/share/man
DOCDIR     := $(PREFIX)/share/doc/ftpsd

deps:
	@scripts/install-deps.sh

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo

$(ASAN_BUILD)/build.ninja:
	cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Debug -DFTPSD_SANITIZE=ON

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD) -j $(JOBS)

build-asan: deps $(ASAN_BUILD)/build.ninja
	ninja -C $(ASAN_BUILD) -j $(JOBS)

# libFuzzer targets (clang, ASan + UBSan), in their own build dir; only the parsers they need are built.
$(FUZZ_BUILD)/build.ninja:
	cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DFTPSD_FUZZ=ON -DFTPSD_TESTS=OFF

build-fuzz: deps $(FUZZ_BUILD)/build.ninja
	ninja -C $(FUZZ_BUILD) -j $(JOBS) fuzz_targets

# Each target for FUZZ_SECONDS (make fuzz FUZZ_SECONDS=600); crashes land in fuzz/artifacts/.
fuzz: build-fuzz
	scripts/fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

# The short run of make test: FUZZ_TEST_SECONDS per target.
fuzz-test: build-fuzz
	scripts/fuzz.sh $(FUZZ_BUILD) $(FUZZ_TEST_SECONDS)

# clang-tidy (.clang-tidy) over src/ with the compile commands of build/, one file per job; a file is
# checked again only when it or a header it includes changed.
tidy: deps $(BUILD)/build.ninja
	ninja -C $(BUILD) -j $(JOBS) tidy

# Only the server: a newcomer talks to it as soon as possible; make test builds the rest.
run: deps $(BUILD)/build.ninja
	ninja -C $(BUILD) -j $(JOBS) ftpsd
	@scripts/make-run.sh $(BUILD)/ftpsd

unit-test: build build-asan
	ctest --test-dir $(BUILD) --output-on-failure
	ctest --test-dir $(ASAN_BUILD) --output-on-failure

# Two pytest workers (pytest-xdist), a test file each at a time: most of a test's time is spent
# waiting for replies and timers, so two files at once nearly halve the run on two cores. Tests of one
# file never run at once (a file's fixed passive ranges and fixtures are its own).
PYTEST_PARALLEL ?= -n 2 --dist loadfile

integration-test: build build-asan
	FTPSD_BIN=$(CURDIR)/$(BUILD)/ftpsd $(PYTEST) -q $(PYTEST_PARALLEL) tests/integration
	FTPSD_BIN=$(CURDIR)/$(ASAN_BUILD)/ftpsd FTPSD_SANITIZED=1 $(PYTEST) -q $(PYTEST_PARALLEL) tests/integration

# Real NAT topologies in network namespaces (needs root): against the normal build only.
nat-test: build
	FTPSD_BIN=$(CURDIR)/$(BUILD)/ftpsd $(PYTEST) -q tests/nat

# The cluster test bed (needs root): clients, HAProxy + nftables, three nodes and PostgreSQL in network
# namespaces. Against the normal build only.
cluster-test: build
	FTPSD_BIN=$(CURDIR)/$(BUILD)/ftpsd $(PYTEST) -q -rs tests/cluster

# Real third-party FTPS clients (rclone, Java Commons Net, Node.js basic-ftp): against the normal build only.
interop-test: build
	FTPSD_BIN=$(CURDIR)/$(BUILD)/ftpsd $(PYTEST) -q -rs tests/interop

test: format-check unit-test fuzz-test integration-test nat-test cluster-test interop-test

# What a change must also pass before it lands (not part of make test, to keep it short): the format
# check and clang-tidy.
lint: format-check tidy

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp')

format-check: deps
	clang-format --dry-run -Werror $$(git ls-files '*.cpp' '*.hpp')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)

install: build
	install -D -m 0755 $(BUILD)/ftpsd $(DESTDIR)$(SBINDIR)/ftpsd
	install -d $(DESTDIR)$(UNITDIR)
	sed 's|@SBINDIR@|$(SBINDIR)|g' dist/ftpsd.service.in > $(DESTDIR)$(UNITDIR)/ftpsd.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/ftpsd.service
	install -D -m 0644 docs/ftpsd.8 $(DESTDIR)$(MANDIR)/man8/ftpsd.8
	install -D -m 0644 examples/public-ftps-systemd.toml $(DESTDIR)$(SYSCONFDIR)/ftpsd/ftpsd.toml.example
	install -D -m 0644 README.md $(DESTDIR)$(DOCDIR)/README.md
	install -d $(DESTDIR)$(DOCDIR)/examples
	install -m 0644 examples/*.toml $(DESTDIR)$(DOCDIR)/examples/

-include bench/bench.mk
