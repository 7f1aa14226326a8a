package client

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Every change b2badmin makes goes through runChange, the one change
// primitive. A mutating service method only describes its change (a
// changeSpec: which users, what else to read about them, how to compute
// the per-user before/after and which statements make it so); runChange
// owns everything else, in this order, inside one transaction (a
// savepoint inside a batch):
//
//  1. find and lock the target users, in id order, with one statement
//     (references or a selector), and read their before-state in the
//     same round trip;
//  2. plan: the spec computes the change list and queues its writes;
//  3. --max-affected and the confirmation, counting the users that would
//     really change (the prompt runs while their rows are locked, so what
//     is confirmed is what is changed);
//  4. side effects whose outcome the log must record (rows deleted, ids
//     created), then the writes, the operation-log rows and the run row,
//     sent together;
//  5. commit, or roll back for a dry run, which ran exactly the same
//     statements: its change list is the real run's.
//
// A method cannot forget its log rows or its run: it never writes them.

// Targets name the users a change applies to: references (IDs, emails,
// UUIDs) or a selector (the users list filters), never neither.
type Targets struct {
	Refs   []string
	Filter *UserFilter
	// SkipMissing changes the users that exist and reports the references
	// that name nobody, instead of refusing the whole change (exit 3).
	SkipMissing bool
	// Union: with both Refs and Filter, the users either names (an access
	// file's users and its scope's).
	Union bool
}

// Empty reports whether t names nobody: a bulk change with neither
// references nor a filter is refused rather than taken to mean everyone.
func (t Targets) Empty() bool {
	return len(t.Refs) == 0 && (t.Filter == nil || t.Filter.isZero())
}

// ChangeOptions say how a change runs.
type ChangeOptions struct {
	DryRun bool
	// MaxAffected refuses (exit 4) a change of more users than this; 0 = no limit.
	MaxAffected int
	// Confirm, when set, is asked before anything is written (never in a
	// dry run), with the users that would really change; an error aborts.
	Confirm func(ctx context.Context, p Preview) error
}

// Preview is what a confirmation shows before a change is written.
type Preview struct {
	Action string
	Users  int       // users that would change
	First  []UserRef // the first few of them, by id
	// Lost names what an undo of this change could not bring back
	// (deleted sessions, a password, deleted 2FA devices).
	Lost []string
}

// Effects counts a change's side effects.
type Effects struct {
	TokensBlacklisted int64 `json:"tokens_blacklisted"`
	SessionsDeleted   int64 `json:"sessions_deleted"`
	DevicesDeleted    int64 `json:"devices_deleted"`
}

func (e *Effects) add(o Effects) {
	e.TokensBlacklisted += o.TokensBlacklisted
	e.SessionsDeleted += o.SessionsDeleted
	e.DevicesDeleted += o.DevicesDeleted
}

// ChangeResult is what a change did (or, in a dry run, would do).
type ChangeResult struct {
	RunID     string // the run that recorded it; "" for a dry run or when nothing changed
	Action    string
	DryRun    bool
	Changes   []Change  // one per changed user, in id order
	Unchanged []UserRef // targets already as asked: reported, not logged
	Missing   []string  // references naming nobody (Targets.SkipMissing)
	Effects   Effects
	Lost      []string // what an undo could not restore (see Preview)
	// Secrets are values shown once and stored nowhere else (the
	// provisioning URIs of new TOTP devices), by user id. Never logged.
	Secrets map[int64]string
}

// changeSpec describes one mutating operation for runChange.
type changeSpec struct {
	action  string
	targets Targets
	// reads are pipelined behind the lock: the users' groups, grants,
	// devices... each over the same target set.
	reads []followUp
	// plan computes the changes from the locked users and queues writes.
	plan func(p *planner) error
}

// followUp is a read pipelined behind the lock over the same targets. sql
// gets targets, which makes the condition "this user id column names a
// target" (targets("ug.user_id")), and may add its own parameters with
// arg; the server runs it after the lock is held, with a fresh snapshot,
// in the same round trip.
type followUp struct {
	sql  func(targets func(col string) string, arg func(any) string) string
	read func(pgx.Rows) error
}

// planner is what a spec's plan works with.
type planner struct {
	ctx       context.Context
	tx        DBTX
	c         *Client
	dryRun    bool
	users     []lockedUser // locked, in id order
	changes   []Change
	unchanged []UserRef
	writes    pipeline
	// effects run after the confirmation and before the log rows are
	// queued: statements whose results the log must record.
	effects []func(ctx context.Context, tx DBTX) error
	totals  Effects
	lost    []string
	secrets map[int64]string
}

// change records one user's change.
func (p *planner) change(u lockedUser, before, after map[string]any) *Change {
	p.changes = append(p.changes, Change{UserID: u.ID, Email: u.Email, Before: before, After: after, Detail: map[string]any{}})
	return &p.changes[len(p.changes)-1]
}

// same records a target the change leaves as it is.
func (p *planner) same(u lockedUser) {
	p.unchanged = append(p.unchanged, UserRef{ID: u.ID, Email: u.Email})
}

// effect queues a side effect that must run before the log is written.
func (p *planner) effect(fn func(ctx context.Context, tx DBTX) error) {
	p.effects = append(p.effects, fn)
}

// loses notes something an undo of this change cannot bring back.
func (p *planner) loses(what string) {
	for _, l := range p.lost {
		if l == what {
			return
		}
	}
	p.lost = append(p.lost, what)
}

// changeOf finds the change of a user (nil when it has none).
func (p *planner) changeOf(id int64) *Change {
	i := sort.Search(len(p.changes), func(i int) bool { return p.changes[i].UserID >= id })
	if i < len(p.changes) && p.changes[i].UserID == id {
		return &p.changes[i]
	}
	return nil
}

// changedIDs are the ids of the changed users, in id order.
func (p *planner) changedIDs() []int64 {
	out := make([]int64, len(p.changes))
	for i, c := range p.changes {
		out[i] = c.UserID
	}
	return out
}

// runChange is the change primitive: see the comment at the top of this file.
func (c *Client) runChange(ctx context.Context, a Audit, o ChangeOptions, s changeSpec) (ChangeResult, error) {
	res := ChangeResult{Action: s.action, DryRun: o.DryRun}
	if s.targets.Empty() {
		return res, errors.New("internal error: a change without targets")
	}
	if !slices.Contains(Actions, s.action) {
		return res, fmt.Errorf("internal error: action %q is not in client.Actions", s.action)
	}
	if err := a.validate(); err != nil {
		return res, err
	}
	var runID string
	var p *planner
	// body does the change up to its last statements, which it returns
	// unsent: how they are sent depends on the transaction (below).
	body := func(tx DBTX) (*pipeline, error) {
		users, missing, err := lockTargets(ctx, tx, s.targets, s.reads)
		if err != nil {
			return nil, err
		}
		p = &planner{ctx: ctx, tx: tx, c: c, dryRun: o.DryRun, users: users, secrets: map[int64]string{}}
		if err := s.plan(p); err != nil {
			return nil, err
		}
		sort.SliceStable(p.changes, func(i, j int) bool { return p.changes[i].UserID < p.changes[j].UserID })
		if o.MaxAffected > 0 && len(p.changes) > o.MaxAffected {
			return nil, Refused("refused: %s would change %d users, more than --max-affected %d; nothing was written", s.action, len(p.changes), o.MaxAffected)
		}
		if o.Confirm != nil && !o.DryRun && len(p.changes) > 0 {
			pv := Preview{Action: s.action, Users: len(p.changes), Lost: p.lost}
			for i := 0; i < len(p.changes) && i < 5; i++ {
				pv.First = append(pv.First, UserRef{ID: p.changes[i].UserID, Email: p.changes[i].Email})
			}
			if err := o.Confirm(ctx, pv); err != nil {
				return nil, err
			}
		}
		for _, e := range p.effects {
			if err := e(ctx, tx); err != nil {
				return nil, err
			}
		}
		if runID, err = a.queueRun(&p.writes, len(p.changes), p.totals); err != nil {
			return nil, err
		}
		if err := p.writes.log(a, runID, s.action, p.changes); err != nil {
			return nil, err
		}
		res.Changes, res.Unchanged, res.Missing = p.changes, p.unchanged, missing
		res.Effects, res.Lost, res.Secrets = p.totals, p.lost, p.secrets
		return &p.writes, nil
	}
	own, err := c.ownTx(ctx)
	if err != nil {
		return res, err
	}
	held, direct := c.db.(holdingDB)
	switch {
	case own != nil:
		// A change of its own: BEGIN rides with the lock, COMMIT (or a dry
		// run's ROLLBACK) with the last statements.
		defer own.release()
		if a.Run != nil {
			own.line = a.Run.Line
		}
		if s.targets.Filter == nil && len(s.targets.Refs) <= maxGenericRefs && own.hasPlanCacheMode() {
			own.begin = append(own.begin[:len(own.begin):len(own.begin)], genericPlansSQL)
		}
		var final *pipeline
		if final, err = body(own); err == nil {
			err = own.finish(ctx, final, !o.DryRun)
		}
	case direct && !o.DryRun && a.Run != nil:
		// Inside an --atomic batch a change needs no savepoint (a failure
		// rolls everything back) and its last statements ride on the next
		// round trip (its own --dry-run does need a savepoint, below).
		var final *pipeline
		if final, err = body(held); err == nil {
			held.hold(final, a.Run.Line)
		}
	default:
		// Inside a transaction: a savepoint of its own.
		err = c.inTx(ctx, func(tx pgx.Tx) error {
			final, err := body(tx)
			if err != nil {
				return err
			}
			if err := final.send(ctx, tx); err != nil {
				return err
			}
			if o.DryRun {
				return errWriteDryRun
			}
			return nil
		})
	}
	if err == nil && o.DryRun {
		err = errWriteDryRun
	}
	if err == nil {
		if a.Run != nil && a.Run.Totals != nil {
			a.Run.Totals.add(int64(len(p.changes)), p.totals)
		}
		if len(p.changes) > 0 || a.Run != nil {
			res.RunID = runID
		}
	}
	if errors.Is(err, errWriteDryRun) {
		res.Secrets = nil // a key that was rolled back must never be shown
		return res, nil
	}
	var unknown *OutcomeUnknownError
	if errors.As(err, &unknown) {
		unknown.RunID = runID
	}
	if err != nil {
		return ChangeResult{Action: s.action, DryRun: o.DryRun}, err
	}
	return res, nil
}

// genericPlansSQL makes a transaction run its prepared statements on
// generic plans. A change of users named by reference sends the same few
// statements on every batch line, and PostgreSQL, which costs a generic
// plan of "id = ANY($1)" for an array of unknown length, keeps planning
// each of them afresh for the one-element array it gets: a third of the
// server's CPU per line. A generic plan of these statements is the custom
// one (primary key and index lookups); a selector's is not, so changes by
// selector keep custom plans.
const genericPlansSQL = "SET LOCAL plan_cache_mode = force_generic_plan"

// maxGenericRefs bounds the changes that get generic plans: a generic
// plan is costed for a handful of users, and a change of 100,000 listed
// users (users deactivate -) needs the plan made for its array.
const maxGenericRefs = 100

// PreferGenericPlans sets genericPlansSQL in tx, for an --atomic batch
// whose every line names its users, no more than maxGenericRefs (nothing
// on a server without the setting).
func PreferGenericPlans(ctx context.Context, tx pgx.Tx) error {
	if !serverHasPlanCacheMode(tx.Conn().PgConn()) {
		return nil
	}
	_, err := tx.Exec(ctx, genericPlansSQL)
	return err
}

// MaxGenericRefs is maxGenericRefs, for the batch's choice.
const MaxGenericRefs = maxGenericRefs

// serverHasPlanCacheMode reports whether the server has plan_cache_mode
// (PostgreSQL 12 and later).
func serverHasPlanCacheMode(pc *pgconn.PgConn) bool {
	v := pc.ParameterStatus("server_version")
	major, _, _ := strings.Cut(v, ".")
	n, err := strconv.Atoi(strings.TrimFunc(major, func(r rune) bool { return r < '0' || r > '9' }))
	return err == nil && n >= 12
}

// holdingDB is a transaction that holds a change's last statements for
// the next round trip (DeferringTx, or a line's view of a Gather).
type holdingDB interface {
	DBTX
	hold(p *pipeline, line int)
}

// errWriteDryRun rolls back a dry run's transaction; runChange turns it
// back into success.
var errWriteDryRun = errors.New("dry run: rolled back")

// inTx runs fn in a transaction (a savepoint when c already runs in one)
// and commits it. Once COMMIT is sent, its outcome is waited for whatever
// happens to ctx: a signal or --timeout cancels waiting, not the commit,
// so cancelling then would report "nothing was committed" about a change
// that was. When the connection breaks during COMMIT nobody knows the
// outcome, and the error says so.
func (c *Client) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	tx, err := c.db.Begin(ctx)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = tx.Rollback(rctx) // a closed connection was rolled back by the server
		return err
	}
	if err := tx.Commit(context.WithoutCancel(ctx)); err != nil {
		var pg *pgconn.PgError
		if errors.As(err, &pg) || c.nested() {
			return err // the server refused the commit: rolled back
		}
		return &OutcomeUnknownError{Err: err}
	}
	return nil
}

// nested reports whether c runs inside a transaction (a batch's): its
// "commit" releases a savepoint, and nothing is committed yet.
func (c *Client) nested() bool {
	_, ok := c.db.(pgx.Tx)
	return ok
}

// OutcomeUnknownError is a COMMIT whose outcome was lost with the
// connection: the change may or may not have been applied.
type OutcomeUnknownError struct {
	Err   error
	RunID string // the run the change would have recorded, if any
}

func (e *OutcomeUnknownError) Error() string {
	check := "b2badmin log runs"
	if e.RunID != "" {
		check = "b2badmin log --run " + e.RunID
	}
	return fmt.Sprintf("the connection was lost during COMMIT: the change may or may not have been applied; check with %s (%s)",
		check, Scrub(e.Err.Error()))
}

func (e *OutcomeUnknownError) Unwrap() error { return e.Err }
