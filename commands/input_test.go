package commands

import (
	"strings"
	"testing"

	"github.com/b2badmin/b2badmin/internal/fixture"
)

// badInputCases are values PostgreSQL rejects (NUL, invalid UTF-8, a
// value longer than its column) or that could fool a reader of the log
// (control and bidi characters), each with the exit code it must get
// before any SQL: 2 for malformed input, 4 for a rule.
func badInputCases() []struct {
	name string
	args []string
	code int
} {
	long := strings.Repeat("a", 256)
	return []struct {
		name string
		args []string
		code int
	}{
		{"NUL in --reason", []string{"users", "update", "1", "--first-name", "x", "--reason", "a\x00b"}, ExitUsage},
		{"invalid UTF-8 in --reason", []string{"users", "deactivate", "1", "--reason", "a\xffb"}, ExitUsage},
		{"ESC in --reason", []string{"users", "deactivate", "1", "--reason", "\x1b[31mred"}, ExitRefused},
		{"--reason too long", []string{"users", "add-group", "1", "API", "--reason", strings.Repeat("r", 4097)}, ExitRefused},
		{"--actor over 255", []string{"--actor", long, "users", "update", "1", "--first-name", "x"}, ExitRefused},
		{"bidi override in --actor", []string{"--actor", "bob\u202egnp.exe", "perms", "grant", "1", "api.view_wallet"}, ExitRefused},
		{"NUL in --actor", []string{"--actor", "a\x00", "users", "activate", "1"}, ExitUsage},
		{"invalid UTF-8 in a name", []string{"users", "update", "1", "--first-name", "\xff\xfe"}, ExitUsage},
		{"NUL in a name", []string{"users", "update", "1", "--last-name", "x\x00y"}, ExitUsage},
		{"invalid UTF-8 in a user argument", []string{"users", "deactivate", "ann\xff@example.com"}, ExitUsage},
		{"NUL in a user argument", []string{"users", "show", "1\x00"}, ExitUsage},
		{"invalid UTF-8 in --email filter", []string{"users", "list", "--email", "\xfe"}, ExitUsage},
		{"NUL in --first-name filter", []string{"users", "list", "--first-name", "a\x00"}, ExitUsage},
		{"120 KB --email filter", []string{"users", "list", "--email", strings.Repeat("e", 120_000)}, ExitUsage},
		{"long --company filter", []string{"users", "list", "--company", strings.Repeat("c", 300)}, ExitUsage},
		{"invalid UTF-8 in a --group filter", []string{"users", "list", "--group", "API,\xff"}, ExitUsage},
		{"NUL in log --actor filter", []string{"log", "--actor", "a\x00"}, ExitUsage},
		{"--timeout -1s", []string{"--timeout", "-1s", "users", "list"}, ExitUsage},
		// PostgreSQL's limit for lock_timeout and statement_timeout: on
		// main the connection failed on it (exit 1).
		{"--lock-timeout over INT_MAX ms", []string{"--lock-timeout", "999999h", "users", "list"}, ExitUsage},
		{"--timeout over INT_MAX ms", []string{"--timeout", "999999h", "users", "list"}, ExitUsage},
		{"--max-affected -1", []string{"users", "deactivate", "1", "--max-affected", "-1"}, ExitUsage},
		{"bidi override in a 2fa device name", []string{"2fa", "enable", "1", "--method", "totp", "--name", "phone\u202e"}, ExitRefused},
	}
}

// Bad input gets one line and its exit code before any SQL is sent (no
// statement in --debug), and changes nothing. On main a NUL in --reason
// or invalid UTF-8 in a filter reached PostgreSQL (exit 1, a raw SQLSTATE).
func TestBadInputRefusedBeforeSQL(t *testing.T) {
	dsn, conn := batchDB(t)
	before := fixture.DumpAll(t, conn)
	for _, c := range badInputCases() {
		t.Run(c.name, func(t *testing.T) {
			r := runCLI(t, dsn, c.args...)
			assertOneLineError(t, r, c.code)
			if strings.Contains(r.Stderr, "SQLSTATE") {
				t.Fatalf("reached PostgreSQL: %q", r.Stderr)
			}
			d := runCLI(t, dsn, append([]string{"--debug"}, c.args...)...)
			if strings.Contains(d.Stderr, "b2badmin: debug:") {
				t.Fatalf("SQL was sent before the refusal:\n%s", d.Stderr)
			}
		})
	}
	if fixture.DumpAll(t, conn) != before {
		t.Fatal("the database changed")
	}
}

// The batch pre-check runs the same checks: a bad value on the last line
// stops the batch before its first line commits (on main, line 1 had
// committed when line 2's NUL came back from PostgreSQL).
func TestBadInputStopsBatchBeforeLineOne(t *testing.T) {
	dsn, conn := batchDB(t)
	before := fixture.DumpAll(t, conn)
	n := 0
	for _, c := range badInputCases() {
		if c.args[0] == "users" && c.args[1] == "deactivate" && strings.Contains(strings.Join(c.args, " "), "\xff") {
			continue // the batch parser refuses invalid UTF-8 lines itself
		}
		var words []string
		for _, a := range c.args {
			words = append(words, "'"+strings.ReplaceAll(a, "'", `'\''`)+"'")
		}
		file := writeTemp(t, "b.txt", "users update 2 --first-name changed\n"+strings.Join(words, " ")+"\n")
		r := runCLI(t, dsn, "batch", file)
		if r.Code != c.code && !(r.Code == ExitUsage && strings.Contains(r.Stderr, "not valid UTF-8")) {
			t.Errorf("%s: batch exit %d, want %d: %s", c.name, r.Code, c.code, r.Stderr)
		}
		if !strings.Contains(r.Stderr, file+":2: ") || !strings.Contains(r.Stderr, "nothing was run") || strings.Contains(r.Stderr, "SQLSTATE") {
			t.Errorf("%s: stderr %q", c.name, r.Stderr)
		}
		n++
	}
	if n < 15 {
		t.Fatalf("only %d cases ran", n)
	}
	if fixture.DumpAll(t, conn) != before {
		t.Fatal("a batch with a bad line changed the database")
	}
}

// PostgreSQL takes lock_timeout and statement_timeout up to INT_MAX ms:
// on main a longer --lock-timeout, --timeout or profile lock_timeout
// failed the connection (exit 1, "invalid value for parameter"). The
// limit itself still connects and runs.
func TestTimeoutsWithinPostgresLimit(t *testing.T) {
	dsn, _ := batchDB(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--lock-timeout", "596h31m23.648s"}, "b2badmin: invalid --lock-timeout 596h31m23.648s: at most 596h31m23.647s (PostgreSQL's limit for lock_timeout), or 0 to wait for ever"},
		{[]string{"--timeout", "596h31m22.648s"}, "b2badmin: invalid --timeout 596h31m22.648s: at most 596h31m22.647s (PostgreSQL's limit for statement_timeout), or 0 for no limit"},
	} {
		r := runCLI(t, dsn, append(c.args, "users", "list")...)
		assertOneLineError(t, r, ExitUsage)
		if got := strings.TrimSuffix(r.Stderr, "\n"); got != c.want {
			t.Errorf("%v: stderr %q, want %q", c.args, got, c.want)
		}
	}
	mustRun(t, dsn, "--lock-timeout", "596h31m23.647s", "--timeout", "596h31m22.647s", "users", "list")

	env := withConfig(t, "profiles:\n  ops:\n    dsn: \""+dsn+"\"\n    lock_timeout: 999999h\n")
	r := cliRun{Env: env}.run(t, "--profile", "ops", "users", "list")
	assertOneLineError(t, r, ExitUsage)
	if !strings.Contains(r.Stderr, `profile ops: invalid lock_timeout "999999h": at most 596h31m23.647s`) {
		t.Errorf("profile: stderr %q", r.Stderr)
	}
	env = withConfig(t, "profiles:\n  ops:\n    dsn: \""+dsn+"\"\n    lock_timeout: 596h31m23.647s\n")
	if r := (cliRun{Env: env}).run(t, "--profile", "ops", "users", "list"); r.Code != 0 {
		t.Errorf("profile at the limit: exit %d, %q", r.Code, r.Stderr)
	}
}
