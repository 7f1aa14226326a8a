package client

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// cancelGrace bounds how long a cancelled statement may keep the tool
// waiting: the cancel request's own round trip, and the wait for the
// server's answer on the statement's connection.
const cancelGrace = time.Second

// cancelOnContext ends a statement on the server when its context ends
// (--timeout, SIGINT, SIGTERM): it sends a cancel request, as psql does on
// Ctrl-C. pgx's default only drops the socket, and behind PgBouncer that
// leaves the server running the statement on the connection it lent us.
//
// It is pgx's CancelRequestContextWatcherHandler with one difference: the
// cancel request is always allowed to finish. pgx aborts it the moment
// the statement returns, closing the cancel connection while PgBouncer is
// still relaying it, and PgBouncer 1.18 (Debian 12) dies on that
// ("FATAL … disconnect_client(): bad client state"), taking every
// client's connection with it. TestTimeoutCancelsServerSideThroughPgBouncer
// runs two cancelled commands in a row against one PgBouncer for this.
type cancelOnContext struct {
	conn     *pgconn.PgConn
	finished chan struct{}
}

func (h *cancelOnContext) HandleCancel(context.Context) {
	h.finished = make(chan struct{})
	// A server that never answers: give up on the socket a little later.
	_ = h.conn.Conn().SetDeadline(time.Now().Add(cancelGrace))
	go func() {
		defer close(h.finished)
		ctx, cancel := context.WithTimeout(context.Background(), cancelGrace)
		defer cancel()
		_ = h.conn.CancelRequest(ctx)
	}()
}

func (h *cancelOnContext) HandleUnwatchAfterCancel() {
	<-h.finished
	_ = h.conn.Conn().SetDeadline(time.Time{})
}
