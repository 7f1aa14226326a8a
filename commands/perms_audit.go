package commands

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/b2badmin/b2badmin/client"
	"github.com/b2badmin/b2badmin/client/policy"
	"github.com/b2badmin/b2badmin/output"
)

// auditColumns are the fields of a finding; change appears only with --baseline.
var auditColumns = output.Columns{
	{Key: "user_id", Header: "User ID", Default: true},
	{Key: "email", Header: "Email", Default: true},
	{Key: "groups", Header: "Groups", Default: true},
	{Key: "type", Header: "Type", Default: true},
	{Key: "permission", Header: "Permission", Default: true},
	{Key: "label", Header: "Label"},
	{Key: "rule", Header: "Rule", Default: true},
	{Key: "policy_line", Header: "Policy line"},
}

var auditChangeColumn = output.Column{Key: "change", Header: "Change", Default: true}

type permsAuditOptions struct {
	policy   string
	baseline string
	asOf     string
}

func newPermsAuditCmd(inv *Invocation) *cobra.Command {
	o := &permsAuditOptions{}
	cmd := &cobra.Command{
		Use:   "audit --policy FILE",
		Short: "Check every user's extra permissions against a policy file (exit 5 on findings)",
		Long: `Check every user's extra permissions against a policy (SPEC §3, see
examples/policy.yaml), in one pass over the grants table.

A grant is a finding when it matches a deny pattern, or when no allow of the
user's groups or type covers it. A live exception (until and including its
expires day, UTC) for that user and permission excuses it, whichever of the two
rules it breaks. Expired exceptions and exceptions naming no user are noted on
stderr and excuse nothing.

With --baseline (a CSV written by "perms export"), grants present in the
baseline are not reported: only grants added since then that break the policy
(change "added"), and grants removed since then (change "removed", listed for
information; they do not count as findings).

Exit codes: 0 clean, 5 findings, 4 invalid policy or baseline (FILE:LINE).`,
		Example: `  b2badmin perms audit --policy examples/policy.yaml -o json
  b2badmin perms export > perms-snapshot.csv
  b2badmin perms audit --policy policy.yaml --baseline perms-snapshot.csv -o csv`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runPermsAudit(cmd, inv, o)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.policy, "policy", "", "policy file (YAML, see examples/policy.yaml)")
	fl.StringVar(&o.baseline, "baseline", "", "snapshot from `perms export`: report only grants added or removed since")
	fl.StringVar(&o.asOf, "as-of", "", "judge exception expiry on this day (YYYY-MM-DD, default today UTC)")
	_ = cmd.MarkFlagRequired("policy")
	_ = cmd.MarkFlagFilename("policy", "yaml", "yml")
	_ = cmd.MarkFlagFilename("baseline", "csv")
	return withColumns(cmd, auditColumns)
}

func runPermsAudit(cmd *cobra.Command, inv *Invocation, o *permsAuditOptions) error {
	start := time.Now()
	asOf := time.Now().UTC()
	if o.asOf != "" {
		d, err := time.Parse("2006-01-02", o.asOf)
		if err != nil {
			return usageErrorf("--as-of: invalid date %q (want YYYY-MM-DD)", o.asOf)
		}
		asOf = d
	}
	// The policy is checked before connecting: a broken file fails fast, offline.
	pol, err := policy.Load(o.policy)
	if err != nil {
		return client.Refused("%s", err.Error())
	}
	cols := auditColumns
	var base *client.Baseline
	if o.baseline != "" {
		fh, err := os.Open(o.baseline)
		if err != nil {
			return client.Refused("baseline %s: cannot read: %v", o.baseline, unwrapPath(err))
		}
		defer fh.Close()
		if base, err = client.OpenBaseline(fh, o.baseline); err != nil {
			return err
		}
		cols = append(append(output.Columns{}, auditColumns...), auditChangeColumn)
	}
	fm, proj, err := inv.selectColumns(cols)
	if err != nil {
		return err
	}
	ctx, cancel := commandContext(cmd, inv)
	defer cancel()
	c, err := inv.ReadClient(ctx)
	if err != nil {
		return err
	}
	w := output.NewRowWriter(fm, inv.IO.Out, proj, inv.OutputOptions())
	row := make([]any, 0, len(cols))
	st, err := c.Audit(ctx, pol, client.AuditOptions{
		AsOf:     asOf,
		Baseline: base,
		Warn:     func(msg string) { fmt.Fprintln(inv.IO.ErrOut, "b2badmin: note: "+msg) },
	}, func(x *client.Finding) error {
		var line any
		if x.PolicyLine > 0 {
			line = x.PolicyLine
		}
		row = append(row[:0], x.UserID, x.Email, x.Groups, x.Type, x.Permission, x.Label, x.Rule, line, x.Change)
		return w.Write(row)
	})
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	took := time.Since(start).Round(time.Millisecond)
	summary := fmt.Sprintf("%d grants of %d users checked in %s", st.Grants, st.Users, took)
	if st.Excused > 0 {
		summary += fmt.Sprintf(", %d excused by exceptions", st.Excused)
	}
	if base != nil {
		summary += fmt.Sprintf(", %d removed since the baseline", st.Removed)
	}
	if st.Findings > 0 {
		return &ExitError{Code: ExitFindings, Msg: fmt.Sprintf("%d findings (%s)", st.Findings, summary)}
	}
	fmt.Fprintf(inv.IO.ErrOut, "b2badmin: clean: %s\n", summary)
	return nil
}

func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
