package output

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"strconv"
	"time"
	"unicode/utf8"
)

// ---- JSON and JSON Lines ----

// jsonWriter streams a JSON array (one object per line inside it) or JSON
// Lines. Each object is built in a reused buffer: on a million-row export
// the encoder allocates nothing per value for the common types.
type jsonWriter struct {
	w     *bufio.Writer
	p     Projection
	lines bool
	n     int
	buf   []byte
}

func (j *jsonWriter) Write(row []any) error {
	b := j.buf[:0]
	if !j.lines {
		if j.n == 0 {
			b = append(b, "[\n  "...)
		} else {
			b = append(b, ",\n  "...)
		}
	}
	b = append(b, '{')
	for i, c := range j.p.Cols {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, c.Key)
		b = append(b, ':')
		var err error
		if b, err = appendJSONValue(b, j.p.value(row, i)); err != nil {
			return err
		}
	}
	b = append(b, '}')
	if j.lines {
		b = append(b, '\n')
	}
	j.n++
	j.buf = b
	_, err := j.w.Write(b)
	return err
}

func (j *jsonWriter) Close() error {
	if j.w == nil { // already closed
		return nil
	}
	if !j.lines {
		if j.n == 0 {
			j.w.WriteString("[]\n")
		} else {
			j.w.WriteString("\n]\n")
		}
	}
	return flushAndRelease(&j.w)
}

// AppendJSON appends the JSON encoding of v, as the json format writes a
// field (for other encoders that embed rows: SARIF properties).
func AppendJSON(b []byte, v any) ([]byte, error) { return appendJSONValue(b, Deref(v)) }

// AppendJSONString appends s as a JSON string.
func AppendJSONString(b []byte, s string) []byte { return appendJSONString(b, s) }

// appendJSONValue encodes one value; times are RFC 3339 UTC, a zero time
// is null, a nil []string is [] (a list field is always an array).
func appendJSONValue(b []byte, v any) ([]byte, error) {
	switch t := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		return appendJSONString(b, t), nil
	case bool:
		return strconv.AppendBool(b, t), nil
	case int64:
		return strconv.AppendInt(b, t, 10), nil
	case int:
		return strconv.AppendInt(b, int64(t), 10), nil
	case int32:
		return strconv.AppendInt(b, int64(t), 10), nil
	case time.Time:
		if t.IsZero() {
			return append(b, "null"...), nil
		}
		b = append(b, '"')
		b = t.UTC().AppendFormat(b, time.RFC3339)
		return append(b, '"'), nil
	case *time.Time:
		if t == nil {
			return append(b, "null"...), nil
		}
		return appendJSONValue(b, *t)
	case []string:
		b = append(b, '[')
		for i, s := range t {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, s)
		}
		return append(b, ']'), nil
	}
	// Objects as encodeJSON writes them: strings as appendJSONString
	// writes a top-level one.
	enc, err := marshalJSON(v, "")
	if err != nil {
		return b, err
	}
	return append(b, bytes.TrimSuffix(enc, []byte("\n"))...), nil
}

const hexDigits = "0123456789abcdef"

// appendJSONString quotes s as a JSON string. Unlike encoding/json it does
// not escape <, > and & (output goes to terminals and files, not HTML);
// invalid UTF-8 becomes U+FFFD, as encoding/json does.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != 0x7f {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		// C1 controls reach a terminal raw otherwise (escape.go).
		if r >= 0x80 && r <= 0x9f {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '0', '0', hexDigits[r>>4], hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		// U+2028 and U+2029 break JavaScript string literals; escape them
		// as encoding/json does.
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// WriteJSON prints one value as indented JSON (for `show`-style objects).
func WriteJSON(w io.Writer, v any) error { return encodeJSON(w, v, "  ") }

// WriteJSONLine prints one value as compact JSON on one line (-o jsonl of
// a `show`).
func WriteJSONLine(w io.Writer, v any) error { return encodeJSON(w, v, "") }

func encodeJSON(w io.Writer, v any, indent string) error {
	b, err := marshalJSON(v, indent)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// marshalJSON is encoding/json's encoding of v, newline-terminated, with
// strings as appendJSONString writes them: <, > and & as they are, DEL
// and C1 controls (a terminal acts on CSI) escaped.
func marshalJSON(v any, indent string) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", indent)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return escapeJSONControls(buf.Bytes()), nil
}
