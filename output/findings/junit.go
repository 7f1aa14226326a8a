package findings

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"time"
)

// junitWriter writes JUnit XML as GitLab, Jenkins and Azure Pipelines read
// it: one test suite; a test case per finding (failing, with the rule as
// its failure message) and one per passing subject, so that tests =
// failures + passes. The suite's counts come first in the document, so the
// test cases are kept until Close (a few hundred bytes each).
type junitWriter struct {
	w               io.Writer
	r               *Report
	cases           bytes.Buffer
	tests, failures int64
	skipped         int64
}

func newJUnit(w io.Writer, r *Report) *junitWriter { return &junitWriter{w: w, r: r} }

func (j *junitWriter) Finding(f *Finding) error {
	j.tests++
	b := &j.cases
	j.open(f.name(), f.Line)
	note := stateNote(f.State)
	if f.Fails {
		j.failures++
		b.WriteString(">\n      <failure message=\"")
		escape(b, f.Rule+note)
		b.WriteString("\" type=\"")
		escape(b, f.RuleID)
		b.WriteString("\">")
	} else {
		// A finding that does not fail the run (--fail-on new or none) is
		// still listed, as a skipped test: a failure would turn the test
		// report red on a passing job.
		j.skipped++
		b.WriteString(">\n      <skipped message=\"")
		escape(b, f.Rule+note+": does not fail the run")
		b.WriteString("\">")
	}
	escape(b, f.Message)
	if j.r.File != "" && f.Line > 0 {
		escape(b, fmt.Sprintf("\n%s:%d: %s", j.r.File, f.Line, f.Rule))
	}
	if f.Fails {
		b.WriteString("</failure>\n    </testcase>\n")
	} else {
		b.WriteString("</skipped>\n    </testcase>\n")
	}
	return nil
}

func (j *junitWriter) Pass(subject, _ string) error {
	j.tests++
	j.open(subject, 0)
	j.cases.WriteString("/>\n")
	return nil
}

// open writes a test case's start tag up to its closing bracket.
func (j *junitWriter) open(name string, line int) {
	b := &j.cases
	b.WriteString(`    <testcase name="`)
	escape(b, name)
	b.WriteString(`" classname="`)
	escape(b, j.r.Tool+" "+j.r.Command)
	b.WriteString(`"`)
	if j.r.File != "" {
		b.WriteString(` file="`)
		escape(b, j.r.File)
		b.WriteString(`"`)
		if line > 0 {
			b.WriteString(` line="` + strconv.Itoa(line) + `"`)
		}
	}
}

func (j *junitWriter) Close(s Summary) error {
	errs := 0
	if s.Failure != "" {
		// One test case in error says the run did not finish.
		errs = 1
		j.tests++
		j.open("run", 0)
		j.cases.WriteString(">\n      <error message=\"")
		escape(&j.cases, s.Failure)
		j.cases.WriteString("\">the run failed, findings are incomplete</error>\n    </testcase>\n")
	}
	bw := bufio.NewWriter(j.w)
	secs := strconv.FormatFloat(time.Since(j.r.Started).Seconds(), 'f', 3, 64)
	counts := fmt.Sprintf(`tests="%d" failures="%d" errors="%d" skipped="%d" time="%s"`, j.tests, j.failures, errs, j.skipped, secs)
	name := j.r.Tool + " " + j.r.Command
	var b bytes.Buffer
	b.WriteString(xml.Header)
	b.WriteString(`<testsuites name="`)
	escape(&b, name)
	b.WriteString(`" ` + counts + ">\n")
	b.WriteString(`  <testsuite name="`)
	escape(&b, name)
	b.WriteString(`" ` + counts + ` timestamp="` + j.r.Started.UTC().Format("2006-01-02T15:04:05") + `"`)
	if j.r.File != "" {
		b.WriteString(` file="`)
		escape(&b, j.r.File)
		b.WriteString(`"`)
	}
	b.WriteString(">\n    <properties>\n")
	prop := func(name, value string) {
		b.WriteString(`      <property name="`)
		escape(&b, name)
		b.WriteString(`" value="`)
		escape(&b, value)
		b.WriteString("\"/>\n")
	}
	for _, c := range s.Counts {
		prop(c.Name, strconv.FormatInt(c.Value, 10))
	}
	prop("summary", s.Text)
	b.WriteString("    </properties>\n")
	bw.Write(b.Bytes())
	bw.Write(j.cases.Bytes())
	bw.WriteString("  </testsuite>\n</testsuites>\n")
	return bw.Flush()
}

// escape writes s as XML character data, safe inside attribute values too
// (quotes, line breaks and tabs become references). Characters XML 1.0
// cannot carry at all, such as most control characters, become U+FFFD.
func escape(b *bytes.Buffer, s string) { _ = xml.EscapeText(b, []byte(s)) }
