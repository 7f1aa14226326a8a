package findings

import (
	"bufio"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/b2badmin/b2badmin/output"
)

// SARIF 2.1.0, the subset GitHub code scanning reads: one run, the rules
// in tool.driver.rules, one result per finding pointing at the line of
// the rule that decided it, with a fingerprint per (rule, subject, item)
// so that code scanning keeps one alert per finding across runs and
// thousands of findings on one policy line stay apart. Results stream;
// the run's closing invocation (with the counts) follows them.
const (
	sarifSchema  = "https://json.schemastore.org/sarif-2.1.0.json"
	sarifVersion = "2.1.0"
)

type sarifWriter struct {
	w       *bufio.Writer
	r       *Report
	uri     string // of r.File
	props   []int  // indexes of r.Fields that go into properties
	ruleIdx map[string]int
	n       int
	buf     []byte
	err     error
}

func newSARIF(w io.Writer, r *Report) *sarifWriter {
	s := &sarifWriter{w: bufio.NewWriterSize(w, 64<<10), r: r, uri: fileURI(r.File), ruleIdx: map[string]int{}}
	for i, k := range r.Fields {
		if !slices.Contains(r.Omit, k) {
			s.props = append(s.props, i)
		}
	}
	b := s.buf[:0]
	b = append(b, `{"$schema":"`+sarifSchema+`","version":"`+sarifVersion+`","runs":[{"tool":{"driver":{"name":`...)
	b = output.AppendJSONString(b, r.Tool)
	if r.Version != "" {
		b = append(b, `,"version":`...)
		b = output.AppendJSONString(b, r.Version)
	}
	if r.InfoURI != "" {
		b = append(b, `,"informationUri":`...)
		b = output.AppendJSONString(b, r.InfoURI)
	}
	b = append(b, `,"rules":[`...)
	for i, rule := range r.Rules {
		s.ruleIdx[rule.ID] = i
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, "\n"+`{"id":`...)
		b = output.AppendJSONString(b, rule.ID)
		b = append(b, `,"shortDescription":{"text":`...)
		b = output.AppendJSONString(b, rule.Text)
		b = append(b, `},"fullDescription":{"text":`...)
		full := rule.Text
		if r.File != "" && rule.Line > 0 {
			full += " (" + r.File + ", line " + strconv.Itoa(rule.Line) + ")"
		}
		b = output.AppendJSONString(b, full)
		b = append(b, `},"defaultConfiguration":{"level":"error"}`...)
		if r.File != "" && rule.Line > 0 {
			b = append(b, `,"properties":{"line":`...)
			b = strconv.AppendInt(b, int64(rule.Line), 10)
			b = append(b, '}')
		}
		b = append(b, '}')
	}
	b = append(b, `]}},"automationDetails":{"id":`...)
	b = output.AppendJSONString(b, r.Tool+"/"+strings.ReplaceAll(r.Command, " ", "-")+"/")
	b = append(b, `},"results":[`...)
	s.buf = b
	_, s.err = s.w.Write(b)
	return s
}

func (s *sarifWriter) Finding(f *Finding) error {
	if s.err != nil {
		return s.err
	}
	b := s.buf[:0]
	if s.n > 0 {
		b = append(b, ',')
	}
	s.n++
	b = append(b, "\n"+`{"ruleId":`...)
	b = output.AppendJSONString(b, f.RuleID)
	if i, ok := s.ruleIdx[f.RuleID]; ok {
		b = append(b, `,"ruleIndex":`...)
		b = strconv.AppendInt(b, int64(i), 10)
	}
	level := "warning"
	if f.Fails {
		level = "error"
	}
	b = append(b, `,"level":"`+level+`","message":{"text":`...)
	b = output.AppendJSONString(b, f.Message+stateNote(f.State))
	b = append(b, `},"locations":[{`...)
	if s.r.File != "" {
		// The subject is in the message and the properties; a logical
		// location as well would make every result a third longer.
		b = append(b, `"physicalLocation":{"artifactLocation":{"uri":`...)
		b = output.AppendJSONString(b, s.uri)
		b = append(b, `},"region":{"startLine":`...)
		b = strconv.AppendInt(b, int64(max(f.Line, 1)), 10)
		b = append(b, `}}`...)
	} else {
		b = append(b, `"logicalLocations":[{"name":`...)
		b = output.AppendJSONString(b, f.Subject)
		b = append(b, `,"fullyQualifiedName":`...)
		b = output.AppendJSONString(b, f.SubjectID)
		b = append(b, `,"kind":"resource"}]`...)
	}
	b = append(b, `}],"partialFingerprints":{"primaryLocationLineHash":"`...)
	b = appendFingerprint(b, s.r, f)
	b = append(b, `"}`...)
	if f.State != "" {
		b = append(b, `,"baselineState":`...)
		b = output.AppendJSONString(b, f.State)
	}
	if len(s.props) > 0 {
		b = append(b, `,"properties":{`...)
		for n, i := range s.props {
			if n > 0 {
				b = append(b, ',')
			}
			b = output.AppendJSONString(b, s.r.Fields[i])
			b = append(b, ':')
			var v any
			if i < len(f.Values) {
				v = f.Values[i]
			}
			var err error
			if b, err = output.AppendJSON(b, v); err != nil {
				return err
			}
		}
		b = append(b, '}')
	}
	b = append(b, '}')
	s.buf = b
	_, s.err = s.w.Write(b)
	return s.err
}

// Pass: SARIF could carry passing results (kind "pass"), but code
// scanning raises every result as an alert whatever its kind.
func (s *sarifWriter) Pass(string, string) error { return s.err }

func (s *sarifWriter) Close(sum Summary) error {
	if s.err != nil {
		return s.err
	}
	b := s.buf[:0]
	b = append(b, "\n"+`],"invocations":[{"executionSuccessful":`...)
	b = strconv.AppendBool(b, sum.Failure == "")
	if sum.Failure != "" {
		b = append(b, `,"toolExecutionNotifications":[{"level":"error","message":{"text":`...)
		b = output.AppendJSONString(b, sum.Failure)
		b = append(b, `}}]`...)
	}
	b = append(b, `,"startTimeUtc":"`...)
	b = s.r.Started.UTC().AppendFormat(b, time.RFC3339)
	b = append(b, `","endTimeUtc":"`...)
	b = time.Now().UTC().AppendFormat(b, time.RFC3339)
	b = append(b, `","properties":{"summary":`...)
	b = output.AppendJSONString(b, sum.Text)
	for _, c := range sum.Counts {
		b = append(b, ',')
		b = output.AppendJSONString(b, c.Name)
		b = append(b, ':')
		b = strconv.AppendInt(b, c.Value, 10)
	}
	b = append(b, "}}]}]}\n"...)
	if _, err := s.w.Write(b); err != nil {
		return err
	}
	return s.w.Flush()
}
