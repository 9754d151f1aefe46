# The two commands of the README: `make demo` and `make test`. Everything else is a helper.
BUILD ?= build
SAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
STATIC_BUILD ?= build-static
FUZZ_RUNS ?= 20000
FUZZ_SECONDS ?= 60
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
# Ninja and ccache when installed, looked up by the shell when a configure recipe runs, i.e. after
# `deps` has installed them on a fresh machine (not when make reads this file).
GENERATOR = $$(command -v ninja >/dev/null 2>&1 && echo "-G Ninja")
LAUNCHER = $$(command -v ccache >/dev/null 2>&1 && echo "-DCMAKE_CXX_COMPILER_LAUNCHER=ccache")

.PHONY: all deps build build-asan build-fuzz fuzz fuzz-smoke test test-unit demo format clean package static

all: build

deps:
	@scripts/deps.sh

$(BUILD)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD) $(GENERATOR) $(LAUNCHER) -DCMAKE_BUILD_TYPE=Release -DAMLOPS_WERROR=ON $(CMAKE_FLAGS)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j$(JOBS)

$(SAN_BUILD)/CMakeCache.txt: | deps
	cmake -S . -B $(SAN_BUILD) $(GENERATOR) $(LAUNCHER) -DCMAKE_BUILD_TYPE=Debug -DAMLOPS_WERROR=ON -DAMLOPS_SANITIZE=ON $(CMAKE_FLAGS)

build-asan: deps $(SAN_BUILD)/CMakeCache.txt
	cmake --build $(SAN_BUILD) -j$(JOBS)

$(FUZZ_BUILD)/CMakeCache.txt: | deps
	cmake -S . -B $(FUZZ_BUILD) $(GENERATOR) $(LAUNCHER) -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
	  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAMLOPS_FUZZ=ON -DAMLOPS_ONLY="stats;spec;lint;monitor;promote;setup;fuzz"

# libFuzzer targets (clang) for the parsers of user input: CSV/JSON Lines, job YAML, amlops.yml.
build-fuzz: deps $(FUZZ_BUILD)/CMakeCache.txt
	cmake --build $(FUZZ_BUILD) -j$(JOBS) --target fuzz_csv fuzz_job_yaml fuzz_config fuzz_setup_yaml

fuzz-smoke: build-fuzz
	scripts/fuzz.sh $(FUZZ_BUILD)/bin runs=$(FUZZ_RUNS)

fuzz: build-fuzz
	scripts/fuzz.sh $(FUZZ_BUILD)/bin time=$(FUZZ_SECONDS)

# Every test: a deterministic fuzz smoke run, the Release build's whole suite, then the unit
# tests under ASan+UBSan.
test: build build-asan fuzz-smoke
	cd $(BUILD) && ctest --output-on-failure --no-tests=error -j$(JOBS)
	cd $(SAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
	  ctest --output-on-failure --no-tests=error -j$(JOBS) -L unit

test-unit: build
	cd $(BUILD) && ctest --output-on-failure --no-tests=error -j$(JOBS) -L unit

demo: build
	scripts/demo.sh $(BUILD)/bin

# Fully static x86_64 binaries (build-static/bin, stripped copies in build-static/dist): a minimal
# libcurl built once and cached outside the tree (scripts/packaging/build-static-curl.sh), then
# the tools linked with -static. Slow the first time. `make test` runs the image and .vsix tests
# (tests/packaging) when this build exists and skips them otherwise; .ci/run builds it first.
static: deps
	curl_dir=$$(scripts/packaging/build-static-curl.sh) && \
	  cmake -S . -B $(STATIC_BUILD) $(GENERATOR) $(LAUNCHER) -DCMAKE_BUILD_TYPE=Release -DAMLOPS_WERROR=ON \
	  -DAMLOPS_STATIC=ON -DAMLOPS_TESTS=OFF -DAMLOPS_CURL_STATIC_DIR="$$curl_dir"
	nice cmake --build $(STATIC_BUILD) -j$(JOBS)
	scripts/packaging/check-static.sh $(STATIC_BUILD)/bin $(STATIC_BUILD)/dist
	scripts/packaging/smoke-static.sh $(STATIC_BUILD)/dist || [ $$? = 77 ]  # 77: skipped (not root)

# The Azure DevOps extension (.vsix, tfx-cli from tests/node) with the static binaries when
# `make static` has built them, else (with a warning) the Release build's.
PACKAGE_BIN ?= $(if $(wildcard $(STATIC_BUILD)/bin/amlops-lint),$(STATIC_BUILD)/bin,$(BUILD)/bin)
package: build
	scripts/packaging/package-vsix.sh $(PACKAGE_BIN) $(BUILD)/package

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp')

clean:
	rm -rf $(BUILD) $(SAN_BUILD)
