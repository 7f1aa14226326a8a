package commands

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Passwords are masked where the connection string has them, never by
// searching messages for their text: on main a one-letter password e
// turned "cannot connect … refused" into "cannot connxxxxxct … rxxxxxfusxxxxxd",
// and an unterminated quote showed the password's tail.
func TestConnectionMessagesMaskByPosition(t *testing.T) {
	port := closedPort(t)
	r := cliRun{}.run(t, "--dsn", fmt.Sprintf("postgres://u:e@127.0.0.1:%d/x?sslmode=disable&connect_timeout=2", port), "db", "status")
	assertOneLineError(t, r, ExitFailure)
	if want := fmt.Sprintf("b2badmin: cannot connect to u@127.0.0.1:%d: connection refused (is the server running?)\n", port); r.Stderr != want {
		t.Fatalf("stderr %q, want %q", r.Stderr, want)
	}
	for dsn, why := range map[string]string{
		"host=127.0.0.1 port=1 password='Sekr1t PassTail":      "the quoted value of password has no closing quote",
		"postgres://u:Sekr1t/PassTail@127.0.0.1:1/x":           "not a valid URL",
		"host=127.0.0.1 port=notaport password=Sekr1tPassTail": "invalid port",
		// pgconn ends this password at the first '@' and took the rest
		// into the host: "cannot connect to u@PassTail@127.0.0.1:1".
		"postgres://u:Sekr1t@PassTail@127.0.0.1:1/x": "percent-encode @",
		// pgconn reads this user information as the user name, printed.
		"postgres://127.0.0.1?password=Sekr1t%20PassTail@127.0.0.1:1": "percent-encode @",
	} {
		r := cliRun{DSN: dsn}.run(t, "db", "status")
		assertOneLineError(t, r, ExitFailure)
		if strings.Contains(r.Stderr, "Sekr1t") || strings.Contains(r.Stderr, "PassTail") || !strings.Contains(r.Stderr, why) {
			t.Errorf("%q: stderr %q, want %q and no piece of the password", dsn, r.Stderr, why)
		}
	}
	// What pgx reads as one thing is not refused: sockets, host lists,
	// IPv6, characters net/url refuses in a password, an encoded '@'.
	for _, dsn := range []string{
		"postgres://u:pw@%2Fno%2Fsuch%2Fdir/x",
		fmt.Sprintf("postgres://u:pw@[::1]:%d,127.0.0.1:%d/x?connect_timeout=2", port, port),
		fmt.Sprintf("postgres://u:p^w{x}|\\@127.0.0.1:%d/x", port),
		fmt.Sprintf("postgres://u:p%%40ss@127.0.0.1:%d/x", port),
		fmt.Sprintf("postgres://127.0.0.1:%d/x?password=p@ss", port),
	} {
		r := cliRun{DSN: dsn}.run(t, "db", "status")
		assertOneLineError(t, r, ExitFailure)
		if !strings.Contains(r.Stderr, "cannot connect to ") || strings.Contains(r.Stderr, "p^w") || strings.Contains(r.Stderr, "p@ss") {
			t.Errorf("%q: %q, want it to reach the (closed) server, naming no password", dsn, r.Stderr)
		}
	}
	if got := RedactCommandLine([]string{"--dsn", "postgres://u:e@h/x", "--read-dsn=host=h password='a b'", "users", "list"}); got != "b2badmin --dsn postgres://u:xxxxx@h/x --read-dsn='host=h password=xxxxx' users list" {
		t.Errorf("RedactCommandLine: %q", got)
	}
}

// A config file holding a password and readable by other users gets a
// warning, as libpq warns about a .pgpass with group or world access.
func TestConfigWithPasswordReadableByOthersWarns(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	body := fmt.Sprintf("profiles:\n  prod:\n    dsn: postgres://admin:s3cret@127.0.0.1:%d/x?sslmode=disable&connect_timeout=1\n", closedPort(t))
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func() cliResult {
		return cliRun{Env: map[string]string{"B2BADMIN_CONFIG": path, "B2BADMIN_DSN": ""}}.run(t, "--profile", "prod", "db", "status")
	}
	r := run()
	if !strings.HasPrefix(r.Stderr, "b2badmin: warning: "+path+" holds a password and is readable by other users (mode 0644): chmod 600 "+path+"\n") || strings.Contains(r.Stderr, "s3cret") {
		t.Fatalf("stderr %q", r.Stderr)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	if r := run(); strings.Contains(r.Stderr, "warning") {
		t.Fatalf("a private file warned: %q", r.Stderr)
	}
}
