package commands

import (
	"context"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/b2badmin/b2badmin/internal/fixture"
)

func groupsOf(t *testing.T, db *pgx.Conn, id int64) string {
	t.Helper()
	return queryText(t, db, `SELECT coalesce(string_agg(g.name, ',' ORDER BY g.name), '') FROM rbac_user_groups ug JOIN auth_group g ON g.id = ug.group_id WHERE ug.user_id = $1`, id)
}

func TestGroupMembershipAndLog(t *testing.T) {
	t.Parallel()
	dsn, db := writeDB(t)
	m := fixture.AddUser(t, db, fixture.User{Email: "m@example.com", Type: "merchant", Company: "Acme", Groups: []string{"KYC not verified"}})
	mustRun(t, dsn, "users", "add-group", "m@example.com", "merchant OWNER", "API", "--reason", "onboarding")
	if g := groupsOf(t, db, m); g != "API,KYC not verified,Merchant owner" {
		t.Fatalf("groups %s", g)
	}
	mustRun(t, dsn, "users", "set-group", "m@example.com", "Legal merchant staff", "API")
	if g := groupsOf(t, db, m); g != "API,Legal merchant staff" {
		t.Fatalf("after set-group: %s", g)
	}
	mustRun(t, dsn, "users", "remove-group", "m@example.com", "API")
	if g := groupsOf(t, db, m); g != "Legal merchant staff" {
		t.Fatalf("after remove-group: %s", g)
	}
	// Already as asked: reported, no log row.
	r := mustRun(t, dsn, "users", "remove-group", "m@example.com", "API")
	if !strings.Contains(r.Stderr, "already as asked") {
		t.Fatalf("no-op not reported: %q", r.Stderr)
	}
	logs := opLog(t, db)
	want := []struct {
		action        string
		before, after []any
	}{
		{"users.add-group", []any{"KYC not verified"}, []any{"API", "KYC not verified", "Merchant owner"}},
		{"users.set-group", []any{"API", "KYC not verified", "Merchant owner"}, []any{"API", "Legal merchant staff"}},
		{"users.remove-group", []any{"API", "Legal merchant staff"}, []any{"Legal merchant staff"}},
	}
	if len(logs) != len(want) {
		t.Fatalf("%d log rows, want %d", len(logs), len(want))
	}
	for i, w := range want {
		l := logs[i]
		if l.Action != w.action || l.UserID != m || !reflect.DeepEqual(l.Before["groups"], w.before) || !reflect.DeepEqual(l.After["groups"], w.after) {
			t.Errorf("log %d: %+v, want %+v", i, l, w)
		}
	}
	if logs[0].Reason != "onboarding" {
		t.Errorf("reason %q", logs[0].Reason)
	}
}

func TestGroupRulesRefusedNothingChanged(t *testing.T) {
	t.Parallel()
	dsn, db := writeDB(t)
	fixture.AddUser(t, db, fixture.User{Email: "m@example.com", Type: "merchant", Company: "Acme", Groups: []string{"Merchant owner"}})
	fixture.AddUser(t, db, fixture.User{Email: "e@example.com", Type: "enterprise"})
	fixture.AddUser(t, db, fixture.User{Email: "m2@example.com", Type: "merchant"})
	before := fixture.DumpAll(t, db)
	for _, c := range []struct {
		args  []string
		stdin string
		code  int
		says  string
	}{
		{[]string{"add-group", "m@example.com", "Merchant staff"}, "", 4, "at most one"},
		{[]string{"set-group", "m2@example.com", "Merchant staff", "Legal merchant owner"}, "", 4, "at most one"},
		{[]string{"add-group", "e@example.com", "Merchant owner"}, "", 4, "type merchant"},
		{[]string{"add-group", "m2@example.com", "Enterprise staff"}, "", 4, "type enterprise"},
		{[]string{"add-group", "m2@example.com", "API"}, "", 4, "company"},
		{[]string{"add-group", "m2@example.com", "Admins"}, "", 4, "unknown group"},
		// Many users: one breaks a rule, so nobody changes.
		{[]string{"add-group", "-", "Merchant staff", "--yes"}, "m2@example.com\ne@example.com\n", 4, "type merchant"},
		// Many users: one unknown, so nobody changes.
		{[]string{"add-group", "-", "KYC not verified", "--yes"}, "m2@example.com\nghost@example.com\n", 3, "ghost@example.com"},
		{[]string{"add-group", "m@example.com"}, "", 2, ""},
	} {
		r := cliRun{DSN: dsn, Stdin: c.stdin}.run(t, append([]string{"users"}, c.args...)...)
		assertOneLineError(t, r, c.code)
		if !strings.Contains(r.Stderr, c.says) {
			t.Errorf("%v: message %q does not mention %q", c.args, r.Stderr, c.says)
		}
	}
	// Unknown group: exit 4 before any SQL.
	assertOneLineError(t, runCLI(t, closedDSN, "users", "add-group", "m@example.com", "Admins"), 4)
	// Dry run of a valid bulk change: the exact change list, nothing written.
	r := cliRun{DSN: dsn, Stdin: "m2@example.com\ne@example.com\n"}.run(t, "users", "add-group", "-", "Phone not verified", "--dry-run", "-o", "json")
	rows := parseChanges(t, r.Stdout)
	if r.Code != 0 || len(rows) != 2 || rows[0].Field != "groups" || !reflect.DeepEqual(rows[0].After, []any{"Phone not verified"}) {
		t.Fatalf("dry run: exit %d rows %+v %s", r.Code, rows, r.Stderr)
	}
	assertUnchanged(t, db, before)
}

// Admin A holds the user's row (mid-change) and gives it a role group;
// admin B's add-group of another role group must wait for A and then see
// A's group, so it is refused instead of leaving two role groups.
func TestGroupLockSerialisesConcurrentAdmins(t *testing.T) {
	t.Parallel()
	dsn, db := writeDB(t)
	id := fixture.AddUser(t, db, fixture.User{Email: "m@example.com", Type: "merchant"})
	ctx := context.Background()
	tx, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT 1 FROM rbac_user WHERE id = $1 FOR UPDATE`, id); err != nil {
		t.Fatal(err)
	}
	done := make(chan cliResult, 1)
	go func() { done <- runCLI(t, dsn, "users", "add-group", "m@example.com", "Merchant staff") }()
	// B must be blocked on A's lock; give it time to get there.
	time.Sleep(300 * time.Millisecond)
	select {
	case r := <-done:
		t.Fatalf("add-group did not wait for the row lock: exit %d %s", r.Code, r.Stderr)
	default:
	}
	if _, err := tx.Exec(ctx, `INSERT INTO rbac_user_groups (user_id, group_id) SELECT $1, id FROM auth_group WHERE name = 'Merchant owner'`, id); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	r := <-done
	assertOneLineError(t, r, 4)
	if g := groupsOf(t, db, id); g != "Merchant owner" {
		t.Fatalf("groups %s: the one-role rule was broken", g)
	}
}

// Two admins race to give the same user different role groups: exactly
// one wins, the other is refused, and exactly one log row exists.
func TestGroupConcurrentRoleRace(t *testing.T) {
	t.Parallel()
	dsn, db := writeDB(t)
	for round := 0; round < 5; round++ {
		email := "race" + string(rune('a'+round)) + "@example.com"
		id := fixture.AddUser(t, db, fixture.User{Email: email, Type: "merchant"})
		var wg sync.WaitGroup
		codes := make([]int, 2)
		for i, g := range []string{"Merchant owner", "Legal merchant staff"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				codes[i] = runCLI(t, dsn, "users", "add-group", email, g).Code
			}()
		}
		wg.Wait()
		if !(codes[0] == 0 && codes[1] == 4 || codes[0] == 4 && codes[1] == 0) {
			t.Fatalf("round %d: exit codes %v, want one 0 and one 4", round, codes)
		}
		if g := groupsOf(t, db, id); strings.Contains(g, ",") {
			t.Fatalf("round %d: two role groups %s", round, g)
		}
		if n := queryInt(t, db, `SELECT count(*) FROM api_operationlog WHERE target_user_id = $1`, id); n != 1 {
			t.Fatalf("round %d: %d log rows, want 1", round, n)
		}
	}
}
