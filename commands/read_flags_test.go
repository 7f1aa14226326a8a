package commands

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/b2badmin/b2badmin/client"
)

// Flag tests of the read commands: each is built with a runF that captures
// its options, so parsing and validation run without a database.

// capture runs build's command on args with a runF that records the
// options; it returns them (nil if the run was not reached) and the error.
func capture[O any](t *testing.T, build func(*Invocation, func(context.Context, O) error) *cobra.Command, args ...string) (O, bool, error) {
	t.Helper()
	var got O
	reached := false
	cmd := build(offlineInvocation(), func(_ context.Context, o O) error { got, reached = o, true; return nil })
	err := captured(t, cmd, args...)
	return got, reached, err
}

// refusedBeforeRun checks that args fail with exit code want and never
// reach the run function.
func refusedBeforeRun[O any](t *testing.T, name string, build func(*Invocation, func(context.Context, O) error) *cobra.Command, want int, args ...string) {
	t.Helper()
	_, reached, err := capture(t, build, args...)
	if code, _ := classify(err); err == nil || code != want || reached {
		t.Errorf("%s %q: err %v (exit %d), run reached %v; want exit %d before running", name, args, err, code, reached, want)
	}
}

func TestFlagsUsersShow(t *testing.T) {
	o, ok, err := capture(t, newCmdUsersShow, "ann@example.com", "--section", "2FA, info", "--section", "tokens", "--reveal", "--limit", "5")
	if err != nil || !ok {
		t.Fatal(err)
	}
	if o.User != "ann@example.com" || strings.Join(o.Sections, ",") != "two_factor,info,tokens" || !o.Reveal || o.Limit != 5 {
		t.Fatalf("options %+v", o)
	}
	if o, _, _ := capture(t, newCmdUsersShow, "7"); o.Limit != 20 || o.Sections != nil || o.Reveal {
		t.Fatalf("defaults %+v", o)
	}
	refusedBeforeRun(t, "show", newCmdUsersShow, ExitUsage, "1", "--section", "wallets")
	refusedBeforeRun(t, "show", newCmdUsersShow, ExitUsage, "1", "--limit", "0")
	refusedBeforeRun(t, "show", newCmdUsersShow, ExitUsage, "1", "2")
	refusedBeforeRun(t, "show", newCmdUsersShow, ExitUsage)
}

func TestFlagsUsersSessionsAndTokens(t *testing.T) {
	before := time.Now()
	s, ok, err := capture(t, newCmdUsersSessions, "9", "--since", "2d", "--result", "failure", "--limit", "0")
	if err != nil || !ok {
		t.Fatal(err)
	}
	if want := before.Add(-48 * time.Hour); s.User != "9" || s.Filter.Result != "failure" || s.Filter.Limit != 0 || s.Filter.Since == nil ||
		s.Filter.Since.Sub(want).Abs() > time.Minute {
		t.Fatalf("sessions options %+v since %v", s, s.Filter.Since)
	}
	if s, _, _ := capture(t, newCmdUsersSessions, "9"); s.Filter.Limit != 50 || s.Filter.Since != nil || s.Filter.Result != "" {
		t.Fatalf("sessions defaults %+v", s.Filter)
	}
	refusedBeforeRun(t, "sessions", newCmdUsersSessions, ExitUsage, "9", "--result", "maybe")
	refusedBeforeRun(t, "sessions", newCmdUsersSessions, ExitUsage, "9", "--since", "yesterday")
	refusedBeforeRun(t, "sessions", newCmdUsersSessions, ExitUsage, "9", "--limit", "-1")
	refusedBeforeRun(t, "sessions", newCmdUsersSessions, ExitUsage, "9", "--status", "used") // tokens only

	tk, ok, err := capture(t, newCmdUsersTokens, "a@example.com", "--status", " USED ", "--reveal", "--since", "2024-05-01")
	if err != nil || !ok {
		t.Fatal(err)
	}
	if tk.User != "a@example.com" || tk.Filter.Status != "used" || !tk.Reveal || !tk.Filter.Since.Equal(time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("tokens options %+v", tk)
	}
	refusedBeforeRun(t, "tokens", newCmdUsersTokens, ExitUsage, "9", "--result", "success") // sessions only
}

func TestFlagsListsWithoutArguments(t *testing.T) {
	p, ok, err := capture(t, newCmdPermsList, "--app", "KYC", "--search", "document")
	if err != nil || !ok || p.App != "KYC" || p.Search != "document" || p.Model != "" {
		t.Fatalf("perms list %+v %v", p, err)
	}
	// The catalog needs no database: the filter itself is checked here.
	for _, perm := range filterCatalog(p) {
		if perm.AppLabel != "kyc" || !strings.Contains(strings.ToLower(perm.ID()+perm.Label), "document") {
			t.Errorf("perms list --app KYC --search document matched %s", perm.ID())
		}
	}
	if len(filterCatalog(p)) == 0 {
		t.Error("perms list --app KYC --search document matched nothing")
	}
	if _, ok, err := capture(t, newCmdGroupsList); err != nil || !ok {
		t.Fatalf("groups list: %v", err)
	}
	if _, ok, err := capture(t, newCmdDBStatus); err != nil || !ok {
		t.Fatalf("db status: %v", err)
	}
	if _, ok, err := capture(t, newCmdDBMigrate); err != nil || !ok {
		t.Fatalf("db migrate: %v", err)
	}
	// -o is a global flag: perms export runs under a root that has it.
	underRoot := func(args ...string) *permsExportOptions {
		var got *permsExportOptions
		inv := offlineInvocation()
		root := &cobra.Command{Use: "b2badmin"}
		root.PersistentFlags().StringVarP(&inv.Global.Output, "output", "o", "table", "")
		root.AddCommand(newCmdPermsExport(inv, func(_ context.Context, o *permsExportOptions) error { got = o; return nil }))
		if err := captured(t, root, append([]string{"export"}, args...)...); err != nil {
			t.Fatal(err)
		}
		return got
	}
	if e := underRoot("-o", "jsonl"); !e.OutputSet || e.Global.Output != "jsonl" {
		t.Fatalf("perms export -o jsonl: %+v", e)
	}
	if e := underRoot(); e.OutputSet {
		t.Fatal("perms export without -o must default to CSV")
	}
	refusedBeforeRun(t, "groups list", newCmdGroupsList, ExitUsage, "extra")
	refusedBeforeRun(t, "perms list", newCmdPermsList, ExitUsage, "--bogus")
	refusedBeforeRun(t, "db status", newCmdDBStatus, ExitUsage, "x")
	refusedBeforeRun(t, "perms export", newCmdPermsExport, ExitUsage, "x")
}

func TestFlagsUserReads(t *testing.T) {
	ps, ok, err := capture(t, newCmdPermsShow, "uuid-or-email")
	if err != nil || !ok || ps.User != "uuid-or-email" {
		t.Fatalf("perms show %+v %v", ps, err)
	}
	refusedBeforeRun(t, "perms show", newCmdPermsShow, ExitUsage)
	refusedBeforeRun(t, "perms show", newCmdPermsShow, ExitUsage, "1", "2")

	st, ok, err := capture(t, newCmdTwoFAStatus, "1", "-", "b@example.com")
	if err != nil || !ok || strings.Join(st.Args, " ") != "1 - b@example.com" {
		t.Fatalf("2fa status %+v %v", st, err)
	}
	refusedBeforeRun(t, "2fa status", newCmdTwoFAStatus, ExitUsage)

	cs, ok, err := capture(t, newCmdCommissionsShow, "4", "--as-of", "2024-03-31T23:00:00Z")
	if err != nil || !ok || cs.User != "4" || !cs.At.Equal(time.Date(2024, 3, 31, 23, 0, 0, 0, time.UTC)) {
		t.Fatalf("commissions show %+v %v", cs, err)
	}
	if cs, _, _ := capture(t, newCmdCommissionsShow, "4"); time.Since(cs.At) > time.Minute {
		t.Fatalf("commissions show defaults to now, got %v", cs.At)
	}
	refusedBeforeRun(t, "commissions show", newCmdCommissionsShow, ExitUsage, "4", "--as-of", "last tuesday")

	tr, ok, err := capture(t, newCmdCommissionsTransfers, "4", "--month", "2024-02")
	if err != nil || !ok || tr.M != client.MonthOf(time.Date(2024, 2, 10, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("commissions transfers %+v %v", tr, err)
	}
	if tr, _, _ := capture(t, newCmdCommissionsTransfers, "4"); tr.M != client.MonthOf(time.Now()) {
		t.Fatalf("commissions transfers defaults to this month, got %+v", tr.M)
	}
	for _, bad := range []string{"2024-13", "24-02", "1969-12", "2024-02-01"} {
		refusedBeforeRun(t, "commissions transfers", newCmdCommissionsTransfers, ExitUsage, "4", "--month", bad)
	}
}

func TestFlagsDBSeedAndCompletion(t *testing.T) {
	s, ok, err := capture(t, newCmdDBSeed, "--users", "20000", "--seed", "7", "--if-empty")
	if err != nil || !ok || s.Users != 20000 || s.Seed != 7 || !s.IfEmpty {
		t.Fatalf("db seed %+v %v", s, err)
	}
	if s, _, _ := capture(t, newCmdDBSeed); s.Users != 1000 || s.Seed != 1 || s.IfEmpty {
		t.Fatalf("db seed defaults %+v", s)
	}
	refusedBeforeRun(t, "db seed", newCmdDBSeed, ExitUsage, "--users", "0")
	refusedBeforeRun(t, "db seed", newCmdDBSeed, ExitUsage, "--users", "50000001")

	c, ok, err := capture(t, newCmdCompletion, "fish")
	if err != nil || !ok || c.Shell != "fish" || c.root == nil {
		t.Fatalf("completion %+v %v", c, err)
	}
	refusedBeforeRun(t, "completion", newCmdCompletion, ExitUsage, "tcsh")
	refusedBeforeRun(t, "completion", newCmdCompletion, ExitUsage)
}

func TestFlagsVersionAndConfig(t *testing.T) {
	if _, ok, err := capture(t, newCmdVersion); err != nil || !ok {
		t.Fatalf("version: %v", err)
	}
	if _, ok, err := capture(t, newCmdConfigView); err != nil || !ok {
		t.Fatalf("config view: %v", err)
	}
	if _, ok, err := capture(t, newCmdConfigProfiles); err != nil || !ok {
		t.Fatalf("config profiles: %v", err)
	}
	refusedBeforeRun(t, "version", newCmdVersion, ExitUsage, "extra")
	refusedBeforeRun(t, "config view", newCmdConfigView, ExitUsage, "extra")
}
