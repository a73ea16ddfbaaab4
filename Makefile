# The README's two commands: `make demo` (the main job) and `make test` (the whole suite).
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc)
# Tests and the offline demo read public data from the shared mirror when it is there;
# elsewhere reckon downloads from GitHub (RECKON_DATA_MIRROR empty).
RECKON_DATA_MIRROR ?= $(if $(wildcard ../shared/data/mirror/MANIFEST.tsv),$(abspath ../shared/data/mirror),)
export RECKON_DATA_MIRROR
DEMO_DB    ?= $(BUILD)/demo.db
NOISE_DB   ?= $(BUILD)/demo-noise.db
CAMPAIGN_DB ?= $(BUILD)/demo-campaign.db

.PHONY: deps build demo test test-asan test-slow test-e2e fuzz clean

deps:
	@bash scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

# The main job: pull the published logs of 8 reasoning models on AIME and GPQA, import them
# priced with reckon's catalog, and show what each model really cost.
demo: build
	@$(BUILD)/reckon data pull price-reversal --quiet >/dev/null
	@rm -f $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm
	@$(BUILD)/reckon import --db $(DEMO_DB) --format price-reversal \
	    "$$($(BUILD)/reckon data path price-reversal data/consolidated)"
	@echo
	@$(BUILD)/reckon summary --db $(DEMO_DB)
	@echo
	@echo "== The same AIME outputs replayed through a real campaign (replay provider, reckon's extractors and pricing)"
	@rm -f $(CAMPAIGN_DB) $(CAMPAIGN_DB)-wal $(CAMPAIGN_DB)-shm
	@$(BUILD)/reckon run campaigns/aime-replay.json --db $(CAMPAIGN_DB) --quiet
	@echo
	@$(BUILD)/reckon reversal --db $(DEMO_DB)
	@echo
	@$(BUILD)/reckon thinking --db $(DEMO_DB) --top 3
	@rm -f $(NOISE_DB) $(NOISE_DB)-wal $(NOISE_DB)-shm
	@$(BUILD)/reckon import --db $(NOISE_DB) --format price-reversal \
	    "$$($(BUILD)/reckon data path price-reversal data/repeated_trial/aime)"/*/
	@$(BUILD)/reckon thinking --db $(NOISE_DB) --top 0 | sed -n '/Repeat-run noise/,$$p'
	@$(BUILD)/reckon report --db $(DEMO_DB) --html $(BUILD)/report.html \
	    --title "Price reversal: 8 reasoning models on AIME and GPQA"

# The whole suite, slow and browser (e2e) tests included; `test-slow` and `test-e2e` run only those.
# The e2e test installs Debian's chromium when it is missing.
test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-slow: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -L slow

test-e2e: build
	@cd $(BUILD) && ctest --output-on-failure -L e2e

# The same suite under AddressSanitizer + UndefinedBehaviorSanitizer.
test-asan: deps
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DRECKON_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)
	@cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	    ctest --output-on-failure -j $(JOBS) -LE 'slow|e2e'

# A short libFuzzer run of every parser of outside input (clang); crashes fail the run and are
# kept in $(FUZZ_BUILD)/crashes: copy a reproducer into tests/fuzz/corpus/<target>/ once fixed.
FUZZ_BUILD   ?= build-fuzz
# One libFuzzer binary per parser of outside input (tests/fuzz/targets.h).
FUZZ_TARGETS ?= csv sse import_jsonl catalog campaign extract matrix json batch http1
FUZZ_SECONDS ?= 20
fuzz: deps
	@bash scripts/install-fuzz-deps.sh
	@cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ -DRECKON_FUZZ=ON >/dev/null
	@cmake --build $(FUZZ_BUILD) -j $(JOBS) --target $(addprefix fuzz_,$(FUZZ_TARGETS))
	@FUZZ_TARGETS="$(FUZZ_TARGETS)" bash scripts/run-fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
