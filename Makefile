# kjdd — see README.md. `make run` and `make test` are the two commands a new
# developer needs.
GO        ?= go
STATICCHECK_VERSION := v0.8.2
PKGS      := ./...

.PHONY: run build test lint bench load deps clean

run: ## run kjdd on its embedded defaults with demo data
	$(GO) run ./cmd/kjdd serve --dev

build:
	$(GO) build -trimpath -o bin/kjdd ./cmd/kjdd

deps:
	./scripts/deps.sh

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) $(PKGS)
	@# go.mod and go.sum say exactly what the code imports (direct marked
	@# direct, nothing unused). Needs the module proxy, or a module cache
	@# that holds the test dependencies of every dependency.
	@$(GO) mod tidy -diff || { echo "go.mod/go.sum are not tidy (or the module proxy is unreachable): run go mod tidy"; exit 1; }

test: deps lint ## everything CI runs
	$(GO) test -count=1 -timeout 40m $(PKGS)

bench: ## micro-benchmarks (see BENCHMARKS.md)
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

load: ## end-to-end load figures against the real binary (see BENCHMARKS.md)
	$(GO) run ./test/load -scenario throughput
	$(GO) run ./test/load -scenario scale
	$(GO) run ./test/load -scenario rss

clean:
	rm -rf bin kjdd.db kjdd.db-wal kjdd.db-shm
