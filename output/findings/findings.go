// Package findings writes check results in the formats CI systems read
// natively: JUnit XML (GitLab, Jenkins, Azure Pipelines test reports),
// SARIF 2.1.0 (GitHub code scanning), GitHub Actions workflow commands
// (annotations) and TAP version 13. Like package output it knows nothing
// about users or policies: a caller describes its rules and hands over
// findings, each with the row its -o json would print, so every format
// carries the same content.
package findings

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/b2badmin/b2badmin/output"
)

// Rule is one rule that can decide a finding.
type Rule struct {
	ID   string // stable identifier: SARIF ruleId, JUnit failure type, GitHub title
	Text string // what the rule says, one sentence
	Line int    // where it is written in Report.File; 0 = not one line of it
}

// Report describes one run of a check.
type Report struct {
	Tool    string // "b2badmin"
	Version string
	InfoURI string
	Command string // "perms audit": names the JUnit suite and the SARIF automation
	File    string // the file findings point at (a policy); "" = none
	Rules   []Rule
	Fields  []string // the keys of Finding.Values (the -o json keys)
	// Omit names the fields a SARIF result leaves out of its properties:
	// those it says elsewhere (the rule in its ruleId and message, the line
	// in its region) and those another field determines (a permission's
	// label). The whole row would be most of a result's bytes, on a
	// hundred thousand results.
	Omit    []string
	Started time.Time // for durations; zero = when the writer was made
}

// Finding is one problem found.
type Finding struct {
	RuleID    string
	Rule      string // the rule as it applied here, e.g. deny "auth.*" (JUnit's failure message)
	Subject   string // who, e.g. "alice@example.com (user 17)"
	SubjectID string // a stable name for the subject, e.g. "user/17"
	Item      string // what, e.g. "auth.view_group"; "" when the rule is about the subject itself
	Message   string // the whole finding in one sentence
	Line      int    // in Report.File; 0 = none
	State     string // against a baseline: "unchanged", "new"; "" without one
	// Fails: this finding fails the run (--fail-on): error level, a JUnit
	// failure, a TAP "not ok". Otherwise it shows at warning level, and
	// TAP marks it TODO (reported, not failing).
	Fails  bool
	Values []any // the finding's row, aligned with Report.Fields
}

// Summary closes a report: the one-line summary and its counts, or why
// the run failed (the report then says so: its findings are incomplete).
type Summary struct {
	Text    string
	Counts  []Count
	Failure string
}

// Count is one named number of a summary.
type Count struct {
	Name  string
	Value int64
}

// Writer receives a run's findings and passes one at a time.
type Writer interface {
	Finding(f *Finding) error
	// Pass records a subject checked without finding (JUnit and TAP list
	// passing tests; the other formats have no place for them).
	Pass(subject, subjectID string) error
	// Close finishes the document.
	Close(s Summary) error
}

// New returns the writer for a report format (output.ReportFormats).
func New(fm output.Format, w io.Writer, r *Report) (Writer, error) {
	if r.Started.IsZero() {
		r.Started = time.Now()
	}
	switch fm {
	case output.JUnit:
		return newJUnit(w, r), nil
	case output.SARIF:
		return newSARIF(w, r), nil
	case output.GitHub:
		return newGitHub(w, r), nil
	case output.TAP:
		return newTAP(w, r), nil
	}
	return nil, fmt.Errorf("findings: %q is not a report format", fm)
}

// name is the finding's test name: subject and item.
func (f *Finding) name() string {
	if f.Item == "" {
		return f.Subject
	}
	return f.Subject + ": " + f.Item
}

// appendFingerprint appends what identifies a finding across runs (SARIF
// partialFingerprints): the rule, the subject and the item, not the line,
// which moves as the file is edited. FNV-1a over the parts: stable, and
// cheap enough to run on every one of a hundred thousand findings.
func appendFingerprint(b []byte, r *Report, f *Finding) []byte {
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	for i, part := range [...]string{r.Command, f.RuleID, f.SubjectID, f.Item} {
		if i > 0 {
			h = (h ^ 0) * prime // a separator, so ("ab","c") differs from ("a","bc")
		}
		for j := 0; j < len(part); j++ {
			h = (h ^ uint64(part[j])) * prime
		}
	}
	var x [8]byte
	binary.BigEndian.PutUint64(x[:], h)
	b = hex.AppendEncode(b, x[:])
	return append(b, ":1"...)
}

// fileURI is a path as a SARIF artifact URI: relative paths stay relative
// (to the repository root, where code scanning resolves them), absolute
// ones become file: URIs.
func fileURI(path string) string {
	slash := filepath.ToSlash(path)
	abs := filepath.IsAbs(path)
	slash = strings.TrimPrefix(slash, "./")
	parts := strings.Split(slash, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	u := strings.Join(parts, "/")
	if abs {
		if !strings.HasPrefix(u, "/") {
			u = "/" + u
		}
		return "file://" + u
	}
	return u
}

// stateNote is how a finding's baseline state reads in a sentence.
func stateNote(state string) string {
	if state == "" {
		return ""
	}
	return " (" + state + " since the baseline)"
}
