# b2badmin's front door. `make demo` and `make test` work on a fresh machine.
SHELL      := /bin/bash
export PATH := $(PATH):/usr/local/go/bin
GO         ?= go
BIN        := bin/b2badmin
# One demo cluster per checkout (and user): the directory is derived from
# this checkout's path, so two checkouts never share, stop or migrate each
# other's server. It lives under /tmp, which the postgres OS user can reach
# when make runs as root (a checkout under a private home may not be).
DEMO_DIR   ?= /tmp/b2badmin-demo-$(shell id -u)-$(shell printf '%s' '$(CURDIR)' | cksum | cut -d' ' -f1)
# The stop hint names DEMO_DIR when it was not derived: make demo-stop
# must stop the server make demo started.
DEMO_STOP  := make -C $(CURDIR) demo-stop$(if $(filter command line environment,$(origin DEMO_DIR)), DEMO_DIR=$(DEMO_DIR))
DEMO_USERS ?= 20000
GOFLAGS_TEST ?=
# Installation layout (make install PREFIX=/usr DESTDIR=/tmp/pkg).
PREFIX     ?= /usr/local
DESTDIR    ?=
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man

# What `b2badmin version` reports. A release is a tag vX.Y.Z; between tags
# the version is "dev" and the commit says which source it is.
VERSION    ?= $(shell git describe --tags --match 'v[0-9]*' --dirty 2>/dev/null || echo dev)
COMMIT     ?= $(shell git rev-parse HEAD 2>/dev/null)
DIRTY      ?= $(shell git status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo true)
BUILD_DATE ?= $(shell date -u $${SOURCE_DATE_EPOCH:+-d @$$SOURCE_DATE_EPOCH} +%Y-%m-%dT%H:%M:%SZ)
PKG        := github.com/b2badmin/b2badmin/commands
LDFLAGS    := -X $(PKG).stampVersion=$(VERSION) -X $(PKG).stampCommit=$(COMMIT) -X $(PKG).stampDate=$(BUILD_DATE) -X $(PKG).stampDirty=$(DIRTY)

.PHONY: all build demo demo-build demo-stop test test-short vet fuzz bench completions man docs install uninstall postgres pgbouncer django clean

all: build

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/b2badmin

# The PostgreSQL server binaries: present on CI machines; installed from
# Debian's packages when missing and we are root.
postgres:
	@if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing PostgreSQL server binaries (apt-get install postgresql)"; \
	  apt-get update -qq && apt-get install -y -qq postgresql >/dev/null; \
	else echo "PostgreSQL server binaries missing: install the postgresql package" >&2; exit 1; fi

# PgBouncer for the tests that run through a real one (transaction
# pooling): installed when missing and we are root; otherwise those tests
# skip, naming the package. The harness (internal/pgtest) does the same.
pgbouncer:
	@if command -v pgbouncer >/dev/null 2>&1 || [ -x /usr/sbin/pgbouncer ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing PgBouncer (apt-get install pgbouncer)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends pgbouncer >/dev/null || \
	  echo "pgbouncer could not be installed: the PgBouncer tests will skip" >&2; \
	else echo "pgbouncer missing (Debian package pgbouncer): the PgBouncer tests will skip" >&2; fi

# Django for make bench's Django ORM comparison (Debian's packages; the
# scenario skips with a message naming them when they are missing).
django:
	@if /usr/bin/python3 -c 'import django, psycopg2' >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing Django (apt-get install python3-django python3-psycopg2)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-django python3-psycopg2 >/dev/null || \
	  echo "Django could not be installed: the Django ORM comparison will skip" >&2; \
	else echo "Django missing (Debian packages python3-django python3-psycopg2): the Django ORM comparison will skip" >&2; fi

demo: demo-build postgres
	@dsn=$$($(GO) run ./internal/devdb start $(DEMO_DIR)) || exit 1; \
	echo "demo: migrating the schema"; \
	$(BIN) --dsn "$$dsn" db migrate && \
	echo "demo: seeding $(DEMO_USERS) users (skipped when the database already has some)" && \
	$(BIN) --dsn "$$dsn" db seed --users $(DEMO_USERS) --seed 1 --if-empty && \
	$(BIN) --dsn "$$dsn" users list --limit 15 && \
	$(BIN) --dsn "$$dsn" groups list && \
	echo && echo "The demo database is running (in $(DEMO_DIR)). For further commands:" && \
	echo "  export B2BADMIN_DSN='$$dsn'" && echo "  $(BIN) users list --group 'Merchant owner' --active --limit 5" && \
	echo "Stop it with: $(DEMO_STOP)"

demo-build:
	@echo "demo: building $(BIN)"
	@$(MAKE) --no-print-directory build

demo-stop:
	@$(GO) run ./internal/devdb stop $(DEMO_DIR)

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l .)" || { echo "gofmt needed:"; gofmt -l .; exit 1; }

# Every test package that needs a database starts its own throwaway
# cluster (or uses B2BADMIN_TEST_DSN).
test: postgres pgbouncer vet
	$(GO) test -count=1 -timeout 8m $(GOFLAGS_TEST) ./...
	./scripts/demo_test.sh

test-short:
	$(GO) test -count=1 -short ./...

fuzz:
	@for t in $$(grep -rhoE '^func Fuzz[A-Za-z0-9_]+' --include='*_test.go' . | sed 's/func //'); do \
	  pkg=$$(grep -rlE "^func $$t\(" --include='*_test.go' . | head -1 | xargs dirname); \
	  echo "== $$t ($$pkg)"; $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime 20s $$pkg || exit 1; done

completions: build
	$(BIN) completion bash > completions/b2badmin.bash
	$(BIN) completion zsh > completions/_b2badmin
	$(BIN) completion fish > completions/b2badmin.fish
	$(BIN) completion powershell > completions/b2badmin.ps1

# Man pages (man/, not committed: built from the command tree) and the
# Markdown command reference (docs/commands/, committed; a test fails when
# it is stale, as for completions).
man:
	$(GO) run ./internal/gendocs -man man

docs:
	$(GO) run ./internal/gendocs -markdown docs/commands

# Installs the binary, its man pages and the completion scripts where each
# shell looks for them (bash-completion, zsh site-functions, fish vendor
# completions). PowerShell has no such place: see b2badmin completion --help.
install: build man
	install -Dm755 $(BIN) $(DESTDIR)$(BINDIR)/b2badmin
	install -d $(DESTDIR)$(MANDIR)/man1
	install -m644 man/*.1 $(DESTDIR)$(MANDIR)/man1/
	install -Dm644 completions/b2badmin.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/b2badmin
	install -Dm644 completions/_b2badmin $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_b2badmin
	install -Dm644 completions/b2badmin.fish $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/b2badmin.fish

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/b2badmin $(DESTDIR)$(MANDIR)/man1/b2badmin.1 $(DESTDIR)$(MANDIR)/man1/b2badmin-*.1
	rm -f $(DESTDIR)$(PREFIX)/share/bash-completion/completions/b2badmin $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_b2badmin
	rm -f $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/b2badmin.fish


# make bench SCALE=10000000 runs the same scenarios on 10 million users
# (about 17 GB of disk for the throwaway cluster: check df first).
SCALE ?= 1000000
RUNS  ?= 5
ONLY  ?=
bench: build postgres django
	$(GO) run ./internal/bench -users $(SCALE) -runs $(RUNS) -only '$(ONLY)'

clean:
	rm -rf bin man
