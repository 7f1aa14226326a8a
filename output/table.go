package output

import (
	"bufio"
	"strings"

	"github.com/jedib0t/go-pretty/v6/table"
	"github.com/jedib0t/go-pretty/v6/text"
)

// ---- tables ----

type tableWriter struct {
	w    *bufio.Writer
	p    Projection
	o    Options
	rows []table.Row
	// text marks the columns holding free text (names, emails, lists):
	// the ones fitting to the terminal may shorten.
	text []bool
}

func (t *tableWriter) Write(row []any) error {
	r := make(table.Row, len(t.p.Cols))
	if t.text == nil {
		t.text = make([]bool, len(t.p.Cols))
	}
	for i := range t.p.Cols {
		v := t.p.value(row, i)
		r[i] = CellText(v)
		if isText(v) {
			t.text[i] = true
		}
	}
	t.rows = append(t.rows, r)
	return nil
}

func (t *tableWriter) Close() error {
	if t.w == nil { // already closed
		return nil
	}
	tw := table.NewWriter()
	var h table.Row
	if !t.o.NoHeaders {
		h = make(table.Row, len(t.p.Cols))
		for i, c := range t.p.Cols {
			h[i] = c.Header
		}
	}
	if t.o.TTY && t.o.Width > 0 && t.text != nil {
		fitWidth(h, t.rows, t.text, t.o)
	}
	if h != nil {
		tw.AppendHeader(h)
	}
	tw.AppendRows(t.rows)
	tw.SetStyle(TableStyle(t.o))
	// go-pretty pads the last column too; trailing blanks are noise in a
	// pipe and in golden files.
	rendered := tw.Render()
	if rendered == "" {
		return flushAndRelease(&t.w)
	}
	for _, line := range strings.Split(rendered, "\n") {
		t.w.WriteString(strings.TrimRight(line, " "))
		t.w.WriteByte('\n')
	}
	return flushAndRelease(&t.w)
}

// CellText renders a value for a person: yes/no for booleans, lists
// joined with ", ", everything else as Text (objects as compact JSON).
func CellText(v any) string {
	switch t := v.(type) {
	case bool:
		if t {
			return "yes"
		}
		return "no"
	case []string:
		return safeCell(strings.Join(t, ", "))
	case string:
		return safeCell(t)
	}
	return safeCell(textSep(v, ", "))
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
