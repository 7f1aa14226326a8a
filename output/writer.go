package output

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
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
