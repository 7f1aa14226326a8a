package commands

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/b2badmin/b2badmin/client"
	"github.com/b2badmin/b2badmin/client/catalog"
	"github.com/b2badmin/b2badmin/output"
	"github.com/b2badmin/b2badmin/output/findings"
)

// groupsAuditColumns are the fields of a groups audit finding; change
// appears only with --baseline.
var groupsAuditColumns = output.Columns{
	{Key: "user_id", Header: "User ID", Default: true},
	{Key: "email", Header: "Email", Default: true},
	{Key: "type", Header: "Type", Default: true},
	{Key: "company_id", Header: "Company ID"},
	{Key: "groups", Header: "Groups", Default: true},
	{Key: "rule", Header: "Rule", Default: true},
	{Key: "rule_groups", Header: "Rule groups"},
	{Key: "problem", Header: "Problem", Default: true},
}

type groupsAuditOptions struct {
	inv *Invocation

	auditFlags
	Format  output.Format
	Columns []string // --columns
}

func newCmdGroupsAudit(inv *Invocation, runF func(context.Context, *groupsAuditOptions) error) *cobra.Command {
	opts := &groupsAuditOptions{inv: inv}
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Find every user whose groups break a group rule (exit 5 on findings)",
		Long: `Find every user whose groups break a rule that b2badmin enforces on changes:

  one-role-group     at most one role group (the six owner/staff groups)
  role-group-type    Enterprise owner/staff need type enterprise, (Legal)
                     merchant owner/staff need type merchant
  api-needs-company  a user in API is linked to a company

b2badmin refuses to create such a state, but the web back office or a psql
session can; this lists them. One finding per user and rule broken.

Formats, --baseline (the -o csv of an earlier groups audit), --fail-on, the
summary line and the exit codes are those of perms audit. Findings point at
no file (the rules are the tool's), so -o sarif carries logical locations
(the user) only: GitHub code scanning, which needs a file, will not take it;
use -o github or -o junit in CI.`,
		Example: `  b2badmin groups audit
  b2badmin groups audit -o csv > groups-baseline.csv
  b2badmin groups audit --baseline groups-baseline.csv --fail-on new -o github`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			g := inv.Global
			fm, err := opts.parse(g.Columns)
			if err != nil {
				return err
			}
			opts.Format, opts.Columns = fm, g.Columns
			return runCmd(cmd, inv, opts, runF, runGroupsAudit)
		},
	}
	bindAuditFlags(inv, cmd, &opts.auditFlags, "`FILE`: an earlier groups audit's -o csv; marks findings unchanged or new")
	return withColumns(cmd, append(append(output.Columns{}, groupsAuditColumns...), auditChangeColumn))
}

func runGroupsAudit(ctx context.Context, opts *groupsAuditOptions) error {
	inv := opts.inv
	base, closeBase, err := openBaseline(opts.Baseline, client.BaselineGroups)
	if err != nil {
		return err
	}
	defer closeBase()
	cols := withChange(groupsAuditColumns, base)
	rules := map[string]string{}
	rep := &findings.Report{Command: "groups audit", Omit: []string{"rule", "problem"}}
	for _, r := range catalog.GroupRules() {
		rep.Rules = append(rep.Rules, findings.Rule{ID: r.ID, Text: r.Text})
		rules[r.ID] = r.Text
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
	st, err := c.AuditGroups(ctx, base, func(x *client.GroupFinding) error {
		row = append(row[:0], x.UserID, x.Email, x.Type, x.CompanyID, x.Groups, x.Rule, x.Violation.Groups, x.Message, x.Change)
		return sink.finding(x.UserID, x.Change == client.ChangeResolved, row, func() *findings.Finding {
			subject := userSubject(x.UserID, x.Email)
			return &findings.Finding{RuleID: x.Rule, Rule: rules[x.Rule], Subject: subject, SubjectID: userSubjectID(x.UserID),
				Item: x.Rule, Message: subject + " " + x.Message, State: x.Change, Values: row}
		})
	})
	if err == nil && sink.reporting() {
		// The test of a rule nobody breaks passes (JUnit, TAP): one per
		// rule, not one per user, so a million compliant users do not
		// become a million test cases.
		for _, r := range catalog.GroupRules() {
			if st.ByRule[r.ID] == 0 {
				if err = sink.pass(r.ID+": no user breaks it", "rule/"+r.ID); err != nil {
					break
				}
			}
		}
	}
	var perRule []findings.Count
	for _, r := range catalog.GroupRules() {
		perRule = append(perRule, findings.Count{Name: r.ID, Value: st.ByRule[r.ID]})
	}
	return baselineCounts(st.Findings, st.Users, st.BaselineCounts, base).end(inv, sink, opts.FailOn, err, perRule...)
}
