package commands

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/b2badmin/b2badmin/client"
	"github.com/b2badmin/b2badmin/client/policy"
	"github.com/b2badmin/b2badmin/output"
	"github.com/b2badmin/b2badmin/output/findings"
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
	inv *Invocation

	Policy string
	AsOf   time.Time // the day exceptions are judged on
	auditFlags

	Format  output.Format
	Columns []string // --columns
}

func newCmdPermsAudit(inv *Invocation, runF func(context.Context, *permsAuditOptions) error) *cobra.Command {
	opts := &permsAuditOptions{inv: inv}
	var asOf string
	cmd := &cobra.Command{
		Use:   "audit --policy FILE",
		Short: "Check every user's extra permissions against a policy file (exit 5 on findings)",
		Long: `Check every user's extra permissions against a policy (SPEC §3, see
examples/policy.yaml and docs/ci-audit.md), in one pass over the grants table.

A grant is a finding when it matches a deny pattern, or when no allow of the
user's groups or type covers it. A live exception (until and including its
expires day, UTC) for that user and permission excuses it, whichever of the two
rules it breaks. Expired exceptions and exceptions naming no user are noted on
stderr and excuse nothing. Each finding names the policy line that decided it.

-o junit, sarif, github and tap write the findings in the formats CI systems
read natively (test reports, code scanning, workflow annotations, TAP); they
carry the same findings as -o json.

With --baseline (the -o csv of an earlier audit, or a "perms export" snapshot)
each finding is marked unchanged or new (change column), and findings of the
baseline that are none now are listed as resolved, for information.
--fail-on new then exits 5 only for new findings.

stderr gets one summary line: N findings (U unchanged, W new, R resolved) over
M users. Exit codes: 0 clean (or --fail-on not met), 5 findings, 4 invalid
policy or baseline (every problem, FILE:LINE each), 1 a file or the database
cannot be read.`,
		Example: `  b2badmin perms audit --policy examples/policy.yaml -o json     # exit 5: the demo's users hold grants it forbids
  b2badmin perms audit --policy examples/policy.yaml -o sarif > findings.sarif     # exit 5
  b2badmin perms audit --policy examples/policy.yaml -o csv > baseline.csv     # exit 5
  b2badmin perms audit --policy examples/policy.yaml --baseline baseline.csv --fail-on new -o junit
  b2badmin perms audit --policy examples/policy-clean.yaml -o csv > findings.csv     # exit 5
  b2badmin batch --atomic --quiet --csv findings.csv --template 'perms revoke {user_id} {permission} --reason CLEANUP-1'
  b2badmin perms audit --policy examples/policy-clean.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			g := inv.Global
			fm, err := opts.parse(g.Columns)
			if err != nil {
				return err
			}
			opts.Format, opts.Columns = fm, g.Columns
			opts.AsOf = time.Now().UTC()
			if asOf != "" {
				if opts.AsOf, err = parseTime("--as-of", asOf, lowerBound, opts.AsOf); err != nil {
					return err
				}
			}
			return runCmd(cmd, inv, opts, runF, runPermsAudit)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Policy, "policy", "", "policy file (YAML, see examples/policy.yaml)")
	fl.StringVar(&asOf, "as-of", "", "judge exception expiry on the UTC day of this time (default today): "+timeHelp)
	bindAuditFlags(inv, cmd, &opts.auditFlags, "`FILE`: an earlier audit's -o csv, or a perms export snapshot; marks findings unchanged or new")
	_ = cmd.MarkFlagRequired("policy")
	_ = cmd.MarkFlagFilename("policy", "yaml", "yml")
	return withColumns(cmd, append(append(output.Columns{}, auditColumns...), auditChangeColumn))
}

func runPermsAudit(ctx context.Context, opts *permsAuditOptions) error {
	inv := opts.inv
	// The policy is checked before connecting: a broken file fails fast, offline.
	pol, err := policy.Load(opts.Policy)
	if err != nil {
		return fileErrors(inv, err)
	}
	base, closeBase, err := openBaseline(opts.Baseline, client.BaselinePerms)
	if err != nil {
		return err
	}
	defer closeBase()
	cols := withChange(auditColumns, base)
	rep := &findings.Report{Command: "perms audit", File: pol.File, Omit: []string{"label", "rule", "policy_line"}}
	for _, r := range pol.Rules() {
		rep.Rules = append(rep.Rules, findings.Rule{ID: r.ID, Text: r.Text, Line: r.Line})
	}
	sink, err := newAuditSink(inv, opts.Format, opts.Columns, cols, rep, opts.FailOn)
	if err != nil {
		return err
	}
	c, err := inv.ReadClient(ctx)
	if err != nil {
		return err
	}
	row := make([]any, 0, len(cols))
	var rf findings.Finding // reused: a report writer keeps nothing of it
	st, err := c.Audit(ctx, pol, client.AuditOptions{
		AsOf:     opts.AsOf,
		Baseline: base,
		Warn:     func(msg string) { inv.notef("note: %s", msg) },
		Pass: func(u *client.UserGrants) error {
			if !sink.reporting() {
				return nil
			}
			return sink.pass(userSubject(u.UserID, u.Email), userSubjectID(u.UserID))
		},
	}, func(x *client.Finding) error {
		var line any
		if x.PolicyLine > 0 {
			line = x.PolicyLine
		}
		row = append(row[:0], x.UserID, x.Email, x.Groups, x.Type, x.Permission, x.Label, x.Rule, line, x.Change)
		return sink.finding(x.UserID, x.Change == client.ChangeResolved, row, func() *findings.Finding {
			subject := userSubject(x.UserID, x.Email)
			rf = findings.Finding{RuleID: x.RuleID, Rule: x.Rule, Subject: subject, SubjectID: userSubjectID(x.UserID),
				Item: x.Permission, Message: subject + " holds " + x.Permission + ": " + x.Rule, Line: x.PolicyLine, State: x.Change, Values: row}
			return &rf
		})
	})
	return baselineCounts(st.Findings, st.Users, st.BaselineCounts, base).end(inv, sink, opts.FailOn, err,
		findings.Count{Name: "users_with_extra_permissions", Value: st.Holders},
		findings.Count{Name: "grants", Value: st.Grants}, findings.Count{Name: "excused", Value: st.Excused})
}

// userSubject names a user in a report; userSubjectID is its stable form.
func userSubject(id int64, email string) string {
	return email + " (user " + strconv.FormatInt(id, 10) + ")"
}

func userSubjectID(id int64) string { return "user/" + strconv.FormatInt(id, 10) }

// fileErrors reports an invalid policy or access file: every problem on
// its own line, FILE:LINE each, the last as the command's error (exit 4). A file that
// cannot be read at all is an I/O failure (exit 1).
func fileErrors(inv *Invocation, err error) error {
	var es policy.Errors
	if !errors.As(err, &es) || len(es) == 0 {
		return err
	}
	for _, e := range es[:len(es)-1] {
		fmt.Fprintln(inv.IO.ErrOut, "b2badmin: "+oneLine(e.Error()))
	}
	return client.Refused("%s", es[len(es)-1].Error())
}

// openBaseline opens --baseline (nil without one). A file that cannot be
// opened is an I/O failure (exit 1); a malformed one is refused (exit 4).
func openBaseline(path, keyCol string) (*client.Baseline, func(), error) {
	if path == "" {
		return nil, func() {}, nil
	}
	fh, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("baseline %s: cannot read: %v", path, unwrapPath(err))
	}
	b, err := client.OpenBaseline(fh, path, keyCol)
	if err != nil {
		fh.Close()
		return nil, nil, err
	}
	return b, func() { fh.Close() }, nil
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
