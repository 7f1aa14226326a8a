package client

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// handle is the DBTX a connected Client runs on: the pool, with two duties
// that a connection pooler in front of the server (PgBouncer in
// transaction mode) makes necessary.
//
// Read-only runs: every transaction starts as BEGIN READ ONLY, and every
// statement outside an explicit transaction runs inside one. The startup
// parameter default_transaction_read_only is a per-session setting, and
// behind a pooler there is no session of ours: PgBouncer refuses the
// parameter, and its usual workaround (ignore_startup_parameters) drops it
// silently. A per-transaction READ ONLY holds on whatever server connection
// the pooler lends for that transaction. A lone statement travels as one
// pipelined batch BEGIN READ ONLY; statement; COMMIT, so the guard costs no
// extra round trip; the pooler keeps the whole batch on one server
// connection because it ends outside a transaction only after the COMMIT.
//
// Every run: a prepared-statement error (SQLSTATE 26000 or 42P05) means a
// pooler is lending our cached server-side statements to other clients;
// the error then says which DSN option fixes it (PoolerError).
//
// --timeout: every transaction also sets statement_timeout (SET LOCAL), a
// server-side backstop that holds through a pooler and even when the tool
// is killed; the client's own deadline (a cancel request) normally fires
// first. SET LOCAL, because behind a pooler the session is not ours and a
// startup parameter is refused there (Connect still sends one where the
// server takes it, for the statements pgx prepares outside transactions).
type handle struct {
	pool     *pgxpool.Pool
	readOnly bool
	// begin is what opens each transaction, one statement per entry; nil
	// when a plain BEGIN will do and lone statements need no wrapping.
	begin []string
}

func newHandle(pool *pgxpool.Pool, readOnly bool, stmtTimeout time.Duration) *handle {
	h := &handle{pool: pool, readOnly: readOnly}
	if readOnly || stmtTimeout > 0 {
		h.begin = []string{"BEGIN"}
		if readOnly {
			h.begin[0] = "BEGIN READ ONLY"
		}
		if stmtTimeout > 0 {
			// An integer from a duration, not user text: safe to format.
			h.begin = append(h.begin, fmt.Sprintf("SET LOCAL statement_timeout = %d", serverTimeout(stmtTimeout).Milliseconds()))
		}
	}
	return h
}

// beginSettings are the SET LOCALs every transaction starts with.
func (h *handle) beginSettings() []string {
	if len(h.begin) > 1 {
		return h.begin[1:]
	}
	return nil
}

const commitSQL = "COMMIT"

// serverTimeout is the statement_timeout for a --timeout: a second later
// than the client's own deadline, so that the client's clearer message
// normally wins and the server's is the backstop.
func serverTimeout(d time.Duration) time.Duration { return d + time.Second }

// MaxLockTimeout is the longest lock_timeout (and statement_timeout)
// PostgreSQL accepts: INT_MAX milliseconds, about 24.8 days. A longer one
// is refused when the connection starts (SQLSTATE 22023), so the commands
// refuse it first, as a usage error.
const MaxLockTimeout = math.MaxInt32 * time.Millisecond

// MaxTimeout is the longest --timeout: its statement_timeout, a second
// longer (serverTimeout), must stay within PostgreSQL's limit.
const MaxTimeout = MaxLockTimeout - time.Second

// txOptions open a transaction with h.begin in one round trip (pgx sends a
// BeginQuery without arguments over the simple protocol, where several
// statements may share one message).
func (h *handle) txOptions() pgx.TxOptions {
	if h.begin == nil {
		return pgx.TxOptions{}
	}
	return pgx.TxOptions{BeginQuery: strings.Join(h.begin, "; ")}
}

func (h *handle) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if h.begin == nil {
		tag, err := h.pool.Exec(ctx, sql, args...)
		return tag, explain(ctx, err)
	}
	// Through a transaction, not a batch: Exec without arguments may hold
	// several statements (simple protocol), which a batch entry may not.
	var tag pgconn.CommandTag
	err := pgx.BeginTxFunc(ctx, h.pool, h.txOptions(), func(tx pgx.Tx) error {
		var err error
		tag, err = tx.Exec(ctx, sql, args...)
		return err
	})
	return tag, explain(ctx, err)
}

func (h *handle) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if h.begin == nil {
		rows, err := h.pool.Query(ctx, sql, args...)
		if err != nil {
			return nil, explain(ctx, err)
		}
		return &hintRows{Rows: rows, ctx: ctx}, nil
	}
	b := &pgx.Batch{}
	b.Queue(sql, args...)
	br := h.SendBatch(ctx, b)
	rows, err := br.Query()
	if err != nil {
		_ = br.Close()
		return nil, err
	}
	return &hintRows{Rows: rows, ctx: ctx, after: br.Close}, nil
}

func (h *handle) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	rows, err := h.Query(ctx, sql, args...)
	return &oneRow{rows: rows, err: err}
}

func (h *handle) Begin(ctx context.Context) (pgx.Tx, error) {
	tx, err := h.pool.BeginTx(ctx, h.txOptions())
	if err != nil {
		return nil, explain(ctx, err)
	}
	return &hintTx{Tx: tx}, nil
}

func (h *handle) CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error) {
	if h.begin == nil {
		n, err := h.pool.CopyFrom(ctx, table, columns, src)
		return n, explain(ctx, err)
	}
	var n int64
	err := pgx.BeginTxFunc(ctx, h.pool, h.txOptions(), func(tx pgx.Tx) error {
		var err error
		n, err = tx.CopyFrom(ctx, table, columns, src)
		return err
	})
	return n, explain(ctx, err)
}

// SendBatch wraps the batch in h.begin … COMMIT when there is one, still
// one round trip; the caller sees only its own results.
func (h *handle) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	if h.begin == nil {
		return &hintBatch{BatchResults: h.pool.SendBatch(ctx, b), ctx: ctx}
	}
	wrapped := &pgx.Batch{QueuedQueries: make([]*pgx.QueuedQuery, 0, len(b.QueuedQueries)+len(h.begin)+1)}
	for _, q := range h.begin {
		wrapped.Queue(q)
	}
	wrapped.QueuedQueries = append(wrapped.QueuedQueries, b.QueuedQueries...)
	wrapped.Queue(commitSQL)
	conn, err := h.pool.Acquire(ctx)
	if err != nil {
		return &hintBatch{ctx: ctx, err: explain(ctx, err)}
	}
	hb := &hintBatch{BatchResults: conn.SendBatch(ctx, wrapped), ctx: ctx, release: func() { releaseClean(conn) }}
	for range h.begin {
		if _, err := hb.BatchResults.Exec(); err != nil && hb.err == nil {
			hb.err = explain(ctx, err)
		}
	}
	return hb
}

// releaseClean returns a connection to the pool after a wrapped batch.
// When a statement failed (or was cancelled) the COMMIT never ran and the
// server sits in an aborted transaction: roll it back at once, so that a
// pooler gets its server connection back idle, instead of leaving the
// transaction to whoever notices the closed socket.
func releaseClean(conn *pgxpool.Conn) {
	pc := conn.Conn().PgConn()
	if !pc.IsClosed() && !pc.IsBusy() && pc.TxStatus() != 'I' {
		ctx, cancel := context.WithTimeout(context.Background(), cancelGrace)
		_, _ = conn.Exec(ctx, "ROLLBACK")
		cancel()
	}
	conn.Release()
}

// hintTx is a transaction whose errors carry the pooler hint.
type hintTx struct{ pgx.Tx }

func (t *hintTx) Begin(ctx context.Context) (pgx.Tx, error) {
	tx, err := t.Tx.Begin(ctx)
	if err != nil {
		return nil, explain(ctx, err)
	}
	return &hintTx{Tx: tx}, nil
}

func (t *hintTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	tag, err := t.Tx.Exec(ctx, sql, args...)
	return tag, explain(ctx, err)
}

func (t *hintTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	rows, err := t.Tx.Query(ctx, sql, args...)
	if err != nil {
		return nil, explain(ctx, err)
	}
	return &hintRows{Rows: rows, ctx: ctx}, nil
}

func (t *hintTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	rows, err := t.Query(ctx, sql, args...)
	return &oneRow{rows: rows, err: err}
}

func (t *hintTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	return &hintBatch{BatchResults: t.Tx.SendBatch(ctx, b), ctx: ctx}
}

// hintRows adds the hint to the rows' error and, in a read-only batch,
// reads the COMMIT when the rows are closed.
type hintRows struct {
	pgx.Rows
	ctx   context.Context
	after func() error
	err   error
}

func (r *hintRows) Close() {
	r.Rows.Close()
	if r.after != nil {
		if err := r.after(); err != nil && r.Rows.Err() == nil {
			r.err = err
		}
		r.after = nil
	}
}

func (r *hintRows) Err() error {
	if err := r.Rows.Err(); err != nil {
		return explain(r.ctx, err)
	}
	return explain(r.ctx, r.err)
}

// oneRow is pgx.Row over any Rows: the first row, or pgx.ErrNoRows.
type oneRow struct {
	rows pgx.Rows
	err  error
}

func (r *oneRow) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	defer r.rows.Close()
	if !r.rows.Next() {
		r.rows.Close()
		if err := r.rows.Err(); err != nil {
			return err
		}
		return pgx.ErrNoRows
	}
	if err := r.rows.Scan(dest...); err != nil {
		return err
	}
	r.rows.Close()
	return r.rows.Err()
}

// hintBatch adds the hint to batch results; err is a failed BEGIN READ ONLY.
type hintBatch struct {
	pgx.BatchResults // nil when the connection could not be had (err)
	ctx              context.Context
	err              error
	release          func()
}

func (b *hintBatch) Exec() (pgconn.CommandTag, error) {
	if b.err != nil {
		return pgconn.CommandTag{}, b.err
	}
	tag, err := b.BatchResults.Exec()
	return tag, explain(b.ctx, err)
}

func (b *hintBatch) Query() (pgx.Rows, error) {
	if b.err != nil {
		return nil, b.err
	}
	rows, err := b.BatchResults.Query()
	if err != nil {
		return nil, explain(b.ctx, err)
	}
	return &hintRows{Rows: rows, ctx: b.ctx}, nil
}

func (b *hintBatch) QueryRow() pgx.Row {
	rows, err := b.Query()
	return &oneRow{rows: rows, err: err}
}

func (b *hintBatch) Close() error {
	var err error
	if b.BatchResults != nil {
		err = b.BatchResults.Close()
	}
	if b.release != nil {
		b.release()
		b.release = nil
	}
	if b.err != nil {
		return b.err
	}
	return explain(b.ctx, err)
}

// PoolerError is a prepared-statement error that shows the tool is behind a
// connection pooler (PgBouncer in transaction or statement mode) while pgx
// caches server-side prepared statements: the pooler hands the statement
// of one client to another's server connection, or a statement prepared on
// one server connection is looked for on another.
type PoolerError struct{ Err *pgconn.PgError }

// PoolerDSNOption is the DSN option that makes the tool work through a
// transaction-pooling PgBouncer (docs/scale.md says why exec).
const PoolerDSNOption = "default_query_exec_mode=exec"

func (e *PoolerError) Error() string {
	return e.Err.Message + " (SQLSTATE " + e.Err.Code + "): the database is behind a connection pooler " +
		"(PgBouncer in transaction mode?) that does not keep prepared statements; add " + PoolerDSNOption +
		" to the connection string (see docs/scale.md)"
}

func (e *PoolerError) Unwrap() error { return e.Err }

// explain adds what an error means: the statement was cancelled because
// our context ended (--timeout, a signal) — the server answers the cancel
// request with 57014 before the client notices its own deadline — or a
// pooler needs the DSN option.
func explain(ctx context.Context, err error) error {
	var pgErr *pgconn.PgError
	if err != nil && ctx != nil && ctx.Err() != nil && !errors.Is(err, ctx.Err()) &&
		(!errors.As(err, &pgErr) || pgErr.Code == "57014") {
		// The server cancelled the statement, or the client's work on it
		// was cut short (pgx preparing a batch reports a half-read
		// description as "mismatched param and argument count"): either
		// way the interrupt or --timeout is the cause.
		return fmt.Errorf("%w (%w)", ctx.Err(), err)
	}
	return poolerHint(err)
}

// poolerHint turns a prepared-statement error into a PoolerError.
func poolerHint(err error) error {
	var pgErr *pgconn.PgError
	var already *PoolerError
	if err == nil || errors.As(err, &already) || !errors.As(err, &pgErr) {
		return err
	}
	// 26000 invalid_sql_statement_name, 42P05 duplicate_prepared_statement;
	// only for pgx's own cached statements, not a user's PREPARE.
	if (pgErr.Code == "26000" || pgErr.Code == "42P05") && strings.Contains(pgErr.Message, "stmtcache_") {
		return &PoolerError{Err: pgErr}
	}
	return err
}
