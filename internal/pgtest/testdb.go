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
	if shared.srv != nil {
		_ = shared.srv.Stop()
	}
	return code
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
