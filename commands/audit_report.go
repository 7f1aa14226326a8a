package commands

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/b2badmin/b2badmin/client"
	"github.com/b2badmin/b2badmin/output"
	"github.com/b2badmin/b2badmin/output/findings"
)

// What the two audits (perms audit, groups audit) share: an -o flag that
// also takes the CI report formats, --baseline, --fail-on, the writer that
// sends each finding to a row renderer or a report renderer, and the one
// summary line on stderr.

// auditFormats are the -o values of an audit: the usual row formats, then
// the report formats CI systems read natively.
var auditFormats = append(append([]output.Format{}, output.Formats...), output.ReportFormats...)

// --fail-on values.
const (
	failOnAny  = "any"
	failOnNew  = "new"
	failOnNone = "none"
)

var failOnValues = []string{failOnAny, failOnNew, failOnNone}

// auditFlags are the flags both audits bind.
type auditFlags struct {
	Output   string
	Baseline string
	FailOn   string
}

// bindAuditFlags adds -o, --baseline and --fail-on to an audit command.
// Its -o shadows the root's persistent one (Cobra lets a command's own
// flag take a parent's name), so that help and completion list the report
// formats here and nowhere else; every other command keeps the root's.
func bindAuditFlags(inv *Invocation, cmd *cobra.Command, a *auditFlags, baselineHelp string) {
	fl := cmd.Flags()
	names := output.Names(auditFormats)
	fl.StringVarP(&a.Output, "output", "o", "table", "output format: "+strings.Join(names, "|"))
	fl.StringVar(&a.Baseline, "baseline", "", baselineHelp)
	fl.StringVar(&a.FailOn, "fail-on", failOnAny, "exit 5 on: any finding, only new ones (since --baseline), none")
	completeFlag(inv, cmd, "output", cobra.FixedCompletions(names, cobra.ShellCompDirectiveNoFileComp))
	completeFlag(inv, cmd, "fail-on", cobra.FixedCompletions(failOnValues, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.MarkFlagFilename("baseline", "csv")
}

// parse checks the flags' values (exit 2 on a bad one) and returns the
// output format. columns is --columns, which only row formats have.
func (a *auditFlags) parse(columns []string) (output.Format, error) {
	fm, err := output.ParseFormatOf(a.Output, auditFormats)
	if err != nil {
		return "", usageError(err.Error())
	}
	if fm == output.YAML {
		fm = output.JSON // setupOutput converts JSON to YAML (output_setup.go)
	}
	a.FailOn = strings.ToLower(strings.TrimSpace(a.FailOn))
	switch a.FailOn {
	case failOnAny, failOnNone:
	case failOnNew:
		if a.Baseline == "" {
			return "", usageError("--fail-on new needs --baseline (the findings to call old)")
		}
	default:
		return "", usageErrorf("--fail-on: unknown value %q (want %s)", a.FailOn, strings.Join(failOnValues, ", "))
	}
	if fm.IsReport() && len(columns) > 0 {
		return "", usageErrorf("--columns does not apply to -o %s, which writes every field", fm)
	}
	return fm, nil
}

// auditCounts are what the summary line says.
type auditCounts struct {
	Findings, Unchanged, New, Resolved, Users int64
	Baseline                                  bool
}

// line is the summary: "1,801 findings (1,799 unchanged, 2 new, 1
// resolved) over 1,000,000 users"; without a baseline only the total.
func (c auditCounts) line() string {
	s := counted(c.Findings, "finding")
	if c.Baseline {
		s += fmt.Sprintf(" (%s unchanged, %s new, %s resolved)", count(c.Unchanged), count(c.New), count(c.Resolved))
	}
	return s + " over " + counted(c.Users, "user")
}

// fails reports whether the run fails under --fail-on.
func (c auditCounts) fails(failOn string) bool {
	switch failOn {
	case failOnNone:
		return false
	case failOnNew:
		return c.New > 0
	}
	return c.Findings > 0
}

// end ends an audit whose run returned runErr: the sink is closed with
// the summary (and extra counts, for the report formats; a failed run is
// marked failed there, so a half report does not pass for a whole), then exit 5
// with the summary as the message when --fail-on says so, else the
// summary on stderr and exit 0. Either way stderr gets the summary once.
func (c auditCounts) end(inv *Invocation, sink *auditSink, failOn string, runErr error, extra ...findings.Count) error {
	sum := c.summary(extra...)
	if runErr != nil {
		_, sum.Failure = classify(runErr)
	}
	if err := sink.close(sum); runErr == nil {
		runErr = err
	}
	if runErr != nil {
		return runErr
	}
	if c.fails(failOn) {
		return &ExitError{Code: ExitFindings, Msg: c.line()}
	}
	inv.notef("%s", c.line())
	return nil
}

func (c auditCounts) summary(extra ...findings.Count) findings.Summary {
	counts := []findings.Count{{Name: "users", Value: c.Users}, {Name: "findings", Value: c.Findings}}
	if c.Baseline {
		counts = append(counts, findings.Count{Name: "unchanged", Value: c.Unchanged},
			findings.Count{Name: "new", Value: c.New}, findings.Count{Name: "resolved", Value: c.Resolved})
	}
	return findings.Summary{Text: c.line(), Counts: append(counts, extra...)}
}

func counted(n int64, word string) string { return count(n) + " " + pluralWord(n, word) }

// auditSink sends an audit's findings to the format asked for: rows to a
// row renderer (resolved rows included, as information), findings to a
// report renderer (resolved ones left out: they are no finding, and code
// scanning would raise them as alerts).
type auditSink struct {
	rows   output.RowWriter
	report findings.Writer
	failOn string
	ids    bool
	lastID int64
}

func newAuditSink(inv *Invocation, fm output.Format, columns []string, cols output.Columns, rep *findings.Report, failOn string) (*auditSink, error) {
	s := &auditSink{failOn: failOn, ids: fm == output.IDs, lastID: -1}
	if fm.IsReport() {
		rep.Tool, rep.Version, rep.Fields = "b2badmin", buildVersion(), cols.Keys()
		w, err := findings.New(fm, inv.IO.Out, rep)
		if err != nil {
			return nil, err
		}
		s.report = w
		return s, nil
	}
	proj, err := cols.Select(columns, fm)
	if err != nil {
		return nil, usageError(err.Error())
	}
	s.rows = output.NewRowWriter(fm, inv.IO.Out, proj, inv.OutputOptions())
	return s, nil
}

// finding writes one finding; row is in cols order, rf its report form
// (built only when a report format is written: see reporting).
func (s *auditSink) finding(userID int64, resolved bool, row []any, rf func() *findings.Finding) error {
	if s.report != nil {
		if resolved {
			return nil
		}
		x := rf()
		x.Fails = s.failOn == failOnAny || (s.failOn == failOnNew && x.State == "new")
		return s.report.Finding(x)
	}
	if s.ids {
		// Each user once: they are what -o ids is for (| xargs, or - on stdin).
		if resolved || userID == s.lastID {
			return nil
		}
		s.lastID = userID
	}
	return s.rows.Write(row)
}

// reporting reports whether findings go to a report renderer.
func (s *auditSink) reporting() bool { return s.report != nil }

func (s *auditSink) pass(subject, subjectID string) error {
	if s.report == nil {
		return nil
	}
	return s.report.Pass(subject, subjectID)
}

func (s *auditSink) close(sum findings.Summary) error {
	if s.report != nil {
		return s.report.Close(sum)
	}
	return s.rows.Close()
}

// withChange is an audit's columns, with change when there is a baseline.
func withChange(cols output.Columns, base *client.Baseline) output.Columns {
	if base == nil {
		return cols
	}
	return append(append(output.Columns{}, cols...), auditChangeColumn)
}

// baselineCounts are the summary's counts of a run.
func baselineCounts(findings, users int64, b client.BaselineCounts, base *client.Baseline) auditCounts {
	return auditCounts{Findings: findings, Unchanged: b.Unchanged, New: b.New, Resolved: b.Resolved, Users: users, Baseline: base != nil}
}

// buildVersion is the release the binary was built from (version.go:
// the Makefile's tag or the module version), "" for a development build.
func buildVersion() string {
	if v := buildInfo().Version; v != "dev" {
		return v
	}
	return ""
}
