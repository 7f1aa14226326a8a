package commands

import (
	"reflect"
	"strings"
	"testing"

	"github.com/b2badmin/b2badmin/internal/fixture"
)

func TestUpdateWritesAndLogsOnlyChangedFields(t *testing.T) {
	t.Parallel()
	dsn, db := writeDB(t)
	id := fixture.AddUser(t, db, fixture.User{Email: "ann@example.com", FirstName: "Ann", LastName: "Lee", Language: "en"})
	other := fixture.AddUser(t, db, fixture.User{Email: "other@example.com"})
	r := cliRun{DSN: dsn, Env: map[string]string{"B2BADMIN_ACTOR": "alice"}}.run(t, "users", "update", "ann@example.com",
		"--email", "Ann.Lee@Example.COM", "--first-name", "Ann", "--phone", "+44 (20) 7946-0958",
		"--ip-whitelist", "10.1.2.3/8, 2001:DB8::1", "--language", "DE", "--reason", "OPS-1")
	if r.Code != 0 {
		t.Fatalf("exit %d: %s", r.Code, r.Stderr)
	}
	got := queryText(t, db, `SELECT concat_ws('|', email, first_name, phone, ip_white_list, language, communication_language) FROM rbac_user WHERE id = $1`, id)
	if want := "Ann.Lee@example.com|Ann|+442079460958|10.0.0.0/8,2001:db8::1|de|en"; got != want {
		t.Fatalf("stored %q, want %q", got, want)
	}
	logs := opLog(t, db)
	if len(logs) != 1 {
		t.Fatalf("want 1 log row, got %d", len(logs))
	}
	l := logs[0]
	wantBefore := map[string]any{"email": "ann@example.com", "phone": "", "ip_white_list": "", "language": "en"}
	wantAfter := map[string]any{"email": "Ann.Lee@example.com", "phone": "+442079460958", "ip_white_list": "10.0.0.0/8,2001:db8::1", "language": "de"}
	if l.Action != "users.update" || l.Actor != "alice" || l.UserID != id || l.Reason != "OPS-1" ||
		!reflect.DeepEqual(l.Before, wantBefore) || !reflect.DeepEqual(l.After, wantAfter) {
		t.Fatalf("log row %+v", l)
	}
	if !strings.HasPrefix(l.Command, "b2badmin users update ann@example.com --email") {
		t.Fatalf("command line %q", l.Command)
	}
	// The other user is untouched.
	if e := queryText(t, db, `SELECT email FROM rbac_user WHERE id = $1`, other); e != "other@example.com" {
		t.Fatalf("other user changed: %s", e)
	}
}

func TestUpdateNoOpWritesNothing(t *testing.T) {
	t.Parallel()
	dsn, db := writeDB(t)
	fixture.AddUser(t, db, fixture.User{Email: "ann@example.com", FirstName: "Ann", Phone: "+442079460958"})
	before := fixture.DumpAll(t, db)
	r := mustRun(t, dsn, "users", "update", "ann@example.com", "--first-name", "Ann", "--phone", "+44 20 7946 0958")
	if !strings.Contains(r.Stderr, "no change") {
		t.Fatalf("no-op not reported: %q", r.Stderr)
	}
	assertUnchanged(t, db, before)
}

func TestUpdateBadInputRefusedBeforeAnySQL(t *testing.T) {
	t.Parallel()
	dsn, db := writeDB(t)
	fixture.AddUser(t, db, fixture.User{Email: "ann@example.com"})
	before := fixture.DumpAll(t, db)
	for _, args := range [][]string{
		{"--email", "not-an-email"},
		{"--email", "Ann <ann@example.org>"},
		{"--phone", "12345"},
		{"--phone", "+44 20 7946 095x"},
		{"--ip-whitelist", "10.0.0.300"},
		{"--ip-whitelist", "10.0.0.0/33,1.2.3.4"},
		{"--ip-whitelist", "1.2.3.4; DROP TABLE rbac_user"},
		{"--language", "xx"},
		{"--communication-language", "klingon"},
		{"--active", "maybe"},
		{"--first-name", "Ann\x07"},
	} {
		// Against the real database: exit 4, nothing changed.
		r := runCLI(t, dsn, append([]string{"users", "update", "ann@example.com"}, args...)...)
		assertOneLineError(t, r, 4)
		// Against a closed port: still exit 4, so no connection was attempted.
		r = runCLI(t, closedDSN, append([]string{"users", "update", "ann@example.com"}, args...)...)
		assertOneLineError(t, r, 4)
	}
	assertUnchanged(t, db, before)
}

func TestUpdateEmailTakenCaseInsensitively(t *testing.T) {
	t.Parallel()
	dsn, db := writeDB(t)
	fixture.AddUser(t, db, fixture.User{Email: "ann@example.com"})
	bob := fixture.AddUser(t, db, fixture.User{Email: "bob@example.com"})
	before := fixture.DumpAll(t, db)
	r := runCLI(t, dsn, "users", "update", "bob@example.com", "--email", "ANN@example.com", "--phone", "+12025550123")
	assertOneLineError(t, r, 4)
	if !strings.Contains(r.Stderr, "already used by user") {
		t.Fatalf("message does not say why: %q", r.Stderr)
	}
	assertUnchanged(t, db, before)
	// Changing only the case of one's own address is fine.
	mustRun(t, dsn, "users", "update", "bob@example.com", "--email", "Bob@example.com")
	if e := queryText(t, db, `SELECT email FROM rbac_user WHERE id = $1`, bob); e != "Bob@example.com" {
		t.Fatalf("email %q", e)
	}
}

func TestUpdateDryRunShowsChangeAndWritesNothing(t *testing.T) {
	t.Parallel()
	dsn, db := writeDB(t)
	id := fixture.AddUser(t, db, fixture.User{Email: "ann@example.com", LastName: "Lee"})
	before := fixture.DumpAll(t, db)
	r := mustRun(t, dsn, "users", "update", "ann@example.com", "--last-name", "Smith", "--active", "false", "--dry-run", "-o", "json")
	rows := parseChanges(t, r.Stdout)
	want := []changeRow{
		{UserID: id, Email: "ann@example.com", Field: "is_active", Before: true, After: false},
		{UserID: id, Email: "ann@example.com", Field: "last_name", Before: "Lee", After: "Smith"},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Fatalf("dry run rows %+v, want %+v", rows, want)
	}
	assertUnchanged(t, db, before)
}

func TestUpdateActiveFalseRevokesAccess(t *testing.T) {
	t.Parallel()
	dsn, db := writeDB(t)
	id := fixture.AddUser(t, db, fixture.User{Email: "ann@example.com"})
	addToken(t, db, id, "jti-1")
	addSession(t, db, "s1", djangoSession(id, true))
	mustRun(t, dsn, "users", "update", "ann@example.com", "--active", "false")
	if n := queryInt(t, db, `SELECT count(*) FROM token_blacklist_blacklistedtoken`); n != 1 {
		t.Fatalf("blacklisted %d tokens, want 1", n)
	}
	if n := queryInt(t, db, `SELECT count(*) FROM django_session`); n != 0 {
		t.Fatalf("%d sessions left", n)
	}
	if l := opLog(t, db); len(l) != 1 || l[0].After["is_active"] != false {
		t.Fatalf("log %+v", l)
	}
}

func TestUpdateUsageAndNotFound(t *testing.T) {
	t.Parallel()
	dsn, db := writeDB(t)
	fixture.AddUser(t, db, fixture.User{Email: "ann@example.com"})
	assertOneLineError(t, runCLI(t, dsn, "users", "update", "ann@example.com"), 2)
	assertOneLineError(t, runCLI(t, dsn, "users", "update", "nobody@example.com", "--last-name", "X"), 3)
	assertOneLineError(t, runCLI(t, dsn, "users", "update", "999", "--last-name", "X"), 3)
}
