package commands

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/b2badmin/b2badmin/client"
	"github.com/b2badmin/b2badmin/client/seed"
	"github.com/b2badmin/b2badmin/internal/fixture"
	"github.com/b2badmin/b2badmin/internal/pgtest"
)

// seededDB is a database holding the demo data of 2,000 users (seeded
// at a fixed moment), plus a few staff and superusers the seed has none of.
func seededDB(t *testing.T) (string, *pgx.Conn) {
	t.Helper()
	dsn := pgtest.NewDatabase(t)
	ctx := context.Background()
	c, err := client.Connect(ctx, client.Options{DSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	now := time.Date(2026, 11, 17, 0, 0, 0, 0, time.UTC)
	if _, err := seed.Run(ctx, c.DB(), seed.Options{Users: 2000, Seed: 11, Now: now, HashIterations: 1000}); err != nil {
		t.Fatal(err)
	}
	db := fixture.Conn(t, dsn)
	mustExec(t, db, `UPDATE rbac_user SET is_staff = true WHERE id % 97 = 0`)
	mustExec(t, db, `UPDATE rbac_user SET is_superuser = true WHERE id % 193 = 0`)
	return dsn, db
}

// newFilters are the selector's filters beyond the Users page's panel, each
// with an SQL oracle written from its plain meaning (not from the tool's SQL).
var newFilters = []struct {
	args  []string
	where string
}{
	{[]string{"--last-login-before", "2026-06-30"}, "u.last_login < '2026-07-01Z'"},
	{[]string{"--last-login-before", "2026-06-30T12:00:00Z"}, "u.last_login < '2026-06-30T12:00:00Z'"},
	{[]string{"--last-login-after", "2026-09-01"}, "u.last_login >= '2026-09-01Z'"},
	{[]string{"--never-logged-in"}, "u.last_login IS NULL"},
	{[]string{"--2fa"}, "EXISTS (SELECT 1 FROM otp_totp_totpdevice d WHERE d.user_id = u.id AND d.confirmed) OR EXISTS (SELECT 1 FROM otp_email_emaildevice d WHERE d.user_id = u.id AND d.confirmed)"},
	{[]string{"--no-2fa"}, "NOT EXISTS (SELECT 1 FROM otp_totp_totpdevice d WHERE d.user_id = u.id AND d.confirmed) AND NOT EXISTS (SELECT 1 FROM otp_email_emaildevice d WHERE d.user_id = u.id AND d.confirmed)"},
	{[]string{"--perm", "api.*"}, "EXISTS (SELECT 1 FROM rbac_user_user_permissions up JOIN auth_permission p ON p.id = up.permission_id JOIN django_content_type ct ON ct.id = p.content_type_id WHERE up.user_id = u.id AND ct.app_label = 'api')"},
	{[]string{"--perm", "KYC.view_*", "--perm", "api.charge_wallet"}, "EXISTS (SELECT 1 FROM rbac_user_user_permissions up JOIN auth_permission p ON p.id = up.permission_id JOIN django_content_type ct ON ct.id = p.content_type_id WHERE up.user_id = u.id AND ((ct.app_label = 'kyc' AND p.codename LIKE 'view\\_%') OR (ct.app_label = 'api' AND p.codename = 'charge_wallet')))"},
	{[]string{"--no-perms"}, "NOT EXISTS (SELECT 1 FROM rbac_user_user_permissions up WHERE up.user_id = u.id)"},
	{[]string{"--no-group"}, "NOT EXISTS (SELECT 1 FROM rbac_user_groups ug WHERE ug.user_id = u.id)"},
	{[]string{"--not-group", "API", "--not-group", "kyc not verified"}, "NOT EXISTS (SELECT 1 FROM rbac_user_groups ug JOIN auth_group g ON g.id = ug.group_id WHERE ug.user_id = u.id AND g.name IN ('API', 'KYC not verified'))"},
	{[]string{"--all-groups", "Merchant owner,Phone not verified"}, "2 = (SELECT count(*) FROM rbac_user_groups ug JOIN auth_group g ON g.id = ug.group_id WHERE ug.user_id = u.id AND g.name IN ('Merchant owner', 'Phone not verified'))"},
	{[]string{"--company-owner"}, "u.is_company_owner"},
	{[]string{"--not-company-owner"}, "NOT u.is_company_owner"},
	{[]string{"--language", "DE"}, "u.language = 'de'"},
	{[]string{"--staff"}, "u.is_staff"},
	{[]string{"--superuser"}, "u.is_superuser"},
}

// TestSelectorsMatchSQLOnSeededData checks every new filter, alone and
// with each other one (AND), against its SQL oracle on realistic data.
func TestSelectorsMatchSQLOnSeededData(t *testing.T) {
	t.Parallel()
	dsn, db := seededDB(t)
	domain := queryText(t, db, `SELECT split_part(email, '@', 2) FROM rbac_user WHERE company_id IS NOT NULL ORDER BY id LIMIT 1`)
	filters := append(newFilters, struct {
		args  []string
		where string
	}{[]string{"--email-domain", strings.ToUpper(domain)}, fmt.Sprintf("lower(split_part(u.email, '@', 2)) = '%s'", strings.ToLower(domain))})
	check := func(t *testing.T, args []string, where string) int {
		want := sqlIDs(t, db, where)
		got := parseIDs(t, mustRun(t, dsn, append([]string{"users", "list", "--all", "-o", "ids"}, args...)...).Stdout)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("users list %v: %d users, SQL says %d", args, len(got), len(want))
		}
		if c := strings.TrimSpace(mustRun(t, dsn, append([]string{"users", "list", "--count"}, args...)...).Stdout); c != strconv.Itoa(len(want)) {
			t.Fatalf("--count %v says %s, want %d", args, c, len(want))
		}
		return len(want)
	}
	matched := 0
	for i, a := range filters {
		if n := check(t, a.args, a.where); n > 0 {
			matched++
		}
		for _, b := range filters[i+1:] {
			if exclusivePair(a.args[0], b.args[0]) {
				continue
			}
			check(t, append(append([]string{}, a.args...), b.args...), "("+a.where+") AND ("+b.where+")")
		}
		// With the page's filters too.
		check(t, append([]string{"--type", "merchant", "--active"}, a.args...), "u.type = 'merchant' AND u.is_active AND ("+a.where+")")
	}
	if matched < len(filters)-1 {
		t.Fatalf("only %d of %d filters match any seeded user: the oracle proves little", matched, len(filters))
	}
}

func exclusivePair(a, b string) bool {
	for _, p := range [][2]string{{"--2fa", "--no-2fa"}, {"--company-owner", "--not-company-owner"}, {"--never-logged-in", "--last-login-before"},
		{"--never-logged-in", "--last-login-after"}, {"--no-perms", "--perm"}, {"--no-group", "--all-groups"}} {
		if (a == p[0] && b == p[1]) || (a == p[1] && b == p[0]) {
			return true
		}
	}
	return a == b
}

// A selector on a bulk command changes exactly the users the same filters
// list, and a bulk command with neither users nor filters is refused.
func TestSelectorsChooseBulkTargets(t *testing.T) {
	t.Parallel()
	dsn, db := seededDB(t)
	list := parseIDs(t, mustRun(t, dsn, "users", "list", "--last-login-before", "2026-06-01", "--active", "-o", "ids", "--all").Stdout)
	dry := mustRun(t, dsn, "users", "deactivate", "--last-login-before", "2026-06-01", "--dry-run", "-o", "ids")
	if got := parseIDs(t, dry.Stdout); len(list) < 10 || fmt.Sprint(got) != fmt.Sprint(list) {
		t.Fatalf("deactivate by selector would change %d users, users list says %d", len(got), len(list))
	}
	before := fixture.DumpAll(t, db)
	// No users, no filters: exit 2, nothing written, on every bulk command.
	for _, args := range [][]string{
		{"users", "deactivate", "--yes"}, {"users", "activate", "--yes"}, {"users", "update", "--phone", "+4930123456", "--yes"},
		{"users", "set-password", "--unusable", "--yes"}, {"users", "set-group", "API", "--yes"},
		{"users", "add-group", "API", "--yes"}, {"users", "remove-group", "API", "--yes"}, {"users", "set-role", "Merchant staff", "--yes"},
		{"perms", "grant", "api.view_wallet", "--yes"}, {"perms", "revoke", "api.view_wallet", "--yes"},
		{"2fa", "disable", "--yes"}, {"2fa", "enable", "--method", "email", "--yes"},
		{"commissions", "set", "--operation", "deposit", "--currency", "USDT", "--percent", "1", "--fixed", "1", "--yes"},
		{"users", "deactivate", "--id", "", "--yes"},
	} {
		r := cliRun{DSN: dsn, Stdin: ""}.run(t, args...)
		if r.Code != ExitUsage && r.Code != ExitRefused {
			t.Errorf("%v: exit %d, want a refusal (%s)", args, r.Code, r.Stderr)
		}
	}
	// Users and filters at once: exit 2.
	assertOneLineError(t, runCLI(t, dsn, "users", "deactivate", "1", "--type", "merchant", "--yes"), ExitUsage)
	assertUnchanged(t, db, before)

	// A group command with a selector: every argument is a group.
	merchants := parseIDs(t, mustRun(t, dsn, "users", "list", "--type", "merchant", "--no-group", "-o", "ids", "--all").Stdout)
	r := mustRun(t, dsn, "users", "add-group", "--type", "merchant", "--no-group", "KYC not verified", "--yes", "-o", "ids")
	if got := parseIDs(t, r.Stdout); len(merchants) == 0 || fmt.Sprint(got) != fmt.Sprint(merchants) {
		t.Fatalf("add-group by selector changed %v, list said %v", got, merchants)
	}
	// --max-affected counts the users that would change.
	assertOneLineError(t, runCLI(t, dsn, "perms", "grant", "--type", "merchant", "api.view_wallet", "--yes", "--max-affected", "3"), ExitRefused)
	// The same selector in a batch line, checked before anything runs.
	file := writeFile(t, "sel.txt", "perms grant --company-owner --no-2fa api.view_wallet --reason sel\nusers set-role --all-groups 'Merchant owner,API' 'Legal merchant owner'\n")
	b := mustRun(t, dsn, "batch", file)
	if !regexp.MustCompile(`run [0-9a-f-]{36}: 2 ok, 0 failed; committed`).MatchString(b.Stderr) {
		t.Fatalf("batch with selectors: %s", b.Stderr)
	}
	bad := writeFile(t, "bad.txt", "perms grant --company-owner api.view_wallet\nusers set-role --type merchant 'Nope owner'\n")
	if r := runCLI(t, dsn, "batch", bad); r.Code != ExitRefused || !strings.Contains(r.Stderr, ":2: ") {
		t.Fatalf("a bad group on a selector line: exit %d %s", r.Code, r.Stderr)
	}
}

// TestTimeFlagsShareOneGrammar walks the command tree: every time flag
// accepts the documented forms and refuses others with exit 2.
func TestTimeFlagsShareOneGrammar(t *testing.T) {
	root := NewRootCmd(offlineInvocation())
	var flags []struct {
		path []string
		name string
		yes  bool
	}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			if strings.Contains(f.Usage, timeHelp) {
				flags = append(flags, struct {
					path []string
					name string
					yes  bool
				}{strings.Fields(c.CommandPath())[1:], f.Name, c.Flags().Lookup("yes") != nil})
			}
		})
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	if len(flags) < 20 {
		t.Fatalf("only %d time flags found: the walk is broken", len(flags))
	}
	for _, f := range flags {
		for _, bad := range []string{"yesterday", "2026-13-01", "90", "d", "-5d", "5y", "2026-01-01 10:00", "1e3d", "99999999999999999999d"} {
			args := append(append([]string{}, f.path...), "--"+f.name, bad)
			r := runCLI(t, closedDSN, timeFlagArgs(f.path, args, f.yes)...)
			if r.Code != ExitUsage || !strings.Contains(r.Stderr, "--"+f.name) {
				t.Errorf("%v: exit %d %q, want exit 2 naming --%s", args, r.Code, r.Stderr, f.name)
			}
		}
		for _, good := range []string{"2026-01-31", "2026-01-31T12:00:00Z", "2026-01-31T12:00:00+02:00", "90d", "12h", "2w", "30m"} {
			args := append(append([]string{}, f.path...), "--"+f.name, good)
			// A closed DSN: the flags parse, then connecting fails (exit 1).
			if r := runCLI(t, closedDSN, timeFlagArgs(f.path, args, f.yes)...); r.Code == ExitUsage {
				t.Errorf("%v refused: %s", args, r.Stderr)
			}
		}
	}
}

// timeFlagArgs completes a command line so that only the time flag can be
// wrong: a user argument where one is needed, --yes, a valid group.
func timeFlagArgs(cmdPath, args []string, yes bool) []string {
	path := strings.Join(cmdPath, " ")
	extra := map[string][]string{
		"users sessions": {"1"}, "users tokens": {"1"}, "commissions show": {"1"},
		"users add-group": {"API"}, "users set-group": {"API"}, "users remove-group": {"API"}, "users set-role": {"Merchant staff"},
		"perms grant": {"api.view_wallet"}, "perms revoke": {"api.view_wallet"}, "users update": {"--phone", "+4930123456"},
		"users set-password": {"--unusable"}, "2fa enable": {"--method", "email"},
		"commissions set": {"--operation", "deposit", "--currency", "USDT", "--percent", "1", "--fixed", "1"},
		"perms audit":     {"--policy", filepath.Join("..", "examples", "policy.yaml")},
	}[path]
	args = append(args, extra...)
	if yes {
		args = append(args, "--yes")
	}
	return args
}

// FuzzParseTime: the time grammar never panics, and what it accepts is a
// form it documents.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2026-01-31", "2026-01-31T12:00:00Z", "90d", "12h", "2w", "30m", "", "d", "-1d", "1e9w", "2026-02-30", "９０d"} {
		f.Add(s)
	}
	now := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	form := regexp.MustCompile(`^\s*(\d{4}-\d{2}-\d{2}|\d{4}-\d{2}-\d{2}T.+|\d+[mhdw])\s*$`)
	f.Fuzz(func(t *testing.T, s string) {
		for _, b := range []bound{lowerBound, upperBound, upperInclusive} {
			got, err := parseTime("--since", s, b, now)
			if err != nil {
				var ue *UsageError
				if !errorAs(err, &ue) {
					t.Fatalf("%q: %T, want a usage error", s, err)
				}
				continue
			}
			if !form.MatchString(s) {
				t.Fatalf("%q accepted (%v) but is no documented form", s, got)
			}
			if strings.HasSuffix(strings.TrimSpace(s), "d") && got.After(now) {
				t.Fatalf("age %q is in the future: %v", s, got)
			}
		}
	})
}

func errorAs(err error, target any) bool { return errors.As(err, target) }
