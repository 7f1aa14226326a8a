package commands

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/b2badmin/b2badmin/output"
)

// auditFlagRun parses an audit command line on a tree whose audits
// capture their options instead of running: no database is involved.
func auditFlagRun(t *testing.T, args ...string) (*permsAuditOptions, *groupsAuditOptions, int, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	env := map[string]string{"XDG_CONFIG_HOME": t.TempDir()}
	f := NewFactory(&IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, func(k string) string { return env[k] })
	defer f.Close()
	var po *permsAuditOptions
	var gro *groupsAuditOptions
	root := newRootCmd(f.NewInvocation(f.IO, args, nil), func(inv *Invocation) *cobra.Command {
		x := &cobra.Command{Use: "x"}
		p, g := &cobra.Command{Use: "perms"}, &cobra.Command{Use: "groups"}
		p.AddCommand(newCmdPermsAudit(inv, func(_ context.Context, o *permsAuditOptions) error { po = o; return nil }))
		g.AddCommand(newCmdGroupsAudit(inv, func(_ context.Context, o *groupsAuditOptions) error { gro = o; return nil }))
		x.AddCommand(p, g)
		return x
	})
	root.SetArgs(args)
	code, msg := 0, ""
	if err := root.ExecuteContext(context.Background()); err != nil {
		code, msg = classify(err)
	}
	return po, gro, code, msg + errOut.String()
}

func TestAuditFlags(t *testing.T) {
	o, _, code, msg := auditFlagRun(t, "x", "perms", "audit", "--policy", "p.yaml", "-o", "SARIF", "--as-of", "2027-01-31")
	if code != 0 || o == nil || o.Format != output.SARIF || o.Policy != "p.yaml" || o.FailOn != failOnAny ||
		!o.AsOf.Equal(time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC)) || o.Baseline != "" {
		t.Fatalf("exit %d %q: %+v", code, msg, o)
	}
	// -o before the noun is the same flag (Cobra parses at the leaf).
	if o, _, code, _ := auditFlagRun(t, "x", "-o", "tap", "perms", "audit", "--policy", "p.yaml"); code != 0 || o.Format != output.TAP {
		t.Fatalf("-o before the noun: exit %d %+v", code, o)
	}
	if o, _, code, _ := auditFlagRun(t, "x", "perms", "audit", "--policy", "p.yaml", "--baseline", "b.csv", "--fail-on", "NEW", "-o", "csv", "--columns", "email"); code != 0 ||
		o.FailOn != failOnNew || o.Baseline != "b.csv" || o.Format != output.CSV || !slices.Equal(o.Columns, []string{"email"}) {
		t.Fatalf("--fail-on new: exit %d %+v", code, o)
	}
	if o, _, code, _ := auditFlagRun(t, "x", "perms", "audit", "--policy", "p.yaml"); code != 0 || o.Format != output.Table {
		t.Fatalf("default format: %+v", o)
	}
	if _, g, code, _ := auditFlagRun(t, "x", "groups", "audit", "-o", "github", "--fail-on", "none"); code != 0 || g.Format != output.GitHub || g.FailOn != failOnNone {
		t.Fatalf("groups audit: exit %d %+v", code, g)
	}
	for _, bad := range [][]string{
		{"perms", "audit", "--policy", "p.yaml", "--fail-on", "new"}, // nothing to call old
		{"perms", "audit", "--policy", "p.yaml", "--fail-on", "sometimes"},
		{"perms", "audit", "--policy", "p.yaml", "-o", "xml"},
		{"perms", "audit", "--policy", "p.yaml", "-o", "sarif", "--columns", "email"},
		{"perms", "audit", "--policy", "p.yaml", "--as-of", "tomorrow"},
		{"perms", "audit"},
		{"groups", "audit", "--fail-on", "new"},
		{"groups", "audit", "-o", "toml"},
	} {
		o, g, code, msg := auditFlagRun(t, append([]string{"x"}, bad...)...)
		if code != ExitUsage || o != nil || g != nil {
			t.Errorf("%v: exit %d %q, want 2 before running", bad, code, msg)
		}
	}
	if _, _, _, msg := auditFlagRun(t, "x", "perms", "audit", "--policy", "p.yaml", "-o", "xml"); !strings.Contains(msg, "junit, sarif, github, tap") {
		t.Errorf("unknown format message %q", msg)
	}
}

// The report formats show in the help and completion of the audits only.
func TestAuditFormatsInHelpAndCompletion(t *testing.T) {
	for _, noun := range []string{"perms", "groups"} {
		r := runCLI(t, "", noun, "audit", "--help")
		if r.Code != 0 || !strings.Contains(r.Stdout, "output format: table|json|jsonl|yaml|csv|tsv|ids|junit|sarif|github|tap") || !strings.Contains(r.Stdout, "--fail-on") {
			t.Errorf("%s audit --help:\n%s", noun, r.Stdout)
		}
		if strings.Count(r.Stdout, "--output") != 1 {
			t.Errorf("%s audit --help lists -o twice:\n%s", noun, r.Stdout)
		}
		if got := complete(t, "", noun, "audit", "-o", ""); !slices.Equal(got, output.Names(auditFormats)) {
			t.Errorf("%s audit -o completes %q", noun, got)
		}
		if got := complete(t, "", noun, "audit", "--fail-on", ""); !slices.Equal(got, []string{"any", "new", "none"}) {
			t.Errorf("%s audit --fail-on completes %q", noun, got)
		}
	}
	if got := complete(t, "", "users", "list", "-o", ""); !slices.Equal(got, output.FormatNames()) {
		t.Errorf("users list -o completes %q", got)
	}
	if r := runCLI(t, "", "users", "list", "--help"); strings.Contains(r.Stdout, "sarif") {
		t.Errorf("users list offers the report formats:\n%s", r.Stdout)
	}
	assertOneLineError(t, runCLI(t, "", "users", "list", "-o", "sarif"), ExitUsage)
}

func TestAuditSummaryLine(t *testing.T) {
	c := auditCounts{Findings: 1801, Unchanged: 1799, New: 2, Resolved: 1, Users: 1000000, Baseline: true}
	if got := c.line(); got != "1,801 findings (1,799 unchanged, 2 new, 1 resolved) over 1,000,000 users" {
		t.Errorf("line %q", got)
	}
	c.Baseline = false
	if got := c.line(); got != "1,801 findings over 1,000,000 users" {
		t.Errorf("line %q", got)
	}
	if got := (auditCounts{Findings: 1, Users: 1}).line(); got != "1 finding over 1 user" {
		t.Errorf("line %q", got)
	}
}
