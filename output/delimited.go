package output

import (
	"bufio"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ---- CSV and TSV ----

// delimitedWriter streams CSV (RFC 4180, byte for byte what encoding/csv
// writes: a field with a comma, quote or line break, or starting with a
// space, is quoted) or TSV (backslash escapes). The header row holds the
// column keys, the same names as the JSON fields. Each record is built in
// one reused buffer: a million-row export allocates nothing per field.
type delimitedWriter struct {
	w      *bufio.Writer
	p      Projection
	o      Options
	csv    bool // else TSV
	header bool
	buf    []byte
	field  []byte
}

func (d *delimitedWriter) Write(row []any) error {
	if err := d.writeHeader(); err != nil {
		return err
	}
	b := d.buf[:0]
	for i := range d.p.Cols {
		if i > 0 {
			b = append(b, d.sep())
		}
		start := len(b)
		b = AppendText(b, d.p.cell(row, i))
		b = d.escape(b, start)
	}
	b = append(b, '\n')
	d.buf = b
	_, err := d.w.Write(b)
	return err
}

func (d *delimitedWriter) sep() byte {
	if d.csv {
		return ','
	}
	return '\t'
}

// escape quotes (CSV) or escapes (TSV) the field b[start:] in place;
// unless Raw, it first neutralises a formula (a leading ') and, for CSV,
// escapes control characters (see escape.go).
func (d *delimitedWriter) escape(b []byte, start int) []byte {
	if !d.o.Raw && plainField(b[start:], d.csv) {
		return b
	}
	return d.escapeFull(b, start)
}

// escapeFull is escape by the full rules, for any field.
func (d *delimitedWriter) escapeFull(b []byte, start int) []byte {
	f := b[start:]
	if !d.o.Raw {
		guard := needsFormulaGuard(f)
		ctl := d.csv && hasControlBytes(f)
		if guard || ctl {
			d.field = append(d.field[:0], f...)
			b = b[:start]
			if guard {
				b = append(b, '\'')
			}
			if ctl {
				b = appendControlEscaped(b, d.field)
			} else {
				b = append(b, d.field...)
			}
			f = b[start:]
		}
	}
	if d.csv {
		if !csvNeedsQuotes(f) {
			return b
		}
		d.field = append(d.field[:0], f...)
		b = append(b[:start], '"')
		for _, c := range d.field {
			if c == '"' {
				b = append(b, '"')
			}
			b = append(b, c)
		}
		return append(b, '"')
	}
	if !tsvNeedsEscape(f, d.o.Raw) {
		return b
	}
	d.field = append(d.field[:0], f...)
	b = b[:start]
	for i, c := range d.field {
		switch {
		case c == '\\':
			b = append(b, '\\', '\\')
		case c == '\t':
			b = append(b, '\\', 't')
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case !d.o.Raw && (c < 0x20 || c == 0x7f || isC1Byte(d.field, i)):
			// PostgreSQL's text format: \xNN is one byte, so a C1
			// character (two UTF-8 bytes) is two escapes and reads back whole.
			b = append(b, '\\', 'x', hexDigits[c>>4], hexDigits[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return b
}

// plainBytes are, for CSV and for TSV, the bytes that never make a field
// need quoting or escaping; 0xC2 is not one (it may start a C1 control).
var plainBytes = func() (t [2][256]bool) {
	for c := 0x20; c < 0x100; c++ {
		t[0][c], t[1][c] = c != 0x7f && c != 0xc2 && c != '\\', c != 0x7f && c != 0xc2 && c != ',' && c != '"'
	}
	return t
}()

// plainField reports, in one pass, that a field needs no formula guard,
// no escape and no quotes: most fields of an export. A first byte that
// could start a formula, a space or a non-ASCII character (maybe a
// Unicode space) leaves the decision to the full rules.
func plainField(f []byte, csv bool) bool {
	if len(f) == 0 {
		return true
	}
	switch c := f[0]; {
	case c <= ' ', c >= 0x80, c == '=', c == '@', c == '+', c == '-', c == '\\':
		return false
	}
	t := &plainBytes[0]
	if csv {
		t = &plainBytes[1]
	}
	for _, c := range f {
		if !t[c] {
			return false
		}
	}
	return true
}

// isC1Byte reports whether f[i] is a byte of the UTF-8 form of a C1
// control character (0xC2 0x80-0x9F).
func isC1Byte(f []byte, i int) bool {
	switch c := f[i]; {
	case c == 0xc2:
		return i+1 < len(f) && f[i+1] >= 0x80 && f[i+1] <= 0x9f
	case c >= 0x80 && c <= 0x9f:
		return i > 0 && f[i-1] == 0xc2
	}
	return false
}

// csvNeedsQuotes is encoding/csv's rule, so output stays byte-identical.
func csvNeedsQuotes(f []byte) bool {
	if len(f) == 0 {
		return false
	}
	if string(f) == `\.` {
		return true
	}
	for _, c := range f {
		if c == ',' || c == '"' || c == '\r' || c == '\n' {
			return true
		}
	}
	r, _ := utf8.DecodeRune(f)
	return unicode.IsSpace(r)
}

func tsvNeedsEscape(f []byte, raw bool) bool {
	for _, c := range f {
		if c == '\\' || c == '\t' || c == '\n' || c == '\r' {
			return true
		}
	}
	return !raw && hasControlBytes(f)
}

func (d *delimitedWriter) writeHeader() error {
	if d.header {
		return nil
	}
	d.header = true
	if d.o.NoHeaders {
		return nil
	}
	b := d.buf[:0]
	for i, k := range d.p.headerKeys() {
		if i > 0 {
			b = append(b, d.sep())
		}
		start := len(b)
		b = append(b, k...)
		b = d.escape(b, start)
	}
	b = append(b, '\n')
	d.buf = b
	_, err := d.w.Write(b)
	return err
}

// Close writes the header even when there were no rows, so that a script
// reading an empty result still sees the columns.
func (d *delimitedWriter) Close() error {
	if d.w == nil { // already closed
		return nil
	}
	if err := d.writeHeader(); err != nil {
		return err
	}
	return flushAndRelease(&d.w)
}

// tsvReplacer follows the PostgreSQL text format / IANA TSV convention:
// backslash escapes, so a field never breaks a line or a column.
var tsvReplacer = strings.NewReplacer(`\`, `\\`, "\t", `\t`, "\n", `\n`, "\r", `\r`)

// TSVUnescape reverses the TSV escaping of one field.
func TSVUnescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch s[i] {
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 'x':
			if v, err := strconv.ParseUint(s[i+1:min(i+3, len(s))], 16, 8); err == nil && i+3 <= len(s) {
				b.WriteByte(byte(v))
				i += 2
				continue
			}
			b.WriteByte(s[i])
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

func (p Projection) headerKeys() []string {
	out := make([]string, len(p.Cols))
	for i, c := range p.Cols {
		out[i] = c.Key
	}
	return out
}
