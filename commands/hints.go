package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/b2badmin/b2badmin/client"
)

// A failure should say what to do next: a tool that has no connection
// configured names the ways to give one, not a socket path; a database
// without the schema says to migrate it, not relation "rbac_user" does not
// exist; a connection lost in the middle of a change says the change was
// rolled back (a lost COMMIT is client.OutcomeUnknownError), not
// unexpected EOF.

// noConnectionHint is added to a connection failure when nothing was
// configured at all.
const noConnectionHint = "no database is configured: pass --dsn, set B2BADMIN_DSN (or DATABASE_URL or the PG* variables), " +
	"name a profile of the config file with --profile, or start the demo database with make demo"

// connectHint explains a failure to connect when no connection string,
// profile or PG* variable told the tool where to go (it then tried libpq's
// default socket).
//
// A connection attempt cut short by a signal or --timeout is that, not a
// connection problem: it reads as an interruption.
func (inv *Invocation) connectHint(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	var ce *client.ConnectError
	if !errors.As(err, &ce) || !inv.unconfigured() {
		return err
	}
	return &client.ConnectError{Msg: ce.Msg + "; " + noConnectionHint}
}

// unconfigured: no --dsn, B2BADMIN_DSN, DATABASE_URL, profile DSN or PG*
// connection variable.
func (inv *Invocation) unconfigured() bool {
	if inv.connectOptions().DSN != "" {
		return false
	}
	for _, v := range []string{"PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGUSER", "PGSERVICE", "PGSERVICEFILE"} {
		if inv.Getenv(v) != "" {
			return false
		}
	}
	return true
}

// explain gives the message for the errors that need a next step, and
// ok=false for every other error.
func explain(err error) (msg string, ok bool) {
	var pg *pgconn.PgError
	var unknown *client.OutcomeUnknownError
	switch {
	case errors.As(err, &unknown):
		return unknown.Error(), true
	case errors.As(err, &pg) && (pg.Code == "42P01" || pg.Code == "42703" || pg.Code == "42883"):
		// undefined table, column or function: the schema is missing or
		// older than this b2badmin.
		return fmt.Sprintf("the database lacks b2badmin's schema or part of it (%s): run b2badmin db migrate", client.Scrub(pg.Message)), true
	case errors.As(err, &pg) && pg.Code == "55P03":
		return "gave up waiting for a lock another session holds on these rows (lock_timeout, --lock-timeout): nothing was changed; retry when it is released, or give a longer --lock-timeout", true
	case connectionLost(err):
		return "the connection to the database was lost (" + lostCause(err) + "); the statement in progress was rolled back, nothing of it was committed", true
	}
	return "", false
}

// connectionLost reports an error that means the server connection is
// gone: the server ended the session (57P01-57P03, class 08), or the
// socket closed or broke under a statement.
func connectionLost(err error) bool {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code == "57P01" || pg.Code == "57P02" || pg.Code == "57P03" || (len(pg.Code) == 5 && pg.Code[:2] == "08")
	}
	var op *net.OpError
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, pgconn.ErrConnClosed) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.As(err, &op)
}

func lostCause(err error) string {
	var pg *pgconn.PgError
	switch {
	case errors.As(err, &pg):
		return "the server ended the session: " + client.Scrub(pg.Message)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, pgconn.ErrConnClosed):
		return "the server closed it"
	}
	return "the network connection broke"
}
