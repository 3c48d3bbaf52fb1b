# The two commands of the README: `make run` and `make test`.
BUILD ?= build
JOBS ?= $(shell nproc)
DATA ?= $(CURDIR)/.savoir-demo
PORT ?= 8080

.PHONY: all deps build run test clean asan tsan bench

all: build

# install-deps, then llama.cpp built once into ~/.cache/savoir (scripts/build-llama).
deps:
	@scripts/install-deps
	@scripts/build-llama

$(BUILD)/Makefile: CMakeLists.txt | deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: deps $(BUILD)/Makefile
	cmake --build $(BUILD) -j $(JOBS)

# Indexes the demo corpus (a no-op when unchanged) and serves the web UI.
run: build
	$(BUILD)/savoir --data $(DATA) index demo
	$(BUILD)/savoir --data $(DATA) search "congés payés" -k 3
	@echo "Open http://127.0.0.1:$(PORT) (Ctrl-C stops the server)"
	$(BUILD)/savoir --data $(DATA) serve --host 127.0.0.1 --port $(PORT)

# The benchmarks are built too (tests/e2e/bench_smoke.sh runs one), so a
# change that breaks them fails here rather than at the next `make bench`.
BENCH_TARGETS ?= keyword_bench vector_bench aws_bench embed_bench rerank_bench
test: build
	cmake --build $(BUILD) -j $(JOBS) --target $(BENCH_TARGETS)
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# Sanitizer build of the whole suite (address + undefined behaviour).
asan: deps
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DSAVOIR_SANITIZE=ON
	cmake --build build-asan -j $(JOBS)
	cd build-asan && ctest --output-on-failure -j $(JOBS)

# ThreadSanitizer build (Debug) running the tests that use threads: the store
# read pool beside writes, index commits/merges/refresh, the server (many
# request threads, scheduler) through its end-to-end scripts.
TSAN_TESTS ?= StoreTest|IndexTest|Segment|SyncTest|PriorityLock|VectorIndex|ACompactionStartedByACommit|AnotherProcessAdoptingACompaction|WorkGate|Ingestor|WebConnector|e2e.server_api|e2e.scheduler
tsan: deps
	cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=Debug -DSAVOIR_TSAN=ON
	cmake --build build-tsan -j $(JOBS) --target savoir savoir_tests
	cd build-tsan && TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
	  ctest --output-on-failure -j $(JOBS) -R '$(TSAN_TESTS)'

clean:
	rm -rf $(BUILD) build-asan build-fuzz build-tsan

# Benchmarks against SQLite FTS5 and Xapian (bench/README.md). BENCH_ARGS
# passes options, e.g. `make bench BENCH_ARGS="--corpora large --large-docs 1000000"`.
BENCH_ARGS ?=
bench: deps $(BUILD)/Makefile
	cmake --build $(BUILD) -j $(JOBS) --target keyword_bench
	$(BUILD)/keyword_bench $(BENCH_ARGS)

# Filtered vector search against hnswlib, USearch, FAISS and exact scan
# (docs/vectors.md), e.g. `make bench-vectors VECTOR_BENCH_ARGS="--n 200000"`.
VECTOR_BENCH_ARGS ?=
.PHONY: bench-vectors
bench-vectors: deps $(BUILD)/Makefile
	cmake --build $(BUILD) -j $(JOBS) --target vector_bench
	$(BUILD)/vector_bench --json $(BUILD)/vector_bench.json $(VECTOR_BENCH_ARGS)


# Fuzzing (fuzz/README.md): clang + libFuzzer + ASan/UBSan in build-fuzz,
# every harness for FUZZ_SECONDS, then a table of runs and findings.
FUZZ_SECONDS ?= 60
FUZZ_HARNESSES ?=
.PHONY: fuzz fuzz-build
fuzz-build: deps
	CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSAVOIR_FUZZ=ON
	cmake --build build-fuzz -j $(JOBS) --target savoir_fuzzers
	fuzz/make-seeds.sh build-fuzz

fuzz: fuzz-build
	fuzz/run.sh build-fuzz $(FUZZ_SECONDS) $(FUZZ_HARNESSES)

# CI: every harness built with clang and run once over its seeds, without
# mutation (deterministic): the clang build cannot break unnoticed (it did:
# clang 14 knows no __builtin_cpu_supports("f16c")) and no seed crashes.
.PHONY: fuzz-smoke
fuzz-smoke: fuzz-build
	FUZZ_FLAGS=-runs=0 fuzz/run.sh build-fuzz 0
