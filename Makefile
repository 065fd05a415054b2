# Thin wrapper over CMake.  The two commands a new user needs:
#   make run    install what is missing, build, load demo data, start Kefu
#   make test   install what is missing, build (also under ASan+UBSan and
#               libFuzzer), run every test on SQLite and PostgreSQL
# Others: make build, make web (web/dist only), make clean, and
#   make bench  the performance harness (bench/README.md): release build,
#               generated data, wrk and WebSocket scenarios on loopback,
#               bench/results/*.json and docs/benchmarks.md; under 15 min.
#               DB=postgres runs it on a throwaway PostgreSQL.

DATA ?= data
LISTEN ?= 127.0.0.1:8080
JOBS ?= $(shell nproc)
DB ?= sqlite

.PHONY: all build web run test bench deps deps-test clean

all: build

deps:
	@scripts/deps.sh build

deps-test:
	@scripts/deps.sh test

build: deps
	@cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKEFU_TESTS=OFF >/dev/null
	@cmake --build build -j $(JOBS)
	@scripts/web.sh

# The web apps (chat widget, console) into web/dist, served by kefu at /.
web: deps
	@scripts/web.sh

run: build
	@scripts/run.sh build/kefu "$(DATA)" "$(LISTEN)"

test: deps-test
	@scripts/web.sh
	@CC=gcc cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DKEFU_SANITIZE=ON >/dev/null
	@cmake --build build-asan -j $(JOBS)
	@CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DKEFU_FUZZ=ON >/dev/null
	@cmake --build build-fuzz -j $(JOBS)
	@scripts/test.sh

# Installs what it needs and builds build/kefu itself (scripts/deps.sh bench).
bench:
	@DB=$(DB) bench/run.sh

clean:
	rm -rf build build-asan build-fuzz web/dist
