package output

import (
	"bufio"
	"encoding/csv"
	"strings"
)

// ---- CSV and TSV ----

// delimitedWriter streams CSV (RFC 4180 via encoding/csv: fields with a
// comma, quote or line break are quoted) or TSV (backslash escapes). The
// header row holds the column keys, the same names as the JSON fields.
type delimitedWriter struct {
	w      *bufio.Writer
	p      Projection
	o      Options
	csv    *csv.Writer // nil for TSV
	header bool
	rec    []string
}

func (d *delimitedWriter) Write(row []any) error {
	if err := d.writeHeader(); err != nil {
		return err
	}
	rec := d.rec[:0]
	for i := range d.p.Cols {
		rec = append(rec, Text(d.p.value(row, i)))
	}
	d.rec = rec
	return d.record(rec)
}

func (d *delimitedWriter) writeHeader() error {
	if d.header {
		return nil
	}
	d.header = true
	if d.o.NoHeaders {
		return nil
	}
	return d.record(d.p.headerKeys())
}

func (d *delimitedWriter) record(rec []string) error {
	if d.csv != nil {
		return d.csv.Write(rec)
	}
	for i, f := range rec {
		if i > 0 {
			d.w.WriteByte('\t')
		}
		if strings.ContainsAny(f, "\\\t\n\r") {
			f = tsvReplacer.Replace(f)
		}
		d.w.WriteString(f)
	}
	return d.w.WriteByte('\n')
}

// Close writes the header even when there were no rows, so that a script
// reading an empty result still sees the columns.
func (d *delimitedWriter) Close() error {
	if err := d.writeHeader(); err != nil {
		return err
	}
	if d.csv != nil {
		d.csv.Flush()
		if err := d.csv.Error(); err != nil {
			return err
		}
	}
	return d.w.Flush()
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
