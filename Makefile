# agora: `make run` to start, `make test` to test. See README.md.

HTMX_VERSION    := 2.0.11
HTMX_SHA256     := d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717
HTMX_WS_VERSION := 2.0.4
HTMX_WS_SHA256  := 896afc2936ded7a56373edf16ce75b0fe9bf49c03d1f55aee9baa94cb87c8d3e
AXE_VERSION     := 4.14.1
AXE_SHA256      := 29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c
# Bun, the peer make bench measures agora beside: its Linux x64 build, the
# binary the `bun` npm package installs (through this optional dependency).
BUN_VERSION     := 1.4.5
BUN_SHA256      := f05d28a3862f4b84395c7fa32480b835dd47482e80b7e7a49a115227f0c06083
BUN             := bin/bun
VENDOR          := assets/vendor
# axe-core is a test tool: kept beside the browser tests, never embedded.
AXE             := handlers/testdata/axe/axe.min.js

GO ?= go

.PHONY: run build test e2e bench fuzz generate assets check clean cluster

# The binary is built and run, not `go run`, which exits 1 after Ctrl-C
# however its program ends (and make then says "Error 1").
run: build
	bin/agora $(ARGS)

build: assets
	$(GO) build -o bin/agora .

# Two nodes on one throwaway PostgreSQL and one NATS, on ports 8081 and 8082
# (see README, "Several nodes"); Ctrl-C stops them all; ARGS go to every node
# (make cluster ARGS=-trust-proxy). NODES=3 NATS=3 starts three nodes on three
# NATS servers routed as one NATS cluster (ports 4222-4224). The launcher is
# built, not run with `go run`, which exits 1 after Ctrl-C however its
# program ends.
NODES ?= 2
NATS  ?= 1
cluster: build
	$(GO) build -o bin/localcluster ./handlers/localcluster
	bin/localcluster -agora bin/agora -nodes $(NODES) -nats-servers $(NATS) -- $(ARGS)

test: assets
	$(GO) test -race -count=1 -timeout 30m ./...

# Browser tests: a real headless Chromium (Debian's `chromium` package), with
# axe-core injected to check accessibility (a test tool: never embedded).
e2e: assets $(AXE)
	$(GO) test -tags e2e -count=1 -timeout 25m -run 'TestE2E' -v ./handlers/

# Micro-benchmarks, then the load generator: the real binary over loopback,
# one room and a team of rooms, beside Bun's pub/sub and a bare broadcast hub,
# and the room on two and three nodes of a cluster (the table also in
# handlers/testdata/bench/results.txt). LOADGEN="-phase team" runs one phase.
bench: assets $(BUN)
	$(GO) test -run '^$$' -bench . -benchmem -count=1 ./...
	$(GO) run ./handlers/loadgen -bun $(BUN) $(LOADGEN)

$(BUN):
	@$(call fetch_npm,@oven/bun-linux-x64,$(BUN_VERSION),bin/bun,$(BUN_SHA256),$@)

# Each fuzz target for 20,000 inputs, a count rather than a duration: a
# duration's deadline can end a run mid-minimisation with "context deadline
# exceeded" (their corpora are in testdata/fuzz and
# run with every `make test`). FUZZTIME=5m for a longer hunt.
FUZZTIME ?= 20000x
FUZZ_TARGETS := ./chat/:FuzzNameKeys ./chat/media/:FuzzDecodeCost ./chat/:FuzzValidateBody ./chat/:FuzzValidateUsername ./chat/:FuzzValidateDisplayName \
	./chat/:FuzzValidateRoomName ./chat/:FuzzValidateClientMsgID ./chat/markup/:FuzzParse \
	./views/:FuzzMessageBody ./handlers/frame/:FuzzDecode
fuzz: assets
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "fuzz $${t#*:} ($${t%%:*}) for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$${t#*:}\$$" -fuzztime=$(FUZZTIME) $${t%%:*}; \
	done

generate:
	$(GO) tool templ generate

# The front-end files come from npm at pinned versions and are checked
# against known digests before they are embedded.
assets: $(VENDOR)/htmx.min.js $(VENDOR)/ws.min.js

$(VENDOR)/htmx.min.js:
	@$(call fetch_npm,htmx.org,$(HTMX_VERSION),dist/htmx.min.js,$(HTMX_SHA256),$@)

$(VENDOR)/ws.min.js:
	@$(call fetch_npm,htmx-ext-ws,$(HTMX_WS_VERSION),dist/ws.min.js,$(HTMX_WS_SHA256),$@)

$(AXE):
	@$(call fetch_npm,axe-core,$(AXE_VERSION),axe.min.js,$(AXE_SHA256),$@)

# fetch_npm package,version,path-in-package,sha256,destination
define fetch_npm
	set -e; mkdir -p $(dir $(5)); tmp=$$(mktemp -d); \
	echo "fetching $(1)@$(2)"; \
	(cd $$tmp && npm pack --silent $(1)@$(2) >/dev/null && tar xzf *.tgz); \
	echo "$(4)  $$tmp/package/$(3)" | sha256sum -c --quiet; \
	cp $$tmp/package/$(3) $(5).tmp && mv $(5).tmp $(5); rm -rf $$tmp
endef

# What CI checks besides the tests: generated code is current, formatting, vet.
check: assets
	$(GO) tool templ generate
	git diff --exit-code -- views/
	$(GO) mod tidy -diff
	test -z "$$(gofmt -l .)" || (gofmt -l . && false)
	$(GO) vet ./...

clean:
	rm -rf bin $(VENDOR)/*.js $(dir $(AXE))
