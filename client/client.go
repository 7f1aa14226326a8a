// Package client is b2badmin's service layer: every query the tool runs
// lives here, beside the method that runs it, with $n parameters only.
package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DBTX is what the service methods need from PostgreSQL. *pgxpool.Pool,
// *pgx.Conn and pgx.Tx all satisfy it, so the same methods run alone or
// inside a batch's transaction (Begin on a Tx opens a savepoint).
type DBTX interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Begin(ctx context.Context) (pgx.Tx, error)
	CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error)
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// Options say how to connect.
type Options struct {
	DSN            string        // URL or key=value; "" = libpq PG* variables
	ReadOnly       bool          // the server itself refuses writes
	ConnectTimeout time.Duration // default 5 s
	MaxConns       int32         // default 4: one CLI run needs one, a batch a few
	Debug          io.Writer     // when set, every statement and its duration
	AppName        string
	// LockTimeout is the session's lock_timeout: a statement waiting
	// longer for another session's lock fails (SQLSTATE 55P03). 0 leaves
	// the server's setting (by default, wait for ever).
	LockTimeout time.Duration
	// StatementTimeout, when set, is every transaction's statement_timeout
	// (SET LOCAL): the server ends a statement the tool no longer waits for,
	// through a pooler and even when the tool is killed.
	StatementTimeout time.Duration
}

// Client is the service layer on one database handle.
type Client struct {
	db       DBTX
	pool     *pgxpool.Pool
	readOnly bool
	// ref caches reference data (the permission table) for the life of
	// the process: it changes only with a migration, and a batch of 10,000
	// lines should not reload 401 rows per line.
	ref *refCache
}

// New wraps an existing handle (a pool, a connection or a transaction).
func New(db DBTX) *Client { return &Client{db: db, ref: &refCache{}} }

// DB is the handle the service methods run on.
func (c *Client) DB() DBTX { return c.db }

// ReadOnly reports whether the connection was opened read-only.
func (c *Client) ReadOnly() bool { return c.readOnly }

// WithDB returns a client running on db (a transaction, typically), sharing
// nothing else with c.
func (c *Client) WithDB(db DBTX) *Client {
	return &Client{db: db, pool: c.pool, readOnly: c.readOnly, ref: c.ref}
}

// Pool is the underlying pool, nil when the client wraps a transaction.
func (c *Client) Pool() *pgxpool.Pool { return c.pool }

// Close releases the pool.
func (c *Client) Close() {
	if c.pool != nil {
		c.pool.Close()
	}
}

// ConnectError is a failure to reach or log in to the database. Its message
// never contains the DSN's password.
type ConnectError struct{ Msg string }

func (e *ConnectError) Error() string { return e.Msg }

// Connect opens a small pool and checks it with a ping, so that a refused
// connection, a failed login or an unknown database is reported at once.
func Connect(ctx context.Context, o Options) (*Client, error) {
	// Our reading first (the one redaction masks by): a URL a person could
	// mean two ways (an '@' in its password) must not reach a message
	// that prints its host. It reads URLs as pgx does, so nothing pgx
	// accepts is refused but those.
	if _, err := secretSpans(o.DSN); err != nil {
		return nil, &ConnectError{Msg: "invalid connection string: " + err.Error()}
	}
	cfg, err := pgxpool.ParseConfig(o.DSN)
	if err != nil {
		return nil, &ConnectError{Msg: "invalid connection string: " + describeParseError(o.DSN, err)}
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 5 * time.Second
	}
	if cfg.ConnConfig.ConnectTimeout == 0 || cfg.ConnConfig.ConnectTimeout > o.ConnectTimeout {
		cfg.ConnConfig.ConnectTimeout = o.ConnectTimeout
	}
	cfg.MaxConns = 4
	if o.MaxConns > 0 {
		cfg.MaxConns = o.MaxConns
	}
	cfg.MinConns = 0
	if o.AppName == "" {
		o.AppName = "b2badmin"
	}
	if _, ok := cfg.ConnConfig.RuntimeParams["application_name"]; !ok {
		cfg.ConnConfig.RuntimeParams["application_name"] = o.AppName
	}
	if o.ReadOnly {
		// A second guard where the server takes it: the session itself is
		// read-only. Every transaction is READ ONLY anyway (handle), which
		// is what holds behind a pooler that refuses this parameter.
		cfg.ConnConfig.RuntimeParams[readOnlyParam] = "on"
	}
	if o.LockTimeout > 0 {
		cfg.ConnConfig.RuntimeParams["lock_timeout"] = strconv.FormatInt(max(o.LockTimeout.Milliseconds(), 1), 10)
	}
	if o.Debug != nil {
		cfg.ConnConfig.Tracer = &debugTracer{w: o.Debug}
	}
	// A cancelled context (--timeout, a signal) sends a cancel request
	// and waits for it (cancel.go): behind PgBouncer, dropping our socket
	// alone leaves the server running the statement.
	cfg.ConnConfig.BuildContextWatcherHandler = func(pc *pgconn.PgConn) ctxwatch.Handler {
		return &cancelOnContext{conn: pc}
	}
	if o.StatementTimeout > 0 {
		// The session default too, where the server takes it: pgx prepares
		// statements (default query mode) outside our transactions, and a
		// prepare waits for table locks like any statement.
		cfg.ConnConfig.RuntimeParams["statement_timeout"] = fmt.Sprint(serverTimeout(o.StatementTimeout).Milliseconds())
	}
	pool, err := openPool(ctx, cfg, o.ConnectTimeout)
	// PgBouncer: "unsupported startup parameter NAME", one at a time, in
	// whatever order the map sent them. Connect without each it names; the
	// per-transaction settings remain (handle).
	for tries := 0; err != nil && tries < 3; tries++ {
		refused := ""
		for _, p := range []string{readOnlyParam, "statement_timeout", "lock_timeout"} {
			if _, set := cfg.ConnConfig.RuntimeParams[p]; set && refusedStartupParam(err, p) {
				refused = p
			}
		}
		if refused == "" {
			break
		}
		delete(cfg.ConnConfig.RuntimeParams, refused)
		pool, err = openPool(ctx, cfg, o.ConnectTimeout)
	}
	if err != nil {
		return nil, &ConnectError{Msg: Scrub(describeConnectError(err, cfg.ConnConfig))}
	}
	return &Client{db: newHandle(pool, o.ReadOnly, o.StatementTimeout), pool: pool, readOnly: o.ReadOnly, ref: &refCache{}}, nil
}

const readOnlyParam = "default_transaction_read_only"

// openPool creates the pool and pings it, so that a refused connection, a
// failed login or an unknown database is reported at once.
func openPool(ctx context.Context, cfg *pgxpool.Config, timeout time.Duration) (*pgxpool.Pool, error) {
	pool, err := pgxpool.NewWithConfig(ctx, cfg.Copy())
	if err != nil {
		return nil, err
	}
	pingCtx, cancel := context.WithTimeout(ctx, timeout+time.Second)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		pool.Close()
		return nil, err
	}
	return pool, nil
}

// refusedStartupParam recognises a server (a pooler) refusing a startup
// parameter: PgBouncer answers 08P01 "unsupported startup parameter: NAME".
func refusedStartupParam(err error, name string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && strings.Contains(pgErr.Message, "unsupported startup parameter") &&
		strings.Contains(pgErr.Message, name)
}

// describeConnectError turns pgconn's layered message into one line that
// says which server and what went wrong.
func describeConnectError(err error, cfg *pgx.ConnConfig) string {
	where := fmt.Sprintf("%s@%s", cfg.User, net.JoinHostPort(cfg.Host, fmt.Sprint(cfg.Port)))
	if strings.HasPrefix(cfg.Host, "/") {
		where = fmt.Sprintf("%s@%s (socket port %d)", cfg.User, cfg.Host, cfg.Port)
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "28P01", "28000":
			return fmt.Sprintf("cannot log in to %s as %q: %s", where, cfg.User, pgErr.Message)
		case "3D000":
			return fmt.Sprintf("database %q does not exist on %s", cfg.Database, where)
		}
		return fmt.Sprintf("cannot connect to %s: %s (SQLSTATE %s)", where, pgErr.Message, pgErr.Code)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Sprintf("cannot connect to %s: timed out", where)
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "connection refused"):
		return fmt.Sprintf("cannot connect to %s: connection refused (is the server running?)", where)
	case strings.Contains(msg, "no such file or directory"):
		return fmt.Sprintf("cannot connect to %s: no server socket (is the server running?)", where)
	}
	// Keep only the innermost cause: pgconn repeats the address in each layer.
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		msg = msg[i+2:]
	}
	return fmt.Sprintf("cannot connect to %s: %s", where, msg)
}

// debugTracer implements --debug: each statement and its duration on stderr.
type debugTracer struct{ w io.Writer }

type traceKey struct{}
type traceData struct {
	sql   string
	start time.Time
}

func (t *debugTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	return context.WithValue(ctx, traceKey{}, traceData{sql: d.SQL, start: time.Now()})
}

func (t *debugTracer) TraceQueryEnd(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryEndData) {
	td, _ := ctx.Value(traceKey{}).(traceData)
	status := d.CommandTag.String()
	if d.Err != nil {
		status = "error: " + d.Err.Error()
	}
	fmt.Fprintf(t.w, "b2badmin: debug: %s  [%s, %s]\n", oneLine(td.sql), time.Since(td.start).Round(time.Microsecond), status)
}

func oneLine(sql string) string { return strings.Join(strings.Fields(sql), " ") }

// Batches (a write and its log rows sent together) are traced statement
// by statement too, timed from the batch's start.
func (t *debugTracer) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return context.WithValue(ctx, traceKey{}, traceData{start: time.Now()})
}

func (t *debugTracer) TraceBatchQuery(ctx context.Context, _ *pgx.Conn, d pgx.TraceBatchQueryData) {
	td, _ := ctx.Value(traceKey{}).(traceData)
	status := d.CommandTag.String()
	if d.Err != nil {
		status = "error: " + d.Err.Error()
	}
	fmt.Fprintf(t.w, "b2badmin: debug: %s  [batch, %s since its start, %s]\n", oneLine(d.SQL), time.Since(td.start).Round(time.Microsecond), status)
}

func (t *debugTracer) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}
