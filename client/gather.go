package client

import (
	"context"
	"errors"
	"sort"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Gather runs lines of an --atomic batch side by side, each on a
// goroutine of its own, and sends their statements together: whenever
// every running line waits for the server, the statements they wait on
// go in one round trip, in line order, behind the held writes of the
// lines before the first of them. Sixty-four lines locking their users
// cost one round trip instead of sixty-four.
//
// It is only for lines that cannot see each other's work: lines that
// change different users, with nothing read across users (the batch
// decides which). Each line still sees everything the lines before it
// in the batch wrote before them, because held writes are sent ahead
// of any later line's statements.
//
// The first statement that fails ends the batch (all or nothing): every
// statement after it, of any line, fails with a HeldError naming the line
// it belonged to, so the batch reports that line, as a batch run line by
// line would.
type Gather struct {
	d       *DeferringTx
	mu      sync.Mutex
	cond    *sync.Cond
	running int // lines neither waiting for the server nor done
	waiting []*gatherRequest
	failed  *HeldError
}

type gatherRequest struct {
	line int
	b    *pgx.Batch
	res  chan pgx.BatchResults
}

// NewGather gathers over the batch's transaction.
func NewGather(d *DeferringTx) *Gather {
	g := &Gather{d: d}
	g.cond = sync.NewCond(&g.mu)
	return g
}

// Reset forgets a failure, for a batch that rolled back to before the
// lines that met it.
func (g *Gather) Reset() { g.failed = nil }

// Failed is the statement failure that ended the batch, if any.
func (g *Gather) Failed() error {
	if g.failed == nil {
		return nil
	}
	return g.failed
}

// Run runs fn(i, db) for every line on a goroutine of its own, db being
// that line's view of the transaction, and sends their statements until
// every fn has returned.
func (g *Gather) Run(ctx context.Context, lines []int, fn func(i int, db DBTX)) {
	g.mu.Lock()
	g.running = len(lines)
	g.mu.Unlock()
	for i, line := range lines {
		go func() {
			v := &gatherView{g: g, line: line}
			defer g.done(v)
			fn(i, v)
		}()
	}
	for {
		g.mu.Lock()
		for g.running > 0 {
			g.cond.Wait()
		}
		reqs := g.waiting
		g.waiting = nil
		g.mu.Unlock()
		if len(reqs) == 0 {
			return // every line is done
		}
		sort.Slice(reqs, func(i, j int) bool { return reqs[i].line < reqs[j].line })
		g.round(ctx, reqs)
	}
}

// round sends the waiting lines' statements in one round trip and hands
// each line its results, one line after the other (they share the
// connection's stream).
func (g *Gather) round(ctx context.Context, reqs []*gatherRequest) {
	var br pgx.BatchResults
	if g.failed == nil {
		all := &pgx.Batch{}
		for _, r := range reqs {
			all.QueuedQueries = append(all.QueuedQueries, r.b.QueuedQueries...)
		}
		br = g.d.sendAfter(ctx, g.d.take(reqs[0].line), all)
		if f, ok := br.(*failedBatch); ok {
			g.fail(reqs[0].line, f.err)
		}
	}
	for _, r := range reqs {
		if g.failed != nil {
			g.deliver(r, &failedBatch{err: g.failed})
			continue
		}
		v := &viewResults{br: br, left: r.b.Len(), line: r.line, g: g, closed: make(chan struct{})}
		g.deliver(r, v)
		<-v.closed
	}
	if _, ok := br.(*failedBatch); br != nil && !ok {
		if err := br.Close(); err != nil {
			g.fail(reqs[len(reqs)-1].line, err)
		}
	}
}

func (g *Gather) deliver(r *gatherRequest, br pgx.BatchResults) {
	g.mu.Lock()
	g.running++
	g.mu.Unlock()
	r.res <- br
}

// fail records the first failure: line's statement failed with err (or
// err names the earlier line whose held statement failed).
func (g *Gather) fail(line int, err error) {
	if g.failed != nil || err == nil {
		return
	}
	var held *HeldError
	if errors.As(err, &held) {
		g.failed = held
		return
	}
	g.failed = &HeldError{Line: line, Err: err}
}

// request queues a line's statements for the next round trip and waits
// for their results.
func (g *Gather) request(line int, b *pgx.Batch) pgx.BatchResults {
	r := &gatherRequest{line: line, b: b, res: make(chan pgx.BatchResults, 1)}
	g.mu.Lock()
	g.waiting = append(g.waiting, r)
	g.running--
	g.cond.Signal()
	g.mu.Unlock()
	return <-r.res
}

// done ends a line; results it left open are closed for it.
func (g *Gather) done(v *gatherView) {
	if v.open != nil {
		_ = v.open.Close()
	}
	g.mu.Lock()
	g.running--
	g.cond.Signal()
	g.mu.Unlock()
}

// gatherView is one line's DBTX: its statements go through the Gather.
type gatherView struct {
	g    *Gather
	line int
	open *viewResults // results being read (nil: none)
}

var errNotGathered = errors.New("internal error: a line run side by side cannot open a savepoint or COPY")

func (v *gatherView) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	br := v.g.request(v.line, b)
	if vr, ok := br.(*viewResults); ok {
		v.open = vr
		vr.view = v
	}
	return &hintBatch{BatchResults: br, ctx: ctx}
}

func (v *gatherView) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	b := &pgx.Batch{}
	b.Queue(sql, args...)
	br := v.SendBatch(ctx, b)
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return tag, err
}

func (v *gatherView) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	b := &pgx.Batch{}
	b.Queue(sql, args...)
	br := v.SendBatch(ctx, b)
	rows, err := br.Query()
	if err != nil {
		_ = br.Close()
		return nil, err
	}
	return &hintRows{Rows: rows, ctx: ctx, after: br.Close}, nil
}

func (v *gatherView) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	rows, err := v.Query(ctx, sql, args...)
	return &oneRow{rows: rows, err: err}
}

func (v *gatherView) Begin(context.Context) (pgx.Tx, error) { return nil, errNotGathered }

func (v *gatherView) CopyFrom(context.Context, pgx.Identifier, []string, pgx.CopyFromSource) (int64, error) {
	return 0, errNotGathered
}

// hold keeps a change's final pipeline with the batch's held writes.
func (v *gatherView) hold(p *pipeline, line int) { v.g.d.hold(p, line) }

// viewResults are one line's share of a round trip's results.
type viewResults struct {
	br     pgx.BatchResults
	left   int // results of this line not yet read
	line   int
	g      *Gather
	view   *gatherView
	closed chan struct{}
	done   bool
}

func (r *viewResults) check(err error) error {
	if err != nil {
		r.g.fail(r.line, err)
	}
	return err
}

func (r *viewResults) Exec() (pgconn.CommandTag, error) {
	if r.left == 0 {
		return pgconn.CommandTag{}, errors.New("no result left")
	}
	r.left--
	tag, err := r.br.Exec()
	return tag, r.check(err)
}

func (r *viewResults) Query() (pgx.Rows, error) {
	if r.left == 0 {
		return nil, errors.New("no result left")
	}
	r.left--
	rows, err := r.br.Query()
	if err != nil {
		return nil, r.check(err)
	}
	return &checkedRows{Rows: rows, r: r}, nil
}

func (r *viewResults) QueryRow() pgx.Row {
	rows, err := r.Query()
	return &oneRow{rows: rows, err: err}
}

// Close reads what the line left unread and hands the stream on.
func (r *viewResults) Close() error {
	if r.done {
		return nil
	}
	var err error
	for r.left > 0 {
		r.left--
		if _, e := r.br.Exec(); e != nil && err == nil {
			err = r.check(e)
		}
	}
	r.done = true
	if r.view != nil && r.view.open == r {
		r.view.open = nil
	}
	close(r.closed)
	return err
}

func (r *viewResults) Tx() pgx.Tx { return nil }

// checkedRows records a failure that shows while rows are read.
type checkedRows struct {
	pgx.Rows
	r *viewResults
}

func (c *checkedRows) Close() {
	c.Rows.Close()
	_ = c.r.check(c.Rows.Err())
}
