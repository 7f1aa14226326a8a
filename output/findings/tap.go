package findings

import (
	"bufio"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/b2badmin/b2badmin/output"
)

// tapWriter writes TAP version 13: "not ok" per finding with a YAML block
// (message, rule, where, and the finding's row), "ok" per passing subject,
// and the plan at the end, which TAP allows so that results stream. A
// finding that does not fail the run is marked TODO, which TAP harnesses
// report without failing.
type tapWriter struct {
	w   *bufio.Writer
	r   *Report
	n   int
	buf []byte
	err error
}

func newTAP(w io.Writer, r *Report) *tapWriter {
	t := &tapWriter{w: bufio.NewWriterSize(w, 64<<10), r: r}
	head := "TAP version 13\n# " + tapComment(r.Tool+" "+r.Command)
	if r.File != "" {
		head += tapComment(": " + r.File)
	}
	_, t.err = t.w.WriteString(head + "\n")
	return t
}

func (t *tapWriter) Finding(f *Finding) error {
	if t.err != nil {
		return t.err
	}
	t.n++
	b := t.buf[:0]
	b = append(b, "not ok "...)
	b = strconv.AppendInt(b, int64(t.n), 10)
	b = append(b, " - "...)
	b = appendTAPDescription(b, f.name())
	if !f.Fails {
		b = append(b, " # TODO does not fail the run"...)
		if f.State != "" {
			b = append(b, ": "+f.State+" since the baseline"...)
		}
	}
	b = append(b, "\n  ---\n  message: "...)
	b = appendYAMLString(b, f.Message)
	b = append(b, "\n  severity: "...)
	if f.Fails {
		b = append(b, "fail"...)
	} else {
		b = append(b, "todo"...)
	}
	b = append(b, "\n  rule: "...)
	b = appendYAMLString(b, f.RuleID)
	if f.State != "" {
		b = append(b, "\n  baseline: "+f.State...)
	}
	if t.r.File != "" {
		b = append(b, "\n  at:\n    file: "...)
		b = appendYAMLString(b, t.r.File)
		if f.Line > 0 {
			b = append(b, "\n    line: "...)
			b = strconv.AppendInt(b, int64(f.Line), 10)
		}
	}
	if len(t.r.Fields) > 0 {
		b = append(b, "\n  data:"...)
		for i, k := range t.r.Fields {
			b = append(b, "\n    "...)
			b = append(b, k...)
			b = append(b, ": "...)
			var v any
			if i < len(f.Values) {
				v = f.Values[i]
			}
			b = appendYAMLValue(b, v)
		}
	}
	b = append(b, "\n  ...\n"...)
	t.buf = b
	_, t.err = t.w.Write(b)
	return t.err
}

func (t *tapWriter) Pass(subject, _ string) error {
	if t.err != nil {
		return t.err
	}
	t.n++
	b := t.buf[:0]
	b = append(b, "ok "...)
	b = strconv.AppendInt(b, int64(t.n), 10)
	b = append(b, " - "...)
	b = appendTAPDescription(b, subject)
	b = append(b, '\n')
	t.buf = b
	_, t.err = t.w.Write(b)
	return t.err
}

func (t *tapWriter) Close(s Summary) error {
	if t.err != nil {
		return t.err
	}
	if s.Failure != "" {
		// The stream ends here, without a plan: the run did not finish.
		t.w.WriteString("Bail out! " + tapComment(s.Failure) + "\n")
		return t.w.Flush()
	}
	t.w.WriteString("1.." + strconv.Itoa(t.n) + "\n")
	if s.Text != "" {
		t.w.WriteString("# " + tapComment(s.Text) + "\n")
	}
	return t.w.Flush()
}

// appendTAPDescription writes a test description on one line: # would
// start a directive and \ escapes, so both are escaped (TAP 13).
func appendTAPDescription(b []byte, s string) []byte {
	for _, r := range s {
		switch r {
		case '#', '\\':
			b = append(b, '\\', byte(r))
		case '\n', '\r', '\t':
			b = append(b, ' ')
		default:
			b = utf8.AppendRune(b, r)
		}
	}
	return b
}

func tapComment(s string) string {
	return strings.NewReplacer("\n", " ", "\r", " ").Replace(s)
}

// appendYAMLValue writes a row value as YAML (flow style for lists).
func appendYAMLValue(b []byte, v any) []byte {
	switch t := output.Deref(v).(type) {
	case nil:
		return append(b, "null"...)
	case string:
		return appendYAMLString(b, t)
	case []string:
		b = append(b, '[')
		for i, s := range t {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = appendYAMLString(b, s)
		}
		return append(b, ']')
	case int:
		return strconv.AppendInt(b, int64(t), 10)
	case int64:
		return strconv.AppendInt(b, t, 10)
	case bool:
		return strconv.AppendBool(b, t)
	}
	return appendYAMLString(b, output.Text(v))
}

// appendYAMLString writes s double-quoted. YAML's escapes are a superset
// of JSON's, but YAML also forbids raw DEL, C1 controls and a byte-order
// mark inside a document, so those are escaped too.
func appendYAMLString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b = append(b, '\\', byte(r))
		case r == '\n':
			b = append(b, '\\', 'n')
		case r == '\t':
			b = append(b, '\\', 't')
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) || r == 0xfeff || r == utf8.RuneError:
			b = append(b, '\\', 'u', hex[r>>12&0xf], hex[r>>8&0xf], hex[r>>4&0xf], hex[r&0xf])
		default:
			b = utf8.AppendRune(b, r)
		}
	}
	return append(b, '"')
}
