package output

import (
	"fmt"
	"strings"
)

// Column is one field of a row: Key is its JSON key and CSV header, Header
// its title in a table.
type Column struct {
	Key    string
	Header string
	// Default columns appear in a table when --columns is not given;
	// JSON, JSON Lines, CSV and TSV carry every column unless narrowed.
	Default bool
}

// Columns is the full, ordered set of fields a command can print.
type Columns []Column

// Keys lists the column keys, for help texts and completion.
func (cs Columns) Keys() []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Key
	}
	return out
}

// All is every column, each shown by default: for a list printed whole
// inside another view.
func (cs Columns) All() Columns {
	out := make(Columns, len(cs))
	for i, c := range cs {
		c.Default = true
		out[i] = c
	}
	return out
}

// Projection is the chosen subset of Columns, in the chosen order; rows
// are always given in the full Columns order and projected on write.
type Projection struct {
	Cols []Column
	idx  []int
}

// Select picks columns. requested (from --columns) wins; otherwise a table
// shows the Default columns and every other format shows all of them.
// An unknown key is an error naming the known ones.
func (cs Columns) Select(requested []string, f Format) (Projection, error) {
	var p Projection
	if len(requested) == 0 {
		for i, c := range cs {
			if f != Table || c.Default {
				p.Cols, p.idx = append(p.Cols, c), append(p.idx, i)
			}
		}
		return p, nil
	}
	seen := map[string]bool{}
	for _, r := range requested {
		for _, key := range strings.Split(r, ",") {
			key = strings.ToLower(strings.TrimSpace(key))
			if key == "" || seen[key] {
				continue
			}
			i := cs.index(key)
			if i < 0 {
				return p, fmt.Errorf("unknown column %q (known: %s)", key, strings.Join(cs.Keys(), ", "))
			}
			seen[key] = true
			p.Cols, p.idx = append(p.Cols, cs[i]), append(p.idx, i)
		}
	}
	if len(p.Cols) == 0 {
		return p, fmt.Errorf("--columns names no column")
	}
	return p, nil
}

func (cs Columns) index(key string) int {
	for i, c := range cs {
		if c.Key == key {
			return i
		}
	}
	return -1
}

// value is the i-th projected value of a full row.
func (p Projection) value(row []any, i int) any {
	if j := p.idx[i]; j < len(row) {
		return Deref(row[j])
	}
	return nil
}

// cell is the i-th chosen column of a row as it is there (maybe a
// pointer): AppendText reads through pointers without boxing the value.
func (p Projection) cell(row []any, i int) any {
	if j := p.idx[i]; j < len(row) {
		return row[j]
	}
	return nil
}

// Keys are the chosen columns' keys, in order.
func (p Projection) Keys() []string { return p.headerKeys() }

// Has reports whether the projection prints the column key; callers use it
// to skip work (a subquery, say) for columns nobody asked for.
func (p Projection) Has(key string) bool {
	for _, c := range p.Cols {
		if c.Key == key {
			return true
		}
	}
	return false
}
