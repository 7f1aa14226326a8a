package pgtest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/b2badmin/b2badmin/client"
	"github.com/b2badmin/b2badmin/client/schema"
)

// EnvTestDSN names a database on an existing server for the tests to use
// instead of starting their own. Its role must be allowed to create databases.
const EnvTestDSN = "B2BADMIN_TEST_DSN"

var shared struct {
	once     sync.Once
	srv      *Server
	adminDSN string
	template string
	err      error
	seq      atomic.Int64
}

// Run wraps testing.M: it runs the tests and then stops the server, if one
// was started. Use it from TestMain: os.Exit(pgtest.Run(m)).
func Run(m *testing.M) int {
	code := m.Run()
	if infra.bouncer != nil {
		infra.bouncer.Stop()
	}
	if infra.standby != nil {
		_ = infra.standby.Stop()
	}
	if shared.srv != nil {
		_ = shared.srv.Stop()
	}
	return code
}

// infra is the PgBouncer and the standby in front of and behind the shared
// server, each started on first use. The PgBouncer serves every test of
// the process. The standby serves the tests using it at the time (a base
// backup costs seconds, not per test) and stops when the last of them
// ends: it replays every test's writes, a third of a CPU for the rest of
// the run otherwise.
var infra struct {
	bouncerOnce            sync.Once
	bouncer                *Bouncer
	standbyMu              sync.Mutex
	standby                *Server
	standbyUsers           int
	bouncerErr, standbyErr error
	warned                 sync.Map
}

// skipLoudly skips t and, once per process and reason, says so on stderr
// too: a plain `go test` run hides t.Skip messages, and a missing package
// must never pass unnoticed.
func skipLoudly(t testing.TB, msg string) {
	t.Helper()
	if _, seen := infra.warned.LoadOrStore(msg, true); !seen {
		fmt.Fprintln(os.Stderr, "pgtest: SKIP: "+msg)
	}
	t.Skip(msg)
}

// BouncerDSN returns dsn (a database from NewDatabase) routed through a
// real PgBouncer in transaction pooling mode. Without pgbouncer (and not
// root, or apt-get failed) the test is skipped with a message naming the
// Debian package.
func BouncerDSN(t testing.TB, dsn string) string {
	t.Helper()
	srv := SharedServer(t)
	if srv == nil {
		skipLoudly(t, "the PgBouncer tests need the throwaway server, not "+EnvTestDSN)
	}
	infra.bouncerOnce.Do(func() { infra.bouncer, infra.bouncerErr = StartBouncer(srv) })
	if infra.bouncerErr != nil {
		skipLoudly(t, "PgBouncer tests skipped: "+infra.bouncerErr.Error())
	}
	return infra.bouncer.DSN(dsn)
}

// Bouncer is the shared PgBouncer (BouncerDSN starts it).
func SharedBouncer(t testing.TB) *Bouncer {
	t.Helper()
	BouncerDSN(t, AdminDSN(t))
	return infra.bouncer
}

// StandbyDSN returns dsn (a database from NewDatabase) on a real streaming
// standby of the shared server, once the standby has replayed everything
// written so far (the database itself and the test's fixtures).
func StandbyDSN(t testing.TB, dsn string) string {
	t.Helper()
	srv := SharedServer(t)
	if srv == nil {
		skipLoudly(t, "the standby tests need the throwaway server, not "+EnvTestDSN)
	}
	standby, err := useStandby(t, srv)
	if err != nil {
		skipLoudly(t, "standby tests skipped: "+err.Error())
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("standby DSN: %v", err)
	}
	u.Host = fmt.Sprintf("127.0.0.1:%d", standby.Port)
	if err := WaitReplayed(context.Background(), dsn, u.String()); err != nil {
		t.Fatalf("standby: %v", err)
	}
	return u.String()
}

// useStandby returns the standby, started if no test is using one, and
// stops it when t and every other test using it have ended. A standby
// that failed to start is not tried again.
func useStandby(t testing.TB, srv *Server) (*Server, error) {
	infra.standbyMu.Lock()
	defer infra.standbyMu.Unlock()
	if infra.standbyErr != nil {
		return nil, infra.standbyErr
	}
	if infra.standby == nil {
		if infra.standby, infra.standbyErr = srv.StartStandby(); infra.standbyErr != nil {
			return nil, infra.standbyErr
		}
	}
	infra.standbyUsers++
	t.Cleanup(func() {
		infra.standbyMu.Lock()
		defer infra.standbyMu.Unlock()
		if infra.standbyUsers--; infra.standbyUsers == 0 && infra.standby != nil {
			_ = infra.standby.Stop()
			infra.standby = nil
		}
	})
	return infra.standby, nil
}

func setup() {
	shared.adminDSN = os.Getenv(EnvTestDSN)
	if shared.adminDSN == "" {
		shared.srv, shared.err = Start("")
		if shared.err != nil {
			return
		}
		shared.adminDSN = shared.srv.DSN("postgres")
	}
	// One migrated template per test process; each test copies it.
	shared.template = fmt.Sprintf("b2b_tmpl_%d_%d", os.Getpid(), time.Now().UnixNano()%1e6)
	ctx := context.Background()
	if shared.err = adminExec(ctx, "CREATE DATABASE "+shared.template); shared.err != nil {
		return
	}
	c, err := client.Connect(ctx, client.Options{DSN: WithDatabase(shared.adminDSN, shared.template), MaxConns: 1})
	if err != nil {
		shared.err = err
		return
	}
	defer c.Close()
	_, shared.err = schema.Migrate(ctx, c.DB())
}

// Server returns the throwaway server the tests started, or nil when
// B2BADMIN_TEST_DSN named an external one.
func SharedServer(t testing.TB) *Server {
	t.Helper()
	skipShort(t)
	shared.once.Do(setup)
	if shared.err != nil {
		t.Fatalf("test database: %v", shared.err)
	}
	return shared.srv
}

// skipShort keeps the fast tier (go test -short) free of PostgreSQL.
func skipShort(t testing.TB) {
	if testing.Short() {
		t.Skip("needs PostgreSQL: skipped by -short (make test runs it)")
	}
}

// NewDatabase creates a fresh, migrated, empty database for one test and
// returns its DSN. It is dropped when the test ends.
func NewDatabase(t testing.TB) string {
	t.Helper()
	SharedServer(t)
	name := fmt.Sprintf("b2b_test_%d_%d", os.Getpid(), shared.seq.Add(1))
	ctx := context.Background()
	if err := adminExec(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", name, shared.template)); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() { _ = adminExec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)") })
	return WithDatabase(shared.adminDSN, name)
}

// AdminDSN is the DSN of the server's maintenance database.
func AdminDSN(t testing.TB) string {
	SharedServer(t)
	return shared.adminDSN
}

func adminExec(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, shared.adminDSN)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

// WithDatabase returns dsn pointing at database db.
func WithDatabase(dsn, db string) string {
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		u.Path = "/" + db
		return u.String()
	}
	// key=value form: replace or append dbname.
	cfg, err := pgconn.ParseConfig(dsn)
	if err == nil && cfg.Database != "" {
		fields := strings.Fields(dsn)
		for i, f := range fields {
			if strings.HasPrefix(f, "dbname=") {
				fields[i] = "dbname=" + db
			}
		}
		return strings.Join(fields, " ")
	}
	return dsn + " dbname=" + db
}
