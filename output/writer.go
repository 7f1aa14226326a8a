package output

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options shape a rendering.
type Options struct {
	NoHeaders bool
	// TTY: stdout is a terminal, so a table gets borders and (unless
	// NoColor) colour; otherwise plain aligned text.
	TTY     bool
	NoColor bool
	// Raw writes CSV and TSV values exactly as stored: no formula guard,
	// no escaping of control characters (escape.go).
	Raw bool
	// Width is the terminal's width in columns: a table on a TTY is fitted
	// to it by truncating its widest text columns with "…" (0 = no limit).
	Width int
}

// RowWriter receives rows (in the full Columns order) one at a time.
type RowWriter interface {
	Write(row []any) error
	// Close finishes the output (closing bracket, table render, flush).
	Close() error
}

// NewRowWriter returns the writer for format f.
func NewRowWriter(f Format, w io.Writer, p Projection, o Options) RowWriter {
	bw := bufferFor(w)
	switch f {
	case JSON:
		return &jsonWriter{w: bw, p: p}
	case JSONL:
		return &jsonWriter{w: bw, p: p, lines: true}
	case CSV:
		return &delimitedWriter{w: bw, p: p, o: o, csv: true}
	case TSV:
		return &delimitedWriter{w: bw, p: p, o: o}
	case IDs:
		return &idWriter{w: bw, p: p}
	default:
		return &tableWriter{w: bw, p: p, o: o}
	}
}

// Writers are pooled: a batch renders one small result per line, and a
// fresh 64 KiB buffer each time was most of its allocations.
var writerPool = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 64<<10) }}

func bufferFor(w io.Writer) *bufio.Writer {
	bw := writerPool.Get().(*bufio.Writer)
	bw.Reset(w)
	return bw
}

// flushAndRelease ends a writer's life: Close calls it last. It clears
// *bw, so that a second Close is a no-op rather than a write into a
// buffer that another writer now owns.
func flushAndRelease(bw **bufio.Writer) error {
	if *bw == nil {
		return nil
	}
	err := (*bw).Flush()
	(*bw).Reset(nil)
	writerPool.Put(*bw)
	*bw = nil
	return err
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

// Deref resolves the pointers a streaming caller may put in a row: a row
// of pointers to the fields of one reused struct is built once and costs
// no allocation per row. A nil pointer is a missing value (nil).
func Deref(v any) any {
	switch t := v.(type) {
	case *string:
		if t != nil {
			return *t
		}
	case **string:
		if t != nil && *t != nil {
			return **t
		}
	case *int64:
		if t != nil {
			return *t
		}
	case **int64:
		if t != nil && *t != nil {
			return **t
		}
	case *bool:
		if t != nil {
			return *t
		}
	case **time.Time:
		if t != nil && *t != nil {
			return **t
		}
	case *[]string:
		if t != nil {
			return *t
		}
	default:
		return v
	}
	return nil
}

// AppendText appends Text(v) to b without building a string.
func AppendText(b []byte, v any) []byte {
	switch t := v.(type) {
	case nil:
		return b
	case string:
		return append(b, t...)
	case time.Time:
		if t.IsZero() {
			return b
		}
		return t.UTC().AppendFormat(b, time.RFC3339)
	case *time.Time:
		if t == nil {
			return b
		}
		return AppendText(b, *t)
	case bool:
		return strconv.AppendBool(b, t)
	case int64:
		return strconv.AppendInt(b, t, 10)
	case int:
		return strconv.AppendInt(b, int64(t), 10)
	case []string:
		for i, s := range t {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, s...)
		}
		return b
	// Pointers, as rows reused from row to row hold them (see Deref).
	case *string:
		if t != nil {
			return append(b, *t...)
		}
		return b
	case **string:
		if t != nil && *t != nil {
			return append(b, **t...)
		}
		return b
	case *int64:
		if t != nil {
			return strconv.AppendInt(b, *t, 10)
		}
		return b
	case **int64:
		if t != nil && *t != nil {
			return strconv.AppendInt(b, **t, 10)
		}
		return b
	case *bool:
		if t != nil {
			return strconv.AppendBool(b, *t)
		}
		return b
	case **time.Time:
		if t != nil && *t != nil {
			return AppendText(b, **t)
		}
		return b
	case *[]string:
		if t != nil {
			return AppendText(b, *t)
		}
		return b
	}
	return append(b, Text(v)...)
}

// Text renders a value for CSV, TSV and tables: lists comma-joined,
// objects as compact JSON (nestedText).
func Text(v any) string { return textSep(v, ",") }

// textSep is Text with sep between the elements of a list (", " in a table).
func textSep(v any, sep string) string {
	switch t := Deref(v).(type) {
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
		return strings.Join(t, sep)
	case fmt.Stringer:
		// A type's own text wins: the log's raw JSON, 2FA devices by kind.
		if isNilPointer(t) {
			return ""
		}
		return t.String()
	}
	return nestedText(v, sep)
}

// ---- IDs ----

type idWriter struct {
	w   *bufio.Writer
	p   Projection
	buf []byte
}

func (d *idWriter) Write(row []any) error {
	// The ID is the first column of the full row by convention.
	if len(row) == 0 {
		return nil
	}
	d.buf = AppendText(d.buf[:0], Deref(row[0]))
	d.buf = append(d.buf, '\n')
	_, err := d.w.Write(d.buf)
	return err
}

func (d *idWriter) Close() error { return flushAndRelease(&d.w) }
