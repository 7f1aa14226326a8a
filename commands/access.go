package commands

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"time"

	"github.com/spf13/cobra"

	"github.com/b2badmin/b2badmin/client"
	"github.com/b2badmin/b2badmin/client/access"
	"github.com/b2badmin/b2badmin/client/yamlfile"
	"github.com/b2badmin/b2badmin/output/accessfile"
)

// Access as code: export users' role/API groups and extra permissions to
// a reviewed file, plan what applying it would change, apply it as one run.

func newAccessCmd(inv *Invocation) *cobra.Command {
	cmd := &cobra.Command{Use: "access", Short: "Access as code: export, plan and apply a desired-state file of users' groups and permissions",
		Long: `An access file lists users by email with the role and API groups and the
extra permissions each should hold:

  scope:                  # optional: the users the file speaks for (group, type, company)
    group: API
  users:
    "harris.isabella12@yahoo.com":
      groups: [Merchant owner, API]
      permissions: [api.view_wallet, api.charge_wallet]

(examples/access.yaml is a whole one, for make demo's data.)

Status groups (Email/Phone/KYC not verified) are verification state, not
access: a file never names them and applying it leaves them as they are.
Users not named in the file are untouched, unless the file has a scope and
--prune is given: users in scope but not in the file then lose their role
and API groups and extra permissions. Every problem of a file is reported
at once as FILE:LINE (exit 4): unknown keys, users, groups, permissions.
See docs/ci-audit.md for a review-then-apply workflow.`}
	cmd.AddCommand(newCmdAccessExport(inv, nil), newCmdAccessPlan(inv, nil), newCmdAccessApply(inv, nil))
	return cmd
}

// accessExportOptions are `access export`.
type accessExportOptions struct {
	*Invocation
	Select selector
	File   string
}

func newCmdAccessExport(inv *Invocation, runF func(context.Context, *accessExportOptions) error) *cobra.Command {
	o := &accessExportOptions{Invocation: inv}
	cmd := &cobra.Command{
		Use:   "export [FILTERS]",
		Short: "Write users' role/API groups and extra permissions as an access file (YAML)",
		Long: `Write the users the filters select (every user without filters), by email,
with their role and API groups and extra permissions, as an access file on
stdout (or -f FILE). When the filters are only --group, --type and
--company, the file declares them as its scope, so that
"access apply --prune" of the edited file also removes the access of
users in scope that the file no longer names. A scope's company is exact:
--company given a name (which matches names containing it) declares none,
with a note; give the company's ID.`,
		Example: "  b2badmin access export --group API > api-access.yaml\n  b2badmin access plan -f api-access.yaml",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCmd(cmd, inv, o, runF, runAccessExport)
		},
	}
	cmd.Flags().StringVarP(&o.File, "file", "f", "", "write to this file instead of stdout")
	addSelectorFlags(inv, cmd, &o.Select)
	return cmd
}

func runAccessExport(ctx context.Context, o *accessExportOptions) error {
	f, err := o.Select.filter(time.Now())
	if err != nil {
		return err
	}
	c, err := o.ReadClient(ctx)
	if err != nil {
		return err
	}
	out := o.IO.Out
	if o.File != "" {
		fh, err := os.Create(o.File)
		if err != nil {
			return fmt.Errorf("cannot write %s: %v", o.File, unwrapPath(err))
		}
		defer fh.Close()
		out = fh
	}
	header := []string{"b2badmin access file: users' role and API groups and extra permissions (status groups are left out: they are not access).",
		fmt.Sprintf("Exported %s from %s%s.", time.Now().UTC().Format(time.RFC3339), o.Target(), filterNote(o.Args))}
	scope := exportScope(&o.Select, f)
	byID := f
	byID.CompanyID = new(int64) // the same export, given an ID: would it declare a scope?
	if scope == nil && f.CompanyID == nil && f.Company != "" && exportScope(&o.Select, byID) != nil {
		o.notef("the file declares no scope: --company %q matches every company whose name contains it, and a scope's company is exact; export with the company's ID to declare one", f.Company)
	}
	w, err := accessfile.NewWriter(out, header, scope)
	if err != nil {
		return err
	}
	n := 0
	if err := c.ExportAccess(ctx, f, func(u access.User) error {
		n++
		return w.Write(accessfile.User{Email: u.Email, Groups: u.Groups, Perms: u.Perms})
	}); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	o.notef("exported the access of %s", plural(n, "user"))
	return nil
}

// filterNote names the export's command line in its header.
func filterNote(args []string) string {
	if len(args) <= 2 {
		return ""
	}
	return " with: " + RedactCommandLine(args[2:])[len("b2badmin "):]
}

// exportScope is the scope an export can declare: only when its filters
// are exactly group, type and company.
func exportScope(s *selector, f client.UserFilter) *accessfile.Scope {
	scoped := map[string]bool{"group": true, "type": true, "company": true}
	given := false
	for _, n := range selectorFlagNames {
		if fl := s.flags.Lookup(n); fl != nil && fl.Changed {
			if !scoped[n] {
				return nil
			}
			given = true
		}
	}
	if !given || len(f.Groups) > 1 {
		return nil
	}
	sc := &accessfile.Scope{Type: f.Type, Company: f.Company}
	if len(f.Groups) == 1 {
		sc.Group = f.Groups[0]
	}
	if f.CompanyID != nil {
		sc.Company = fmt.Sprint(*f.CompanyID)
	} else if f.Company != "" {
		return nil // a name substring is not an exact scope
	}
	return sc
}

// accessApplyOptions are `access plan` and `access apply`.
type accessApplyOptions struct {
	*Invocation
	Mutate    mutateFlags
	File      string
	Prune     bool
	Plan      bool // `access plan`: a dry run whose changes exit 5
	OutputSet bool
}

func newCmdAccessPlan(inv *Invocation, runF func(context.Context, *accessApplyOptions) error) *cobra.Command {
	o := &accessApplyOptions{Invocation: inv, Plan: true}
	cmd := &cobra.Command{
		Use:   "plan -f FILE",
		Short: "Print the change list that would make the database match an access file (exit 5 when there are changes)",
		Long: `Print the change list (users, groups and permissions before and after) that
"access apply" of the file would make, and change nothing: it runs the very
statements apply runs and rolls them back, so it needs write access.
Exit 0 when the database already matches, 5 when there are changes (the
"differences found" code, like audit findings), 4 for an invalid file or a
change that would break a group rule.`,
		Example: "  b2badmin access plan -f examples/access.yaml     # exit 5: the demo differs from the file\n" +
			"  b2badmin access plan -f examples/access.yaml --prune -o json     # exit 5",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Mutate.DryRun, o.OutputSet = true, true
			return runCmd(cmd, inv, o, runF, runAccessApply)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&o.File, "file", "f", "", "the access file (required)")
	fl.BoolVar(&o.Prune, "prune", false, "also remove the access of users the file's scope selects but the file does not name")
	_ = cmd.MarkFlagRequired("file")
	return withColumns(cmd, changeColumns) // the change list, as apply --dry-run prints it
}

func newCmdAccessApply(inv *Invocation, runF func(context.Context, *accessApplyOptions) error) *cobra.Command {
	o := &accessApplyOptions{Invocation: inv}
	cmd := &cobra.Command{
		Use:   "apply -f FILE",
		Short: "Make the database match an access file, in one transaction, as one run",
		Long: `Give every user of the file exactly its role and API groups and extra
permissions (status groups stay as they are), in one transaction, as one run
(undoable with "b2badmin undo RUN"). Group rules are enforced: a change that
would break one refuses everything (exit 4). --dry-run prints the plan.
More than one changed user needs --yes off a terminal; --max-affected applies.`,
		Example: "  b2badmin access apply -f examples/access.yaml --yes --reason 'ACCESS-7 reviewed'\n" +
			"  b2badmin access plan -f examples/access.yaml",
		Args:    cobra.NoArgs,
		PreRunE: func(*cobra.Command, []string) error { return o.Mutate.validate() },
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.OutputSet = cmd.Flags().Changed("output")
			o.Plan = o.Mutate.DryRun
			return runCmd(cmd, inv, o, runF, runAccessApply)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&o.File, "file", "f", "", "the access file (required)")
	fl.BoolVar(&o.Prune, "prune", false, "also remove the access of users the file's scope selects but the file does not name")
	addSafetyFlags(cmd, &o.Mutate)
	_ = cmd.MarkFlagRequired("file")
	return cmd
}

// withUnknownUsers adds, to the problems of a file that did not parse
// whole, its users that do not exist, in line order: every problem at
// once. Without a database to ask, the file's own problems stand alone.
func withUnknownUsers(ctx context.Context, inv *Invocation, f *access.File, perr error) error {
	var errs yamlfile.Errors
	if f == nil || len(f.Users) == 0 || !errors.As(perr, &errs) {
		return perr
	}
	c, err := inv.Client(ctx)
	if err != nil {
		return perr
	}
	var more yamlfile.Errors
	if uerr := c.UnknownFileUsers(ctx, f); !errors.As(uerr, &more) {
		return perr
	}
	all := append(append(yamlfile.Errors{}, errs...), more...)
	sort.SliceStable(all, func(i, j int) bool { return all[i].Line < all[j].Line })
	return all
}

func runAccessApply(ctx context.Context, o *accessApplyOptions) error {
	if err := refuseReadOnly(o.Invocation); err != nil {
		return err
	}
	data, err := os.ReadFile(o.File)
	if err != nil {
		return fmt.Errorf("access file %s: cannot read: %v", o.File, unwrapPath(err))
	}
	f, err := access.Parse(o.File, data)
	if err != nil {
		// The lookup of its users is extra: a server slow to answer must
		// not hold back the file's own problems for long.
		lctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		return fileErrors(o.Invocation, withUnknownUsers(lctx, o.Invocation, f, err))
	}
	c, err := o.Client(ctx)
	if err != nil {
		return err
	}
	res, err := c.ApplyAccess(ctx, o.Audit(o.Mutate.Reason), f, o.Prune, o.Mutate.options(o.Invocation, "access apply"))
	if err != nil {
		return fileErrors(o.Invocation, err)
	}
	if err := reportChange(o.Invocation, o.OutputSet || o.Plan, res, changeReport{done: "applied " + o.File + " to", unchanged: "already match the file", unchangedOne: "already matches the file"}); err != nil {
		return err
	}
	if o.Plan && len(res.Changes) > 0 {
		return &ExitError{Code: ExitFindings}
	}
	return nil
}
