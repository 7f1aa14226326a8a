package commands

import (
	"strings"
	"testing"

	"github.com/b2badmin/b2badmin/internal/djangocheck"
	"github.com/b2badmin/b2badmin/internal/fixture"
)

// checkDjangoPassword verifies encoded as Django's PBKDF2PasswordHasher
// does, independently of the tool's own hashing.
func checkDjangoPassword(t *testing.T, password, encoded string) bool {
	t.Helper()
	ok, err := djangocheck.Password(password, encoded)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

func TestSetPasswordFromStdinVerifiesIndependently(t *testing.T) {
	t.Parallel()
	dsn, db := writeDB(t)
	id := fixture.AddUser(t, db, fixture.User{Email: "ann@example.com"})
	const pw = "lètmein-now"
	r := cliRun{DSN: dsn, Stdin: pw + "\n"}.run(t, "users", "set-password", "ann@example.com", "--password-stdin", "--iterations", "5000", "--force")
	if r.Code != 0 {
		t.Fatalf("exit %d: %s", r.Code, r.Stderr)
	}
	enc := queryText(t, db, `SELECT password FROM rbac_user WHERE id = $1`, id)
	p := strings.Split(enc, "$")
	if len(p) != 4 || p[1] != "5000" || len(p[2]) != 22 || len(p[3]) != 44 {
		t.Fatalf("stored %q: want pbkdf2_sha256$5000$<22-char salt>$<44-char hash>", enc)
	}
	if !checkDjangoPassword(t, pw, enc) || checkDjangoPassword(t, pw+"x", enc) {
		t.Fatal("independent PBKDF2 check disagrees with the stored hash")
	}
	logs := opLog(t, db)
	if len(logs) != 1 || logs[0].Action != "users.set-password" {
		t.Fatalf("log %+v", logs)
	}
	for _, s := range []string{logs[0].Command, queryText(t, db, `SELECT before::text || after::text FROM api_operationlog`), r.Stdout, r.Stderr} {
		if strings.Contains(s, p[3]) || strings.Contains(s, "pbkdf2") || strings.Contains(s, pw) {
			t.Fatalf("hash or password leaked: %q", s)
		}
	}
	if logs[0].After["password"] != "changed, usable" {
		t.Fatalf("log after %v", logs[0].After)
	}
}

func TestSetPasswordDefaultIterations(t *testing.T) {
	t.Parallel()
	dsn, db := writeDB(t)
	id := fixture.AddUser(t, db, fixture.User{Email: "ann@example.com"})
	r := cliRun{DSN: dsn, Stdin: "a long enough password"}.run(t, "users", "set-password", "ann@example.com", "--password-stdin")
	if r.Code != 0 {
		t.Fatalf("exit %d: %s", r.Code, r.Stderr)
	}
	if enc := queryText(t, db, `SELECT password FROM rbac_user WHERE id = $1`, id); !strings.HasPrefix(enc, "pbkdf2_sha256$1000000$") {
		t.Fatalf("stored %q: want Django 5.2's 1,000,000 iterations", enc)
	}
}

func TestSetPasswordRefusals(t *testing.T) {
	t.Parallel()
	dsn, db := writeDB(t)
	fixture.AddUser(t, db, fixture.User{Email: "ann@example.com"})
	before := fixture.DumpAll(t, db)
	// Too short: exit 4.
	assertOneLineError(t, cliRun{DSN: dsn, Stdin: "short\n"}.run(t, "users", "set-password", "ann@example.com", "--password-stdin"), 4)
	// Empty stdin: exit 4.
	assertOneLineError(t, cliRun{DSN: dsn}.run(t, "users", "set-password", "ann@example.com", "--password-stdin"), 4)
	// No terminal and no --password-stdin: exit 2, never blocks.
	assertOneLineError(t, runCLI(t, dsn, "users", "set-password", "ann@example.com"), 2)
	// There is no way to pass a password in argv.
	assertOneLineError(t, runCLI(t, dsn, "users", "set-password", "ann@example.com", "--password", "hunter2hunter2"), 2)
	assertOneLineError(t, runCLI(t, dsn, "users", "set-password", "ann@example.com", "--password-stdin", "--unusable"), 2)
	// Unknown user: exit 3.
	assertOneLineError(t, cliRun{DSN: dsn, Stdin: "long enough pw\n"}.run(t, "users", "set-password", "nobody@example.com", "--password-stdin", "--iterations", "10", "--force"), 3)
	// Dry run: nothing stored.
	r := cliRun{DSN: dsn, Stdin: "long enough pw\n"}.run(t, "users", "set-password", "ann@example.com", "--password-stdin", "--iterations", "10", "--force", "--dry-run", "-o", "json")
	if r.Code != 0 || len(parseChanges(t, r.Stdout)) != 1 {
		t.Fatalf("dry run: exit %d %s %s", r.Code, r.Stdout, r.Stderr)
	}
	assertUnchanged(t, db, before)
}

func TestSetPasswordPromptsTwiceOnTTY(t *testing.T) {
	t.Parallel()
	dsn, db := writeDB(t)
	id := fixture.AddUser(t, db, fixture.User{Email: "ann@example.com"})
	orig := promptSecret
	defer func() { promptSecret = orig }()
	answers := []string{"first password", "second password"}
	promptSecret = func(_ *Invocation, _ string) (string, error) {
		a := answers[0]
		answers = answers[1:]
		return a, nil
	}
	before := fixture.DumpAll(t, db)
	assertOneLineError(t, cliRun{DSN: dsn, TTY: true}.run(t, "users", "set-password", "ann@example.com", "--iterations", "10", "--force"), 4)
	assertUnchanged(t, db, before)

	answers = []string{"same password", "same password"}
	r := cliRun{DSN: dsn, TTY: true}.run(t, "users", "set-password", "ann@example.com", "--iterations", "10", "--force")
	if r.Code != 0 || len(answers) != 0 {
		t.Fatalf("exit %d (%s), %d prompts unused", r.Code, r.Stderr, len(answers))
	}
	if !checkDjangoPassword(t, "same password", queryText(t, db, `SELECT password FROM rbac_user WHERE id = $1`, id)) {
		t.Fatal("prompted password not stored")
	}
}

func TestSetUnusablePassword(t *testing.T) {
	t.Parallel()
	dsn, db := writeDB(t)
	id := fixture.AddUser(t, db, fixture.User{Email: "ann@example.com", Password: "pbkdf2_sha256$1$salt$xxxx"})
	mustRun(t, dsn, "users", "set-password", "ann@example.com", "--unusable", "--reason", "handover")
	enc := queryText(t, db, `SELECT password FROM rbac_user WHERE id = $1`, id)
	if len(enc) != 41 || enc[0] != '!' {
		t.Fatalf("stored %q: want ! + 40 characters", enc)
	}
	l := opLog(t, db)
	if len(l) != 1 || l[0].Before["password"] != "usable" || l[0].After["password"] != "changed, unusable" || l[0].Reason != "handover" {
		t.Fatalf("log %+v", l)
	}
}
