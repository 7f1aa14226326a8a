package commands

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/b2badmin/b2badmin/client"
)

// Flag tests: each command is built with a runF that captures its
// options, so parsing and validation are tested without a database.

func offlineInvocation() *Invocation {
	f := NewFactory(&IOStreams{In: strings.NewReader(""), Out: &strings.Builder{}, ErrOut: &strings.Builder{}}, func(string) string { return "" })
	return f.NewInvocation(f.IO, nil, nil)
}

// captured runs cmd on args and returns its error.
func captured(t *testing.T, cmd *cobra.Command, args ...string) error {
	t.Helper()
	cmd.SetArgs(args)
	cmd.SetOut(&strings.Builder{})
	cmd.SetErr(&strings.Builder{})
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	return cmd.ExecuteContext(context.Background())
}

func TestFlagsUsersUpdate(t *testing.T) {
	var got *usersUpdateOptions
	cmd := newCmdUsersUpdate(offlineInvocation(), func(_ context.Context, o *usersUpdateOptions) error { got = o; return nil })
	if err := captured(t, cmd, "ann@example.com", "-", "--first-name", " Ann ", "--phone", "+44 (20) 7946-0958",
		"--ip-whitelist", "10.1.2.3/8,::ffff:1.2.3.4", "--active", "false", "--keep-sessions", "--reason", "fix", "--max-affected", "7", "--yes"); err != nil {
		t.Fatal(err)
	}
	u := got.Update
	if strings.Join(got.Args, " ") != "ann@example.com -" || *u.FirstName != "Ann" || *u.Phone != "+442079460958" ||
		*u.IPWhiteList != "10.0.0.0/8,1.2.3.4" || *u.Active || !u.KeepSessions || u.Email != nil || u.LastName != nil ||
		got.Mutate.Reason != "fix" || got.Mutate.MaxAffected != 7 || !got.Mutate.Yes || got.Mutate.DryRun {
		t.Fatalf("options %+v, update %+v", got, u)
	}
	for _, c := range []struct {
		args []string
		code int
	}{
		{[]string{"1"}, ExitUsage}, // nothing to update
		{[]string{"1", "--phone", "12"}, ExitRefused},
		{[]string{"1", "--email", "not-an-email"}, ExitRefused},
		{[]string{"1", "--active", "maybe"}, ExitRefused},
		{[]string{"1", "--language", "xx"}, ExitRefused},
		{[]string{"1", "--first-name", "x", "--max-affected", "-1"}, ExitUsage},
		{[]string{"1", "--first-name", "x", "--bogus"}, ExitUsage},
	} {
		reached := false
		cmd := newCmdUsersUpdate(offlineInvocation(), func(context.Context, *usersUpdateOptions) error { reached = true; return nil })
		err := captured(t, cmd, c.args...)
		if code, _ := classify(err); err == nil || code != c.code || reached {
			t.Errorf("%v: err %v (exit %d), run reached %v; want exit %d before running", c.args, err, code, reached, c.code)
		}
	}
}

func TestFlagsBulkCommands(t *testing.T) {
	var act *usersActivateOptions
	cmd := newCmdUsersActivate(offlineInvocation(), false, func(_ context.Context, o *usersActivateOptions) error { act = o; return nil })
	if err := captured(t, cmd, "1", "2", "--keep-sessions", "--dry-run", "--skip-missing"); err != nil {
		t.Fatal(err)
	}
	if act.Active || !act.KeepSessions || !act.Mutate.DryRun || !act.Mutate.SkipMissing || len(act.Args) != 2 {
		t.Fatalf("deactivate options %+v", act)
	}

	var grp *usersGroupOptions
	cmd = newCmdUsersGroup(offlineInvocation(), client.GroupsRole, func(_ context.Context, o *usersGroupOptions) error { grp = o; return nil })
	if err := captured(t, cmd, "-", "legal MERCHANT owner"); err != nil {
		t.Fatal(err)
	}
	if grp.Mode != client.GroupsRole || strings.Join(grp.Groups, ",") != "Legal merchant owner" || strings.Join(grp.Args, ",") != "-" {
		t.Fatalf("set-role options %+v", grp)
	}

	var pg *permsGrantOptions
	cmd = newCmdPermsGrant(offlineInvocation(), true, func(_ context.Context, o *permsGrantOptions) error { pg = o; return nil })
	if err := captured(t, cmd, "7", "API.view_wallet", "api | wallet | Can charge wallet"); err != nil {
		t.Fatal(err)
	}
	if len(pg.Perms) != 2 || pg.Perms[0].ID() != "api.view_wallet" || pg.Perms[1].ID() != "api.charge_wallet" {
		t.Fatalf("grant options %+v", pg.Perms)
	}

	var en *twoFAEnableOptions
	cmd = newCmdTwoFAEnable(offlineInvocation(), func(_ context.Context, o *twoFAEnableOptions) error { en = o; return nil })
	if err := captured(t, cmd, "-", "--method", "totp", "--name", "work phone", "--replace"); err != nil {
		t.Fatal(err)
	}
	if en.Method != "totp" || en.Name != "work phone" || !en.Replace || en.Issuer != "B2BinPay" {
		t.Fatalf("2fa enable options %+v", en)
	}

	var cs *commissionsSetOptions
	cmd = newCmdCommissionsSet(offlineInvocation(), func(_ context.Context, o *commissionsSetOptions) error { cs = o; return nil })
	if err := captured(t, cmd, "1", "--operation", "Deposit", "--currency", "usdt", "--percent", "1.5", "--max", "none"); err != nil {
		t.Fatal(err)
	}
	if cs.Plan.Operation != "deposit" || cs.Plan.Currency != "USDT" || *cs.Plan.Percent != "1.5" || !cs.Plan.ClearMax || cs.Plan.FixedFee != nil {
		t.Fatalf("commissions set options %+v", cs.Plan)
	}

	for _, c := range []struct {
		name string
		cmd  func(reached *bool) *cobra.Command
		args []string
		code int
	}{
		{"set-group unknown group", func(r *bool) *cobra.Command {
			return newCmdUsersGroup(offlineInvocation(), client.GroupsSet, func(context.Context, *usersGroupOptions) error { *r = true; return nil })
		}, []string{"1", "Admins"}, ExitRefused},
		{"set-role two groups", func(r *bool) *cobra.Command {
			return newCmdUsersGroup(offlineInvocation(), client.GroupsRole, func(context.Context, *usersGroupOptions) error { *r = true; return nil })
		}, []string{"1", "Merchant staff", "API"}, ExitUsage},
		{"grant unknown perm", func(r *bool) *cobra.Command {
			return newCmdPermsGrant(offlineInvocation(), true, func(context.Context, *permsGrantOptions) error { *r = true; return nil })
		}, []string{"1", "api.nope"}, ExitRefused},
		{"2fa enable without --method", func(r *bool) *cobra.Command {
			return newCmdTwoFAEnable(offlineInvocation(), func(context.Context, *twoFAEnableOptions) error { *r = true; return nil })
		}, []string{"1"}, ExitUsage},
		{"2fa enable --method sms", func(r *bool) *cobra.Command {
			return newCmdTwoFAEnable(offlineInvocation(), func(context.Context, *twoFAEnableOptions) error { *r = true; return nil })
		}, []string{"1", "--method", "sms"}, ExitUsage},
		{"commissions set without --operation", func(r *bool) *cobra.Command {
			return newCmdCommissionsSet(offlineInvocation(), func(context.Context, *commissionsSetOptions) error { *r = true; return nil })
		}, []string{"1", "--currency", "USDT"}, ExitUsage},
		{"commissions set --percent 101", func(r *bool) *cobra.Command {
			return newCmdCommissionsSet(offlineInvocation(), func(context.Context, *commissionsSetOptions) error { *r = true; return nil })
		}, []string{"1", "--operation", "deposit", "--currency", "USDT", "--percent", "101"}, ExitRefused},
		{"set-password weak --iterations", func(r *bool) *cobra.Command {
			return newCmdUsersSetPassword(offlineInvocation(), func(context.Context, *setPasswordOptions) error { *r = true; return nil })
		}, []string{"1", "--unusable", "--iterations", "1000"}, ExitRefused},
		{"set-password --iterations 0", func(r *bool) *cobra.Command {
			return newCmdUsersSetPassword(offlineInvocation(), func(context.Context, *setPasswordOptions) error { *r = true; return nil })
		}, []string{"1", "--unusable", "--iterations", "0", "--force"}, ExitUsage},
		{"set-password stdin and unusable", func(r *bool) *cobra.Command {
			return newCmdUsersSetPassword(offlineInvocation(), func(context.Context, *setPasswordOptions) error { *r = true; return nil })
		}, []string{"1", "--unusable", "--password-stdin"}, ExitUsage},
	} {
		reached := false
		err := captured(t, c.cmd(&reached), c.args...)
		if code, _ := classify(err); err == nil || code != c.code || reached {
			t.Errorf("%s: err %v (exit %d), run reached %v; want exit %d", c.name, err, code, reached, c.code)
		}
	}
	var ue *UsageError
	if err := captured(t, newCmdUsersSetPassword(offlineInvocation(), nil), "1", "--unusable", "--iterations", "0", "--force"); !errors.As(err, &ue) {
		t.Fatalf("--iterations 0 is %T, want a UsageError", err)
	}
}
