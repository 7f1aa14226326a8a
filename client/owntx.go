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
}

// ownTx acquires a connection for a change of its own, or returns nil
// when c runs inside a transaction (or on a handle it cannot own).
func (c *Client) ownTx(ctx context.Context) (*ownTx, error) {
	h, ok := c.db.(*handle)
	if !ok {
		return nil, nil
	}
	conn, err := h.pool.Acquire(ctx)
	if err != nil {
		return nil, explain(ctx, err)
	}
	begin := h.begin
	if begin == nil {
		begin = []string{"BEGIN"}
	}
	return &ownTx{conn: conn, begin: begin}, nil
}

// withBegin puts the opening statements ahead of b's, once.
func (t *ownTx) withBegin(b *pgx.Batch) (*pgx.Batch, int) {
	if t.begun {
		return b, 0
	}
	t.begun = true
	all := &pgx.Batch{QueuedQueries: make([]*pgx.QueuedQuery, 0, len(t.begin)+b.Len())}
	for _, q := range t.begin {
		all.Queue(q)
	}
	all.QueuedQueries = append(all.QueuedQueries, b.QueuedQueries...)
	return all, len(t.begin)
}

func (t *ownTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	all, opening := t.withBegin(b)
	br := t.conn.SendBatch(ctx, all)
	for i := 0; i < opening; i++ {
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
// failed or was interrupted) is rolled back first.
func (t *ownTx) release() {
	pc := t.conn.Conn().PgConn()
	if !pc.IsClosed() && !pc.IsBusy() && pc.TxStatus() != 'I' {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, _ = t.conn.Exec(ctx, "ROLLBACK")
		cancel()
	}
	t.conn.Release()
}
