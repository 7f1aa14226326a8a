package client

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ownTx is a change's transaction when the change is a transaction of its
// own (a command, a default-mode batch line): the engine opens and ends it
// itself so that BEGIN travels with the change's first statements (the
// lock) and COMMIT with its last (the writes, the log, the run) — two
// round trips for a change that needs no side effect, where pgx's Begin
// and Commit would add two more. A batch line is mostly round trips.
type ownTx struct {
	conn  *pgxpool.Conn
	begin []string // the statements that open it (BEGIN, read only, statement timeout)
	begun bool
	// chain, in a default-mode batch: the previous line's held COMMIT
	// rides ahead of BEGIN, and this change's is held in turn (line).
	chain *CommitChain
	line  int
}

// ownTx acquires a connection for a change of its own, or returns nil
// when c runs inside a transaction (or on a handle it cannot own).
func (c *Client) ownTx(ctx context.Context) (*ownTx, error) {
	var h *handle
	var chain *CommitChain
	switch db := c.db.(type) {
	case *handle:
		h = db
	case *CommitChain:
		h, chain = db.h, db
	default:
		return nil, nil
	}
	begin := h.begin
	if begin == nil {
		begin = []string{"BEGIN"}
	}
	if chain != nil {
		conn, err := chain.acquire(ctx)
		if err != nil {
			return nil, err
		}
		return &ownTx{conn: conn, begin: begin, chain: chain}, nil
	}
	conn, err := h.pool.Acquire(ctx)
	if err != nil {
		return nil, explain(ctx, err)
	}
	return &ownTx{conn: conn, begin: begin}, nil
}

// hasPlanCacheMode reports whether the server has plan_cache_mode.
func (t *ownTx) hasPlanCacheMode() bool { return serverHasPlanCacheMode(t.conn.Conn().PgConn()) }

// withBegin puts the opening statements ahead of b's, once, and ahead of
// them what the chain holds; it returns how many statements come before
// b's, and what was held.
func (t *ownTx) withBegin(b *pgx.Batch) (*pgx.Batch, int, pipeline, int) {
	if t.begun {
		return b, 0, pipeline{}, 0
	}
	t.begun = true
	var held pipeline
	var heldLine int
	if t.chain != nil {
		held, heldLine = t.chain.take()
	}
	all := &pgx.Batch{QueuedQueries: make([]*pgx.QueuedQuery, 0, held.b.Len()+len(t.begin)+b.Len())}
	all.QueuedQueries = append(all.QueuedQueries, held.b.QueuedQueries...)
	for _, q := range t.begin {
		all.Queue(q)
	}
	all.QueuedQueries = append(all.QueuedQueries, b.QueuedQueries...)
	return all, held.b.Len() + len(t.begin), held, heldLine
}

func (t *ownTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	all, opening, held, heldLine := t.withBegin(b)
	br := t.conn.SendBatch(ctx, all)
	if err := held.read(br); err != nil {
		br.Close()
		pc := t.conn.Conn().PgConn()
		var pg *pgconn.PgError
		if !errors.As(err, &pg) && !pc.IsClosed() && pc.TxStatus() == 'T' {
			// Nothing ran (an argument of this change that does not
			// encode, its context already cancelled): the held COMMIT
			// goes alone, and the error is this change's own.
			if herr := held.send(context.WithoutCancel(ctx), t.conn); herr != nil {
				return &failedBatch{err: t.chain.heldError(ctx, heldLine, herr)}
			}
			return &failedBatch{err: explain(ctx, err)}
		}
		return &failedBatch{err: t.chain.heldError(ctx, heldLine, err)}
	}
	for i := held.b.Len(); i < opening; i++ {
		if _, err := br.Exec(); err != nil {
			br.Close()
			return &failedBatch{err: explain(ctx, err)}
		}
	}
	return &hintBatch{BatchResults: br, ctx: ctx}
}

// open sends the opening statements alone, for a first statement that is
// not a batch.
func (t *ownTx) open(ctx context.Context) error {
	if t.begun {
		return nil
	}
	return t.SendBatch(ctx, &pgx.Batch{}).Close()
}

func (t *ownTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if err := t.open(ctx); err != nil {
		return pgconn.CommandTag{}, err
	}
	tag, err := t.conn.Exec(ctx, sql, args...)
	return tag, explain(ctx, err)
}

func (t *ownTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if err := t.open(ctx); err != nil {
		return nil, err
	}
	rows, err := t.conn.Query(ctx, sql, args...)
	if err != nil {
		return nil, explain(ctx, err)
	}
	return &hintRows{Rows: rows, ctx: ctx}, nil
}

func (t *ownTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	rows, err := t.Query(ctx, sql, args...)
	return &oneRow{rows: rows, err: err}
}

func (t *ownTx) CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error) {
	if err := t.open(ctx); err != nil {
		return 0, err
	}
	n, err := t.conn.CopyFrom(ctx, table, columns, src)
	return n, explain(ctx, err)
}

// Begin opens a savepoint inside the transaction.
func (t *ownTx) Begin(ctx context.Context) (pgx.Tx, error) {
	if err := t.open(ctx); err != nil {
		return nil, err
	}
	return t.conn.Begin(ctx)
}

// finish sends the change's last statements and, in the same round trip,
// COMMIT (or, for a dry run, ROLLBACK: the very same statements ran). Once
// sent, its outcome is waited for whatever happens to ctx; a connection
// lost on the way leaves it unknown.
func (t *ownTx) finish(ctx context.Context, p *pipeline, commit bool) error {
	end := "COMMIT"
	if !commit {
		end = "ROLLBACK"
	}
	p.exec(end)
	if t.chain != nil && commit && t.line > 0 && t.begun {
		t.chain.hold(p, t.line)
		return nil
	}
	err := p.send(context.WithoutCancel(ctx), t)
	if err == nil {
		return nil
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) || errors.As(err, new(*RefusedError)) {
		return err // the server refused a statement: nothing was committed
	}
	if t.conn.Conn().PgConn().IsClosed() {
		return &OutcomeUnknownError{Err: err}
	}
	return err
}

// release returns the connection; a transaction still open (a change that
// failed or was interrupted) is rolled back first. A chain keeps its
// connection, and its transaction when the COMMIT is held.
func (t *ownTx) release() {
	if t.chain != nil {
		t.chain.settle()
		return
	}
	pc := t.conn.Conn().PgConn()
	if !pc.IsClosed() && !pc.IsBusy() && pc.TxStatus() != 'I' {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, _ = t.conn.Exec(ctx, "ROLLBACK")
		cancel()
	}
	t.conn.Release()
}
