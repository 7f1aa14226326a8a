package commands

import (
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"testing"

	"github.com/b2badmin/b2badmin/internal/pgtest"
)

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

func TestConnectionFailuresAreOneLineWithoutPassword(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	const secret = "S3cr3t-Pa55word"
	wrongPassword := *u
	wrongPassword.User = url.UserPassword("postgres", secret)
	unknownDB := *u
	unknownDB.Path = "/no_such_database"
	cases := []struct {
		name, dsn, want string
	}{
		{"wrong password", wrongPassword.String(), "cannot log in"},
		{"stopped server", fmt.Sprintf("postgres://postgres:%s@127.0.0.1:%d/b2badmin?sslmode=disable&connect_timeout=2", secret, closedPort(t)), "connection refused"},
		{"unknown database", unknownDB.String(), "does not exist"},
		{"malformed dsn", "postgres://postgres:" + secret + "@127.0.0.1:notaport/db", "invalid connection string"},
		{"malformed key-value dsn", "host=127.0.0.1 password=" + secret + " port=99999999", "invalid connection string"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, how := range []string{"flag", "env"} {
				var r cliResult
				if how == "flag" {
					r = cliRun{}.run(t, "--dsn", tc.dsn, "db", "status")
				} else {
					r = cliRun{DSN: tc.dsn}.run(t, "db", "status")
				}
				assertOneLineError(t, r, ExitFailure)
				if strings.Contains(r.Stderr, secret) || strings.Contains(r.Stderr, url.QueryEscape(secret)) {
					t.Fatalf("%s: password leaked: %q", how, r.Stderr)
				}
				if !strings.Contains(r.Stderr, tc.want) {
					t.Fatalf("%s: stderr %q does not say %q", how, r.Stderr, tc.want)
				}
				if r.Stdout != "" {
					t.Fatalf("%s: stdout not empty: %q", how, r.Stdout)
				}
			}
		})
	}
}

func TestDSNPrecedence(t *testing.T) {
	good := pgtest.NewDatabase(t)
	bad := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/x?sslmode=disable", closedPort(t))
	// --dsn wins over the environment.
	r := cliRun{DSN: bad, Env: map[string]string{"DATABASE_URL": bad}}.run(t, "--dsn", good, "db", "status")
	if r.Code != 0 {
		t.Fatalf("--dsn should win: %d %s", r.Code, r.Stderr)
	}
	// B2BADMIN_DSN wins over DATABASE_URL.
	r = cliRun{DSN: good, Env: map[string]string{"DATABASE_URL": bad}}.run(t, "db", "status")
	if r.Code != 0 {
		t.Fatalf("B2BADMIN_DSN should win over DATABASE_URL: %d %s", r.Code, r.Stderr)
	}
	// DATABASE_URL is used when B2BADMIN_DSN is empty.
	r = cliRun{DSN: "", Env: map[string]string{"DATABASE_URL": good}}.run(t, "db", "status")
	if r.Code != 0 {
		t.Fatalf("DATABASE_URL should be used: %d %s", r.Code, r.Stderr)
	}
}

func TestPGEnvironmentIsTheLastResort(t *testing.T) {
	srv := pgtest.SharedServer(t)
	if srv == nil {
		t.Skip("external server via " + pgtest.EnvTestDSN)
	}
	dsn := pgtest.NewDatabase(t)
	u, _ := url.Parse(dsn)
	t.Setenv("PGHOST", srv.SocketDir())
	t.Setenv("PGPORT", fmt.Sprint(srv.Port))
	t.Setenv("PGUSER", "postgres")
	t.Setenv("PGDATABASE", strings.TrimPrefix(u.Path, "/"))
	t.Setenv("PGSSLMODE", "disable")
	r := cliRun{DSN: ""}.run(t, "db", "status", "-o", "ids")
	if r.Code != 0 {
		t.Fatalf("PG* variables should be used: %d %s", r.Code, r.Stderr)
	}
	if strings.Count(r.Stdout, "\n") < 3 {
		t.Fatalf("db status printed %q", r.Stdout)
	}
}

func TestUsageErrorsExitTwo(t *testing.T) {
	for _, args := range [][]string{
		{"no-such-command"},
		{"db", "status", "--no-such-flag"},
		{"db", "status", "-o", "xml"},
		{"db", "seed", "--users", "0"},
		{"db", "status", "extra-arg"},
		{"--timeout", "soon", "db", "status"},
	} {
		r := cliRun{DSN: "postgres://127.0.0.1:1/x"}.run(t, args...)
		assertOneLineError(t, r, ExitUsage)
	}
}

func TestDebugLogsStatementsToStderr(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	r := mustRun(t, dsn, "--debug", "db", "status", "-o", "json")
	if !strings.Contains(r.Stderr, "b2badmin: debug: SELECT version, applied_at FROM b2badmin_schema_migrations") {
		t.Fatalf("--debug did not log the statement: %q", r.Stderr)
	}
	if strings.Contains(r.Stdout, "debug") {
		t.Fatalf("debug output leaked into stdout: %q", r.Stdout)
	}
}

func TestTimeoutGivesOneLine(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	r := runCLI(t, dsn, "--timeout", "1ns", "db", "status")
	assertOneLineError(t, r, ExitFailure)
	if !strings.Contains(r.Stderr, "timed out") {
		t.Fatalf("stderr %q does not say timed out", r.Stderr)
	}
}

// TestNounTableMatchesTree keeps the batch's per-noun trees in step with
// the full tree: every top-level command is in nouns under its own name
// and aliases.
func TestNounTableMatchesTree(t *testing.T) {
	f := NewFactory(&IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard}, func(string) string { return "" })
	inv := f.NewInvocation(f.IO, nil, nil)
	root := NewRootCmd(inv)
	byName := map[string]bool{}
	for _, n := range nouns() {
		for _, name := range n.names {
			byName[name] = true
		}
		cmd := n.build(inv)
		if cmd.Name() != n.names[0] {
			t.Errorf("nouns entry %v builds %q", n.names, cmd.Name())
		}
		if strings.Join(cmd.Aliases, ",") != strings.Join(n.names[1:], ",") {
			t.Errorf("nouns entry %v: command aliases %v", n.names, cmd.Aliases)
		}
	}
	for _, c := range root.Commands() {
		if !byName[c.Name()] && c.Name() != "help" && !strings.HasPrefix(c.Name(), "__") {
			t.Errorf("top-level command %q is missing from nouns", c.Name())
		}
	}
}
