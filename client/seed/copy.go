package seed

// genSource streams generated rows into COPY (pgx.CopyFromSource): it asks
// emit for the rows of one unit (a user or a company) at a time, so memory
// holds a handful of rows whatever the size of the table.
type genSource struct {
	n        int // units 1..n
	i        int // the unit whose rows are pending
	rows     [][]any
	pos      int
	id       int64 // the last explicit id handed out by nextID
	emit     func(unit int, g *genSource)
	progress *seedProgress
}

func newGen(n int, emit func(unit int, g *genSource)) *genSource {
	return &genSource{n: n, emit: emit}
}

// add queues one row of the current unit.
func (g *genSource) add(vals ...any) { g.rows = append(g.rows, vals) }

// nextID numbers the rows of tables whose parent is not the unit itself.
func (g *genSource) nextID() int64 { g.id++; return g.id }

func (g *genSource) Next() bool {
	g.pos++
	for g.pos >= len(g.rows) {
		if g.i >= g.n {
			return false
		}
		g.i++
		g.rows, g.pos = g.rows[:0], 0
		g.emit(g.i, g)
		if g.i&8191 == 0 && g.progress != nil {
			g.progress.report(g.i)
		}
	}
	return true
}

func (g *genSource) Values() ([]any, error) { return g.rows[g.pos], nil }

func (g *genSource) Err() error { return nil }
