package client

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// CommitChain runs the lines of a default-mode batch, each line a
// transaction of its own, at one round trip per line instead of two: a
// change's last statements and its COMMIT are not sent when the change is
// planned but held, and travel ahead of the next line's BEGIN and lock on
// the same connection, in that line's first round trip. Anything else on
// the chain (a read, a statement outside a change, the end of the batch)
// sends what is held first, so every line sees the earlier ones
// committed. A held statement that fails, the COMMIT included, is a
// HeldError naming its line: that line failed and, the pipeline being
// cut at the failure, the line that sent it did not run.
//
// The chain suits a batch that stops at the first failure; one that goes
// on after failures (--continue-on-error) would have to run the next
// line again.
type CommitChain struct {
	h    *handle
	conn *pgxpool.Conn // the connection changes run on, kept across lines
	held pipeline      // the last change's final statements and COMMIT
	line int           // their line (0: nothing held)
}

// NewCommitChain returns a client whose changes chain their commits, and
// the chain, which the caller must Close. It needs a connected client.
func (c *Client) NewCommitChain() (*Client, *CommitChain, error) {
	h, ok := c.db.(*handle)
	if !ok {
		return nil, nil, errors.New("internal error: a commit chain needs a connected client")
	}
	ch := &CommitChain{h: h}
	return c.WithDB(ch), ch, nil
}

// HeldLine is the line whose COMMIT is held (0: none).
func (ch *CommitChain) HeldLine() int { return ch.line }

// acquire returns the chain's connection, taking one from the pool the
// first time (or after the last one broke).
func (ch *CommitChain) acquire(ctx context.Context) (*pgxpool.Conn, error) {
	if ch.conn == nil {
		conn, err := ch.h.pool.Acquire(ctx)
		if err != nil {
			return nil, explain(ctx, err)
		}
		ch.conn = conn
	}
	return ch.conn, nil
}

// hold keeps a change's final statements, COMMIT last, for the next round trip.
func (ch *CommitChain) hold(p *pipeline, line int) {
	ch.held, ch.line = *p, line
}

// take hands over what is held, leaving nothing held.
func (ch *CommitChain) take() (pipeline, int) {
	p, line := ch.held, ch.line
	ch.held, ch.line = pipeline{}, 0
	return p, line
}

// Flush sends what is held now. Sending is not cancellable: once the
// COMMIT may be on its way, its outcome is waited for.
func (ch *CommitChain) Flush(ctx context.Context) error {
	if ch.line == 0 {
		return nil
	}
	p, line := ch.take()
	if err := p.send(context.WithoutCancel(ctx), ch.conn); err != nil {
		err = ch.heldError(ctx, line, err)
		ch.settle()
		return err
	}
	return nil
}

// heldError is the failure of line's held statements. When the connection
// broke on the way, nobody knows whether its COMMIT ran, and it says so.
func (ch *CommitChain) heldError(ctx context.Context, line int, err error) error {
	err = explain(ctx, err)
	if ch.conn != nil && ch.conn.Conn().PgConn().IsClosed() {
		err = &OutcomeUnknownError{Err: err}
	}
	return &HeldError{Line: line, Err: err}
}

// settle leaves the chain's connection idle after a change that did not
// end in a held COMMIT (it failed, or was a dry run), or drops it when it
// broke.
func (ch *CommitChain) settle() {
	if ch.conn == nil || ch.line != 0 {
		return
	}
	pc := ch.conn.Conn().PgConn()
	if pc.IsClosed() || pc.IsBusy() {
		ch.conn.Release() // the pool destroys a broken connection
		ch.conn = nil
		return
	}
	if pc.TxStatus() != 'I' {
		rctx, cancel := context.WithTimeout(context.Background(), cancelGrace)
		_, _ = ch.conn.Exec(rctx, "ROLLBACK")
		cancel()
	}
}

// Close sends what is held and returns the connection to the pool.
func (ch *CommitChain) Close(ctx context.Context) error {
	err := ch.Flush(ctx)
	if ch.conn != nil {
		ch.settle()
		if ch.conn != nil {
			ch.conn.Release()
			ch.conn = nil
		}
	}
	return err
}

// The DBTX methods serve whatever is not a change (reads, statements of
// their own) from the pool, after sending what is held.

func (ch *CommitChain) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if err := ch.Flush(ctx); err != nil {
		return pgconn.CommandTag{}, err
	}
	return ch.h.Exec(ctx, sql, args...)
}

func (ch *CommitChain) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if err := ch.Flush(ctx); err != nil {
		return nil, err
	}
	return ch.h.Query(ctx, sql, args...)
}

func (ch *CommitChain) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if err := ch.Flush(ctx); err != nil {
		return errRow{err}
	}
	return ch.h.QueryRow(ctx, sql, args...)
}

func (ch *CommitChain) Begin(ctx context.Context) (pgx.Tx, error) {
	if err := ch.Flush(ctx); err != nil {
		return nil, err
	}
	return ch.h.Begin(ctx)
}

func (ch *CommitChain) CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error) {
	if err := ch.Flush(ctx); err != nil {
		return 0, err
	}
	return ch.h.CopyFrom(ctx, table, columns, src)
}

func (ch *CommitChain) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	if err := ch.Flush(ctx); err != nil {
		return &failedBatch{err: err}
	}
	return ch.h.SendBatch(ctx, b)
}
