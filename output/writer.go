package output

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/jedib0t/go-pretty/v6/table"
	"github.com/jedib0t/go-pretty/v6/text"
)

// Options shape a rendering.
type Options struct {
	NoHeaders bool
	// TTY: stdout is a terminal, so a table gets borders and (unless
	// NoColor) colour; otherwise plain aligned text.
	TTY     bool
	NoColor bool
}

// RowWriter receives rows (in the full Columns order) one at a time.
type RowWriter interface {
	Write(row []any) error
	// Close finishes the output (closing bracket, table render, flush).
	Close() error
}

// NewRowWriter returns the writer for format f.
func NewRowWriter(f Format, w io.Writer, p Projection, o Options) RowWriter {
	bw := bufio.NewWriterSize(w, 64<<10)
	switch f {
	case JSON:
		return &jsonWriter{w: bw, p: p}
	case JSONL:
		return &jsonWriter{w: bw, p: p, lines: true}
	case CSV:
		cw := csv.NewWriter(bw)
		return &delimitedWriter{w: bw, p: p, o: o, csv: cw}
	case TSV:
		return &delimitedWriter{w: bw, p: p, o: o}
	case IDs:
		return &idWriter{w: bw, p: p}
	default:
		return &tableWriter{w: bw, p: p, o: o}
	}
}

// WriteAll renders a whole slice of rows.
func WriteAll(f Format, w io.Writer, p Projection, o Options, rows [][]any) error {
	rw := NewRowWriter(f, w, p, o)
	for _, r := range rows {
		if err := rw.Write(r); err != nil {
			return err
		}
	}
	return rw.Close()
}

// ---- JSON and JSON Lines ----

type jsonWriter struct {
	w     *bufio.Writer
	p     Projection
	lines bool
	n     int
	buf   []byte
}

func (j *jsonWriter) Write(row []any) error {
	vals := j.p.project(row)
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
		b = strconv.AppendQuote(b, c.Key)
		b = append(b, ':')
		v, err := marshalValue(vals[i])
		if err != nil {
			return err
		}
		b = append(b, v...)
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
	if !j.lines {
		if j.n == 0 {
			j.w.WriteString("[]\n")
		} else {
			j.w.WriteString("\n]\n")
		}
	}
	return j.w.Flush()
}

// marshalValue encodes one value; times are RFC 3339 UTC.
func marshalValue(v any) ([]byte, error) {
	switch t := v.(type) {
	case nil:
		return []byte("null"), nil
	case time.Time:
		if t.IsZero() {
			return []byte("null"), nil
		}
		return json.Marshal(t.UTC().Format(time.RFC3339))
	case *time.Time:
		if t == nil {
			return []byte("null"), nil
		}
		return marshalValue(*t)
	case string:
		return json.Marshal(t)
	case bool:
		return strconv.AppendBool(nil, t), nil
	case int64:
		return strconv.AppendInt(nil, t, 10), nil
	case int:
		return strconv.AppendInt(nil, int64(t), 10), nil
	case []string:
		if t == nil {
			return []byte("[]"), nil
		}
	}
	return json.Marshal(v)
}

// WriteJSON prints one value as indented JSON (for `show`-style objects).
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// ---- CSV and TSV ----

type delimitedWriter struct {
	w      *bufio.Writer
	p      Projection
	o      Options
	csv    *csv.Writer // nil for TSV
	header bool
	rec    []string
}

func (d *delimitedWriter) Write(row []any) error {
	if !d.header {
		d.header = true
		if !d.o.NoHeaders {
			if err := d.record(d.p.headerKeys()); err != nil {
				return err
			}
		}
	}
	vals := d.p.project(row)
	rec := d.rec[:0]
	for _, v := range vals {
		rec = append(rec, Text(v))
	}
	d.rec = rec
	return d.record(rec)
}

func (d *delimitedWriter) record(rec []string) error {
	if d.csv != nil {
		return d.csv.Write(rec)
	}
	for i, f := range rec {
		if i > 0 {
			d.w.WriteByte('\t')
		}
		d.w.WriteString(tsvEscape(f))
	}
	return d.w.WriteByte('\n')
}

func (d *delimitedWriter) Close() error {
	if !d.header && !d.o.NoHeaders {
		d.header = true
		if err := d.record(d.p.headerKeys()); err != nil {
			return err
		}
	}
	if d.csv != nil {
		d.csv.Flush()
		if err := d.csv.Error(); err != nil {
			return err
		}
	}
	return d.w.Flush()
}

var tsvReplacer = strings.NewReplacer(`\`, `\\`, "\t", `\t`, "\n", `\n`, "\r", `\r`)

// tsvEscape follows the PostgreSQL text format / IANA TSV convention:
// backslash escapes, so a field never breaks a line or a column.
func tsvEscape(s string) string { return tsvReplacer.Replace(s) }

func (p Projection) headerKeys() []string {
	out := make([]string, len(p.Cols))
	for i, c := range p.Cols {
		out[i] = c.Key
	}
	return out
}

// Text renders a value for CSV, TSV and tables.
func Text(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	case time.Time:
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	case *time.Time:
		if t == nil {
			return ""
		}
		return Text(*t)
	case bool:
		return strconv.FormatBool(t)
	case int64:
		return strconv.FormatInt(t, 10)
	case int:
		return strconv.Itoa(t)
	case []string:
		return strings.Join(t, ",")
	case fmt.Stringer:
		return t.String()
	}
	return fmt.Sprint(v)
}

// ---- IDs ----

type idWriter struct {
	w *bufio.Writer
	p Projection
}

func (d *idWriter) Write(row []any) error {
	// The ID is the first column of the full row by convention.
	if len(row) == 0 {
		return nil
	}
	d.w.WriteString(Text(row[0]))
	return d.w.WriteByte('\n')
}

func (d *idWriter) Close() error { return d.w.Flush() }

// ---- tables ----

type tableWriter struct {
	w    *bufio.Writer
	p    Projection
	o    Options
	rows []table.Row
}

func (t *tableWriter) Write(row []any) error {
	vals := t.p.project(row)
	r := make(table.Row, len(vals))
	for i, v := range vals {
		s := Text(v)
		if b, ok := v.(bool); ok {
			s = map[bool]string{true: "yes", false: "no"}[b]
		}
		r[i] = s
	}
	t.rows = append(t.rows, r)
	return nil
}

func (t *tableWriter) Close() error {
	tw := table.NewWriter()
	tw.SetOutputMirror(t.w)
	if !t.o.NoHeaders {
		h := make(table.Row, len(t.p.Cols))
		for i, c := range t.p.Cols {
			h[i] = c.Header
		}
		tw.AppendHeader(h)
	}
	tw.AppendRows(t.rows)
	tw.SetStyle(TableStyle(t.o))
	tw.Render()
	return t.w.Flush()
}

// TableStyle is a bordered, coloured style on a terminal and plain aligned
// columns (no borders, no colour) when piped.
func TableStyle(o Options) table.Style {
	if !o.TTY {
		s := table.StyleDefault
		s.Options = table.Options{}
		s.Box.PaddingLeft, s.Box.PaddingRight = "", "  "
		s.Format.Header = text.FormatUpper
		s.Color = table.ColorOptions{}
		return s
	}
	s := table.StyleLight
	s.Format.Header = text.FormatDefault
	if o.NoColor {
		s.Color = table.ColorOptions{}
	} else {
		s.Color.Header = text.Colors{text.Bold}
	}
	return s
}
