package output

import (
	"fmt"
	"time"

	"github.com/jedib0t/go-pretty/v6/table"
	"github.com/jedib0t/go-pretty/v6/text"
)

// isText: values whose cell is free text, which a narrow terminal may
// shorten. Numbers, booleans and times keep their width: a cut ID or date
// is a wrong one.
func isText(v any) bool {
	switch v.(type) {
	case string, []string:
		return true
	case nil, bool, int, int32, int64, float64, time.Time, *time.Time:
		return false
	case fmt.Stringer: // JSON values of the log, device lists
		return true
	}
	return isNested(v) // lists and objects, written as text
}

// minFitWidth is how narrow fitting makes a text column, or its header's
// width if wider (a header is not cut): five columns show "ab…" of a name
// and still fit the seven default columns of users list in 80.
const minFitWidth = 5

// fitWidth shortens the widest text columns of a table, a column at a
// time, until its lines fit in o.Width, marking each cut with "…" as gh
// does. A table that cannot fit even then is printed as narrow as it got.
func fitWidth(header table.Row, rows []table.Row, isTextCol []bool, o Options) {
	n := len(isTextCol)
	widths := make([]int, n)
	floor := make([]int, n)
	measure := func(r table.Row) {
		for i := 0; i < n && i < len(r); i++ {
			if w := text.StringWidthWithoutEscSequences(r[i].(string)); w > widths[i] {
				widths[i] = w
			}
		}
	}
	if header != nil {
		measure(header)
	}
	for _, r := range rows {
		measure(r)
	}
	total := tableOverhead(n, o)
	for i, w := range widths {
		total += w
		floor[i] = w
		if isTextCol[i] {
			min := minFitWidth
			if header != nil {
				if hw := text.StringWidthWithoutEscSequences(header[i].(string)); hw > min {
					min = hw
				}
			}
			if w > min {
				floor[i] = min
			}
		}
	}
	natural := append([]int(nil), widths...)
	for total > o.Width {
		widest := -1
		for i, w := range widths {
			if w > floor[i] && (widest < 0 || w > widths[widest]) {
				widest = i
			}
		}
		if widest < 0 {
			break
		}
		widths[widest]--
		total--
	}
	for i, w := range widths {
		if w == natural[i] {
			continue
		}
		if header != nil {
			header[i] = text.Snip(header[i].(string), w, "…")
		}
		for _, r := range rows {
			if i < len(r) {
				r[i] = text.Snip(r[i].(string), w, "…")
			}
		}
	}
}

// tableOverhead is the width a table's style adds to its cells: padding,
// column separators and borders.
func tableOverhead(cols int, o Options) int {
	s := TableStyle(o)
	over := cols * (text.StringWidthWithoutEscSequences(s.Box.PaddingLeft) + text.StringWidthWithoutEscSequences(s.Box.PaddingRight))
	if s.Options.SeparateColumns && cols > 1 {
		over += (cols - 1) * text.StringWidthWithoutEscSequences(s.Box.MiddleVertical)
	}
	if s.Options.DrawBorder {
		over += text.StringWidthWithoutEscSequences(s.Box.Left) + text.StringWidthWithoutEscSequences(s.Box.Right)
	}
	return over
}
