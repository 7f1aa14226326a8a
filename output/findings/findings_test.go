package findings

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/b2badmin/b2badmin/internal/reportparse"
	"github.com/b2badmin/b2badmin/output"
)

// awkward is what a value typed on the web side can hold: every character
// each format must escape (XML's <&"', TAP's # and \, workflow commands'
// % : , and line breaks, YAML's DEL and C1 controls) and some that must
// pass untouched.
const awkward = "o'brien#1%3A,<b>&\"x\\y\"\nz\x7f\u0085ü€@example.com"

func testReport() *Report {
	return &Report{
		Tool: "b2badmin", Version: "test", Command: "perms audit", File: "policies/main policy.yaml",
		Rules:  []Rule{{ID: "deny:auth.*", Text: `Nobody may hold auth.*`, Line: 2}, {ID: "not-allowed", Text: "Allowed by a group or the type"}},
		Fields: []string{"user_id", "email", "groups", "permission", "rule", "policy_line", "change"},
	}
}

func testFindings() []*Finding {
	mk := func(uid int64, email, perm, ruleID, rule string, line int, state string, fails bool) *Finding {
		subj := fmt.Sprintf("%s (user %d)", email, uid)
		return &Finding{RuleID: ruleID, Rule: rule, Subject: subj, SubjectID: fmt.Sprintf("user/%d", uid), Item: perm,
			Message: subj + " holds " + perm + ": " + rule, Line: line, State: state, Fails: fails,
			Values: []any{uid, email, []string{"API", "Merchant owner"}, perm, rule, line, state}}
	}
	return []*Finding{
		mk(1, "alice@example.com", "auth.view_group", "deny:auth.*", `deny "auth.*"`, 2, "new", true),
		mk(2, awkward, "auth.add_group", "deny:auth.*", `deny "auth.*"`, 2, "new", true),
		mk(2, awkward, "node.add_address", "not-allowed", "not allowed for groups [API, Merchant owner] / type merchant", 5, "unchanged", false),
	}
}

// write renders the findings in fm, with two passing subjects between them.
func write(t *testing.T, fm output.Format) string {
	t.Helper()
	var buf bytes.Buffer
	w, err := New(fm, &buf, testReport())
	if err != nil {
		t.Fatal(err)
	}
	fs := testFindings()
	if err := w.Finding(fs[0]); err != nil {
		t.Fatal(err)
	}
	w.Pass("bob@example.com (user 3)", "user/3")
	w.Finding(fs[1])
	w.Finding(fs[2])
	w.Pass(awkward+" (user 4)", "user/4")
	if err := w.Close(Summary{Text: "3 findings (1 unchanged, 2 new, 0 resolved) over 5 users", Counts: []Count{{"users", 5}, {"findings", 3}}}); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestJUnit(t *testing.T) {
	out := write(t, output.JUnit)
	j, err := reportparse.ParseJUnit(strings.NewReader(out))
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if j.Tests != 5 || j.Failures != 2 || j.Skipped != 1 || len(j.Suites) != 1 {
		t.Fatalf("counts %d/%d/%d", j.Tests, j.Failures, j.Skipped)
	}
	s := j.Suites[0]
	fs := testFindings()
	want := []struct {
		name, msg, typ string
		line           int
		failed, skip   bool
	}{
		{fs[0].Subject + ": auth.view_group", `deny "auth.*" (new since the baseline)`, "deny:auth.*", 2, true, false},
		{"bob@example.com (user 3)", "", "", 0, false, false},
		{fs[1].Subject + ": auth.add_group", `deny "auth.*" (new since the baseline)`, "deny:auth.*", 2, true, false},
		{fs[2].Subject + ": node.add_address", "not allowed for groups [API, Merchant owner] / type merchant (unchanged since the baseline): does not fail the run", "", 5, false, true},
		{awkward + " (user 4)", "", "", 0, false, false},
	}
	for i, w := range want {
		c := s.Cases[i]
		// XML 1.0 cannot carry C0 controls other than tab and line breaks; DEL and C1 pass.
		if c.Name != w.name || c.Line != w.line || c.Classname != "b2badmin perms audit" || (c.Failure != nil) != w.failed || (c.Skipped != nil) != w.skip {
			t.Errorf("case %d: %+v, want %+v", i, c, w)
		}
		if c.Failure != nil && (c.Failure.Message != w.msg || c.Failure.Type != w.typ || !strings.Contains(c.Failure.Text, "policies/main policy.yaml:2:")) {
			t.Errorf("case %d failure %+v", i, c.Failure)
		}
		if c.Skipped != nil && c.Skipped.Message != w.msg {
			t.Errorf("case %d skipped %+v", i, c.Skipped)
		}
		if w.line > 0 && c.File != "policies/main policy.yaml" {
			t.Errorf("case %d file %q", i, c.File)
		}
	}
	props := map[string]string{}
	for _, p := range s.Properties {
		props[p.Name] = p.Value
	}
	if props["users"] != "5" || props["findings"] != "3" || !strings.HasPrefix(props["summary"], "3 findings") {
		t.Errorf("properties %v", props)
	}
}

func TestSARIF(t *testing.T) {
	out := write(t, output.SARIF)
	s, err := reportparse.ParseSARIF(strings.NewReader(out))
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	run := s.Runs[0]
	if len(s.Runs) != 1 || run.Tool.Driver.Name != "b2badmin" || len(run.Tool.Driver.Rules) != 2 || len(run.Results) != 3 {
		t.Fatalf("shape: %+v", s)
	}
	fps := map[string]bool{}
	for i, f := range testFindings() {
		r := run.Results[i]
		loc := r.Locations[0]
		wantLevel := map[bool]string{true: "error", false: "warning"}[f.Fails]
		if r.RuleID != f.RuleID || r.Level != wantLevel || r.BaselineState != f.State ||
			loc.PhysicalLocation == nil || loc.PhysicalLocation.ArtifactLocation.URI != "policies/main%20policy.yaml" ||
			loc.PhysicalLocation.Region.StartLine != f.Line || len(loc.LogicalLocations) != 0 || !strings.HasPrefix(r.Message.Text, f.Message) {
			t.Errorf("result %d: %+v", i, r)
		}
		if (f.RuleID == "deny:auth.*") != (r.RuleIndex != nil && *r.RuleIndex == 0) {
			t.Errorf("result %d ruleIndex %v", i, r.RuleIndex)
		}
		// Properties are the finding's row, as -o json writes it.
		row, _ := json.Marshal(map[string]any{"user_id": f.Values[0], "email": f.Values[1], "groups": f.Values[2],
			"permission": f.Values[3], "rule": f.Values[4], "policy_line": f.Values[5], "change": f.Values[6]})
		got, _ := json.Marshal(r.Properties)
		if string(got) != string(row) {
			t.Errorf("result %d properties\n got %s\nwant %s", i, got, row)
		}
		fp := r.PartialFingerprints["primaryLocationLineHash"]
		if fp == "" || fps[fp] {
			t.Errorf("result %d fingerprint %q missing or shared", i, fp)
		}
		fps[fp] = true
	}
	// Omitted fields leave the properties; the others stay.
	r := testReport()
	r.Omit = []string{"rule", "policy_line"}
	var buf bytes.Buffer
	w, _ := New(output.SARIF, &buf, r)
	w.Finding(testFindings()[0])
	w.Close(Summary{})
	s2, err := reportparse.ParseSARIF(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if p := s2.Runs[0].Results[0].Properties; len(p) != 5 || p["rule"] != nil || p["policy_line"] != nil || p["email"] != "alice@example.com" {
		t.Errorf("properties with Omit: %v", p)
	}
	if run.Tool.Driver.Rules[0].Properties["line"] != json.Number("2") {
		t.Errorf("rule line: %v", run.Tool.Driver.Rules[0].Properties)
	}
	if len(run.Invocations) != 1 || run.Invocations[0]["executionSuccessful"] != true {
		t.Errorf("invocations %v", run.Invocations)
	}
}

func TestGitHub(t *testing.T) {
	out := write(t, output.GitHub)
	as, err := reportparse.ParseGitHub(strings.NewReader(out))
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(as) != 3 || strings.Count(out, "\n") != 3 {
		t.Fatalf("%d annotations:\n%s", len(as), out)
	}
	for i, f := range testFindings() {
		a := as[i]
		wantLevel := map[bool]string{true: "error", false: "warning"}[f.Fails]
		if a.Level != wantLevel || a.Properties["file"] != "policies/main policy.yaml" || a.Properties["line"] != fmt.Sprint(f.Line) ||
			a.Properties["title"] != "b2badmin "+f.RuleID || a.Message != f.Message+stateNote(f.State) {
			t.Errorf("annotation %d: %+v", i, a)
		}
	}
}

func TestTAP(t *testing.T) {
	out := write(t, output.TAP)
	tp, err := reportparse.ParseTAP(strings.NewReader(out))
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if tp.Plan != 5 {
		t.Fatalf("plan %d", tp.Plan)
	}
	fs := testFindings()
	oneLine := strings.NewReplacer("\n", " ").Replace
	want := []struct {
		ok, failed bool
		desc       string
		f          *Finding
	}{
		{false, true, fs[0].Subject + ": auth.view_group", fs[0]},
		{true, false, "bob@example.com (user 3)", nil},
		{false, true, oneLine(fs[1].Subject) + ": auth.add_group", fs[1]},
		{false, false, oneLine(fs[2].Subject) + ": node.add_address", fs[2]},
		{true, false, oneLine(awkward) + " (user 4)", nil},
	}
	for i, w := range want {
		tt := tp.Tests[i]
		if tt.OK != w.ok || tt.Failed() != w.failed || tt.Description != w.desc {
			t.Errorf("test %d: %+v, want %+v", i+1, tt, w)
			continue
		}
		if w.f == nil {
			if tt.YAML != nil {
				t.Errorf("test %d: a passing test with a YAML block", i+1)
			}
			continue
		}
		data, _ := tt.YAML["data"].(map[string]any)
		at, _ := tt.YAML["at"].(map[string]any)
		if tt.YAML["message"] != w.f.Message || tt.YAML["rule"] != w.f.RuleID || at["line"] != w.f.Line ||
			data["email"] != w.f.Values[1] || data["permission"] != w.f.Item || data["user_id"] != int(w.f.Values[0].(int64)) {
			t.Errorf("test %d YAML %#v", i+1, tt.YAML)
		}
	}
	if len(tp.Comments) != 2 || !strings.HasPrefix(tp.Comments[1], "3 findings") {
		t.Errorf("comments %q", tp.Comments)
	}
}

// A writer without a file points at the subject alone (groups audit).
func TestNoFile(t *testing.T) {
	r := testReport()
	r.File = ""
	f := testFindings()[0]
	for _, fm := range output.ReportFormats {
		var buf bytes.Buffer
		w, _ := New(fm, &buf, r)
		w.Finding(f)
		w.Close(Summary{})
		out := buf.String()
		if strings.Contains(out, "policies") || strings.Contains(out, "startLine") {
			t.Errorf("%s names a file:\n%s", fm, out)
		}
		switch fm {
		case output.SARIF:
			s, err := reportparse.ParseSARIF(strings.NewReader(out))
			if err != nil {
				t.Fatalf("sarif: %v", err)
			}
			if l := s.Runs[0].Results[0].Locations[0]; l.PhysicalLocation != nil || l.LogicalLocations[0].FullyQualifiedName != f.SubjectID || l.LogicalLocations[0].Name != f.Subject {
				t.Errorf("sarif location without a file: %+v", l)
			}
		case output.GitHub:
			if as, err := reportparse.ParseGitHub(strings.NewReader(out)); err != nil || len(as) != 1 || as[0].Properties["file"] != "" {
				t.Errorf("github: %v %+v", err, as)
			}
		}
	}
	if _, err := New(output.JSON, nil, r); err == nil {
		t.Error("json is not a report format")
	}
}

func TestFileURI(t *testing.T) {
	for in, want := range map[string]string{
		"policy.yaml": "policy.yaml", "./ci/policy.yaml": "ci/policy.yaml", "a b/p#1.yaml": "a%20b/p%231.yaml",
		"/etc/b2b/policy.yaml": "file:///etc/b2b/policy.yaml",
	} {
		if got := fileURI(in); got != want {
			t.Errorf("fileURI(%q) = %q, want %q", in, got, want)
		}
	}
}

// A run that fails part way says so in each format: its findings are
// incomplete, and no reader should take the report for a whole one.
func TestFailedRun(t *testing.T) {
	for _, fm := range output.ReportFormats {
		var buf bytes.Buffer
		w, _ := New(fm, &buf, testReport())
		w.Finding(testFindings()[0])
		w.Close(Summary{Text: "1 finding", Failure: "connection lost"})
		out := buf.String()
		switch fm {
		case output.JUnit:
			j, err := reportparse.ParseJUnit(strings.NewReader(out))
			if err != nil || j.Errors != 1 || j.Suites[0].Cases[1].Error == nil || j.Suites[0].Cases[1].Error.Message != "connection lost" {
				t.Errorf("junit: %v %+v", err, j)
			}
		case output.SARIF:
			s, err := reportparse.ParseSARIF(strings.NewReader(out))
			if err != nil || s.Runs[0].Invocations[0]["executionSuccessful"] != false {
				t.Errorf("sarif: %v %v", err, s.Runs[0].Invocations)
			}
		case output.TAP:
			tp, err := reportparse.ParseTAP(strings.NewReader(out))
			if err != nil || tp.BailOut != "connection lost" || len(tp.Tests) != 1 {
				t.Errorf("tap: %v %+v", err, tp)
			}
		case output.GitHub:
			as, err := reportparse.ParseGitHub(strings.NewReader(out))
			if err != nil || len(as) != 2 || as[1].Level != "error" || !strings.Contains(as[1].Message, "connection lost") {
				t.Errorf("github: %v %+v", err, as)
			}
		}
	}
}
