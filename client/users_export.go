package client

import (
	"context"
	"encoding/binary"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// A whole export (--all, by id) is one query that keeps one server
// process busy while the tool formats. Split into id ranges read by two
// connections at once, the server's work runs on two processes and beside
// the formatting. Both read one snapshot, exported by the first and
// imported by the second (as pg_dump --jobs does), so the rows are those
// of one moment, as with a single query. The ranges are delivered in
// order, at most splitAhead of them read ahead, so memory stays flat.
const (
	splitWorkers = 2
	splitAhead   = 3    // ranges read but not yet handed on
	splitWidth   = 4096 // ids per range: about 2 MiB of rows at most
	splitMinimum = 4    // fewer ranges than this: one query is as fast
	// splitSparsest is how sparse the ids may be (ids in their span per
	// user, by the planner's count): sparser ones (a user with an id far
	// beyond the others) would make ranges by the thousand that hold
	// nobody, and one query serves them better.
	splitSparsest = 4
	// secondBeginWait bounds the wait for the second connection: behind a
	// pooler with no server connection to spare it would never come (the
	// first holds one for the export), and the export runs as one query.
	secondBeginWait = 2 * time.Second
)

// snapshotID is what pg_export_snapshot returns (e.g. 00000003-0000001B-1):
// it is checked before it is written into SET TRANSACTION SNAPSHOT, which
// takes no parameters.
var snapshotID = regexp.MustCompile(`^[0-9A-Fa-f-]+$`)

// afterSnapshotHook, set only by tests, runs between the export of the
// snapshot and its import by the other connections.
var afterSnapshotHook func()

// splittable reports whether q is a whole export by id on a connection of
// the tool's own: inside a transaction (a batch line) the reads must see
// the transaction's own writes, which a second connection cannot.
func (c *Client) splittable(q UserQuery) (*handle, bool) {
	h, ok := c.db.(*handle)
	return h, ok && q.Limit == 0 && q.After == nil && q.span == nil &&
		(q.Sort.Key == "" || q.Sort.Key == "id") && !q.Sort.Desc &&
		// A filter may hold whole-table subplans (--2fa reads every
		// device) that each range would run again.
		q.Filter.isZero() &&
		h.pool.Config().MaxConns >= splitWorkers // last: Config copies the pool's settings
}

// listUsersSplit streams q's rows to fn as ListUsers does, reading ranges
// of ids on two connections. done is false when the split could not start
// (a server that cannot export a snapshot, a table too small to gain):
// the caller then runs the one query.
func (c *Client) listUsersSplit(ctx context.Context, h *handle, q UserQuery, fn func(*UserRow) error) (done bool, err error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	begin := "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
	// SET LOCALs after the snapshot: SET TRANSACTION SNAPSHOT must come
	// first in a transaction. JIT compiling a range's plan costs more
	// than the range, and so does planning it again for every range (its
	// generic plan is the custom one, costed higher: the planner would
	// keep making custom ones).
	// And while the tool formats (or its reader pauses), the readers wait
	// idle in their transactions, where one query would sit sending: a
	// server's idle_in_transaction_session_timeout must not end them.
	settings := append(append([]string(nil), h.beginSettings()...), "SET LOCAL jit = off",
		"SET LOCAL idle_in_transaction_session_timeout = 0")
	first, err := h.pool.BeginTx(ctx, pgx.TxOptions{BeginQuery: strings.Join(append([]string{begin}, settings...), "; ")})
	if err != nil {
		return false, nil
	}
	txs := []pgx.Tx{first}
	// Deferred in this order: the readers stop (the context ends their
	// queries) before their transactions end, which they may still be using.
	var readers sync.WaitGroup
	defer func() {
		for _, tx := range txs {
			rollbackClean(tx)
		}
	}()
	defer readers.Wait()
	defer cancel(nil)
	if serverHasPlanCacheMode(first.Conn().PgConn()) {
		settings = append(settings, genericPlansSQL)
		if _, err := first.Exec(ctx, genericPlansSQL); err != nil {
			return false, nil
		}
	}
	var snapshot string
	var lo, hi *int64
	var users float64 // the planner's count (-1 or 0 before the first ANALYZE)
	if err := first.QueryRow(ctx, `SELECT pg_export_snapshot(), min(id), max(id),
		(SELECT reltuples FROM pg_class WHERE oid = 'rbac_user'::regclass) FROM rbac_user`).Scan(&snapshot, &lo, &hi, &users); err != nil ||
		!snapshotID.MatchString(snapshot) || lo == nil {
		return false, nil
	}
	span := *hi - *lo + 1 // ≤ 0 when it overflows
	if span <= 0 || users <= 0 || float64(span) > splitSparsest*users {
		return false, nil
	}
	n := int((span + splitWidth - 1) / splitWidth)
	if n < splitMinimum {
		return false, nil
	}
	// Range k is [lo + k·splitWidth, lo + (k+1)·splitWidth - 1], the last
	// one up to max(id) (so no bound passes the largest id, which may be
	// the largest int8).
	rangeOf := func(k int) *idSpan {
		from := *lo + int64(k)*splitWidth
		if k == n-1 {
			return &idSpan{lo: from, hi: *hi}
		}
		return &idSpan{lo: from, hi: from + splitWidth - 1}
	}
	names, err := readGroupNames(ctx, first)
	if err != nil {
		return false, nil
	}
	if afterSnapshotHook != nil {
		afterSnapshotHook()
	}
	for range splitWorkers - 1 {
		bctx, stop := context.WithTimeout(ctx, secondBeginWait)
		tx, err := h.pool.BeginTx(bctx, pgx.TxOptions{BeginQuery: strings.Join(append([]string{begin,
			"SET TRANSACTION SNAPSHOT '" + snapshot + "'"}, settings...), "; ")})
		stop()
		if err != nil {
			return false, nil
		}
		txs = append(txs, tx)
	}

	// The consumer hands out ranges in order, splitAhead at a time; the
	// workers read whichever comes next, each into its range's channel.
	todo := make(chan int, n)
	// A reader that fails ends ctx with its error (cancel) instead.
	results := make([]chan []UserRow, n)
	for i := range results {
		results[i] = make(chan []UserRow, 1)
	}
	for i := range min(splitAhead, n) {
		todo <- i
	}
	for _, tx := range txs {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				var k int
				select {
				case k = <-todo:
				case <-ctx.Done():
					return
				}
				rq := q
				rq.span = rangeOf(k)
				sql, args := buildUserList(rq)
				rows, err := readUserRows(ctx, tx, sql, args, splitWidth, names)
				if err != nil {
					cancel(explain(ctx, err))
					return
				}
				results[k] <- rows
			}
		}()
	}
	var u UserRow
	for k := range n {
		var rows []UserRow
		select {
		case rows = <-results[k]:
		case <-ctx.Done():
			return true, context.Cause(ctx)
		}
		for i := range rows {
			u = rows[i]
			u.Name = fullName(u.FirstName, u.LastName)
			if err := fn(&u); err != nil {
				return true, err
			}
		}
		if k+splitAhead < n {
			todo <- k + splitAhead
		}
	}
	return true, nil
}

// readUserRows reads one range's rows.
func readUserRows(ctx context.Context, tx pgx.Tx, sql string, args []any, capacity int, names *groupNamer) ([]UserRow, error) {
	rows, err := tx.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]UserRow, 0, capacity)
	var ids []int64
	var scratch namerScratch
	for rows.Next() {
		out = append(out, UserRow{})
		u := &out[len(out)-1]
		dest := u.dest()
		dest[groupsColumn] = &ids
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		if u.Groups, err = names.of(ids, &scratch); err != nil {
			return nil, err
		}
	}
	return out, rows.Err()
}

// groupNamer names a split export's group ids, in the order the server
// sorts the names (its collation, which the client cannot reproduce),
// from one read of auth_group in the export's snapshot. Users share a
// few combinations of groups: each combination's names are made once.
type groupNamer struct {
	rank  map[int64]int // id → position of its name in the server's order
	names []string      // by rank
	mu    sync.Mutex
	made  map[string][]string // by the combination's ranks (varints)
}

// groupCombinationsKept bounds the combinations kept: where users have
// combinations of their own, the rest are made per user.
const groupCombinationsKept = 4096

// namerScratch is one reader's reused buffers.
type namerScratch struct {
	ranks []int
	key   []byte
}

func readGroupNames(ctx context.Context, tx pgx.Tx) (*groupNamer, error) {
	rows, _ := tx.Query(ctx, `SELECT id::int8, name FROM auth_group ORDER BY name, id`)
	g := &groupNamer{rank: map[int64]int{}, made: map[string][]string{}}
	var id int64
	var name string
	_, err := pgx.ForEachRow(rows, []any{&id, &name}, func() error {
		g.rank[id] = len(g.names)
		g.names = append(g.names, name)
		return nil
	})
	return g, err
}

// of returns the names of ids, ordered as the server orders them. The
// slice is shared by every user with the same groups: read only.
func (g *groupNamer) of(ids []int64, s *namerScratch) ([]string, error) {
	if len(ids) == 0 {
		return []string{}, nil
	}
	s.ranks = s.ranks[:0]
	for _, id := range ids {
		r, ok := g.rank[id]
		if !ok {
			return nil, fmt.Errorf("internal error: group %d is not in the export's snapshot", id)
		}
		s.ranks = append(s.ranks, r)
	}
	slices.Sort(s.ranks)
	s.key = s.key[:0]
	for _, r := range s.ranks {
		s.key = binary.AppendUvarint(s.key, uint64(r))
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if names, ok := g.made[string(s.key)]; ok {
		return names, nil
	}
	names := make([]string, len(s.ranks))
	for i, r := range s.ranks {
		names[i] = g.names[r]
	}
	if len(g.made) < groupCombinationsKept {
		g.made[string(s.key)] = names
	}
	return names, nil
}

// rollbackClean ends a read transaction, also after its context ended
// (the pool drops a connection whose rollback failed).
func rollbackClean(tx pgx.Tx) {
	ctx, cancel := context.WithTimeout(context.Background(), cancelGrace)
	defer cancel()
	_ = tx.Rollback(ctx)
}
