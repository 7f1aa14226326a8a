package client

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// DeferringTx runs the lines of an all-or-nothing batch (--atomic) in one
// transaction with fewer round trips: a change's final pipeline (its
// writes, log rows, run) is not sent when the change is planned but held
// and sent ahead of the next statement, in the same round trip — usually
// the next line's lock. Anything that reads (a later line, a list, the
// batch's commit) sends the held statements first, in order, so it sees
// every earlier write. No savepoint is needed: a failure anywhere rolls
// the whole batch back; HeldError says which line the failed statement
// belonged to.
type DeferringTx struct {
	pgx.Tx
	held     pipeline
	heldLine int
}

// NewDeferringTx wraps the batch's transaction.
func NewDeferringTx(tx pgx.Tx) *DeferringTx { return &DeferringTx{Tx: tx} }

// HeldError is a held statement of an earlier line that failed when sent.
type HeldError struct {
	Line int
	Err  error
}

func (e *HeldError) Error() string { return e.Err.Error() }
func (e *HeldError) Unwrap() error { return e.Err }

// hold keeps a change's final pipeline until the next round trip.
func (d *DeferringTx) hold(p *pipeline, line int) {
	if d.held.b.Len() > 0 && d.heldLine != line {
		// Two lines' statements held at once: the first is sent now, so an
		// error is always one line's.
		_ = d.Flush(context.Background())
	}
	base := d.held.b.Len()
	for i, q := range p.b.QueuedQueries {
		if e, ok := p.expect[i]; ok {
			if d.held.expect == nil {
				d.held.expect = map[int]expectation{}
			}
			d.held.expect[base+i] = e
		}
		d.held.b.QueuedQueries = append(d.held.b.QueuedQueries, q)
	}
	d.heldLine = line
}

// HeldLine is the line whose statements are held (0: none).
func (d *DeferringTx) HeldLine() int { return d.heldLine }

// Flush sends the held statements now.
func (d *DeferringTx) Flush(ctx context.Context) error {
	if d.held.b.Len() == 0 {
		return nil
	}
	held, line := d.held, d.heldLine
	d.held, d.heldLine = pipeline{}, 0
	if err := held.send(ctx, d.Tx); err != nil {
		return &HeldError{Line: line, Err: err}
	}
	return nil
}

// SendBatch sends the held statements ahead of b's, in one round trip,
// and hands the caller only b's results.
func (d *DeferringTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	if d.held.b.Len() == 0 {
		return d.Tx.SendBatch(ctx, b)
	}
	held, line := d.held, d.heldLine
	d.held, d.heldLine = pipeline{}, 0
	all := &pgx.Batch{QueuedQueries: append(append(make([]*pgx.QueuedQuery, 0, held.b.Len()+b.Len()), held.b.QueuedQueries...), b.QueuedQueries...)}
	br := d.Tx.SendBatch(ctx, all)
	for i := 0; i < held.b.Len(); i++ {
		_, err := br.Exec()
		if e, ok := held.expect[i]; ok && expectationFailed(err) {
			err = e.err
		}
		if err != nil {
			br.Close()
			return &failedBatch{err: &HeldError{Line: line, Err: err}}
		}
	}
	return br
}

func (d *DeferringTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if err := d.Flush(ctx); err != nil {
		return pgconn.CommandTag{}, err
	}
	return d.Tx.Exec(ctx, sql, args...)
}

func (d *DeferringTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if err := d.Flush(ctx); err != nil {
		return nil, err
	}
	return d.Tx.Query(ctx, sql, args...)
}

func (d *DeferringTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if err := d.Flush(ctx); err != nil {
		return errRow{err}
	}
	return d.Tx.QueryRow(ctx, sql, args...)
}

func (d *DeferringTx) CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error) {
	if err := d.Flush(ctx); err != nil {
		return 0, err
	}
	return d.Tx.CopyFrom(ctx, table, columns, src)
}

// Begin opens a savepoint after sending what is held.
func (d *DeferringTx) Begin(ctx context.Context) (pgx.Tx, error) {
	if err := d.Flush(ctx); err != nil {
		return nil, err
	}
	return d.Tx.Begin(ctx)
}

// Commit sends what is held, then commits.
func (d *DeferringTx) Commit(ctx context.Context) error {
	if err := d.Flush(ctx); err != nil {
		return err
	}
	return d.Tx.Commit(ctx)
}

// Rollback drops what is held and rolls back.
func (d *DeferringTx) Rollback(ctx context.Context) error {
	d.held, d.heldLine = pipeline{}, 0
	return d.Tx.Rollback(ctx)
}

// failedBatch reports one error for every result asked of it.
type failedBatch struct{ err error }

func (f *failedBatch) Exec() (pgconn.CommandTag, error) { return pgconn.CommandTag{}, f.err }
func (f *failedBatch) Query() (pgx.Rows, error)         { return nil, f.err }
func (f *failedBatch) QueryRow() pgx.Row                { return errRow{f.err} }
func (f *failedBatch) Close() error                     { return f.err }
func (f *failedBatch) Tx() pgx.Tx                       { return nil }

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// HeldLineOf reports the line a held statement's failure belongs to.
func HeldLineOf(err error) (int, bool) {
	var h *HeldError
	if errors.As(err, &h) {
		return h.Line, true
	}
	return 0, false
}
