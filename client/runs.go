package client

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// A run is one invocation that wrote something: a command, or a whole
// batch (whose lines share it). api_operationrun records it; every log
// row names its run, so a run can be found again, reviewed and undone.

// Run outcomes.
const (
	RunCommitted       = "committed"
	RunRolledBack      = "rolled back"
	RunPartlyCommitted = "partly committed" // a default-mode batch that stopped; LastLine says how far
	// RunUnfinished is a batch still running, or one whose process died
	// before it could say how it ended (LastLine says how far it got).
	RunUnfinished = "unfinished"
)

// Run modes.
const (
	ModeCommand       = "command"
	ModeBatch         = "batch"
	ModeBatchContinue = "batch --continue-on-error"
	ModeBatchAtomic   = "batch --atomic"
)

// Run is one row of api_operationrun.
type Run struct {
	ID                string     `json:"id"`
	StartedAt         time.Time  `json:"started_at"`
	EndedAt           *time.Time `json:"ended_at"`
	Actor             string     `json:"actor"`
	Command           string     `json:"command"`
	Target            string     `json:"target"`
	Mode              string     `json:"mode"`
	Outcome           string     `json:"outcome"`
	UsersChanged      int64      `json:"users_changed"`
	Changes           int64      `json:"changes"`
	TokensBlacklisted int64      `json:"tokens_blacklisted"`
	SessionsDeleted   int64      `json:"sessions_deleted"`
	DevicesDeleted    int64      `json:"devices_deleted"`
	BatchFile         string     `json:"batch_file"`
	BatchSHA256       string     `json:"batch_sha256"`
	LastLine          *int       `json:"last_line"`
	Reverts           *string    `json:"reverts"`
}

// NewRunID is a version 7 UUID: random, and ordered by creation time, so
// runs sort by id as they sort by time.
func NewRunID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	binary.BigEndian.PutUint64(b[:8], uint64(time.Now().UnixMilli())<<16|uint64(b[6])<<8|uint64(b[7]))
	b[6] = b[6]&0x0f | 0x70
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// queueRun records the change on its run, in the change's pipeline: a
// command gets a run of its own when it changed anything; a batch line
// creates the batch's run or adds its counts to it, and moves the run's
// last committed line, which must move forward (a line can commit once
// only, whoever resumes the batch).
func (a Audit) queueRun(p *pipeline, changed int, e Effects) (string, error) {
	var reverts any
	if a.Reverts != "" {
		reverts = a.Reverts
	}
	// A line that changed nothing writes no run: a batch of no-ops leaves
	// none, as a command that changes nothing does. It still moves the
	// last line of a run an earlier line recorded, so that a resume does
	// not run it again (the state it found may have changed since).
	if changed == 0 && e == (Effects{}) {
		if r := a.Run; r != nil && r.Totals == nil {
			const moveLine = `UPDATE api_operationrun SET last_line = $2, ended_at = now() WHERE id = $1::uuid AND coalesce(last_line, 0) < $2`
			p.exec(moveLine, r.ID, r.Line)
		}
		return "", nil
	}
	// A batch's run is the batch's command line; each log row keeps its line's.
	runCommand := a.Command
	if r := a.Run; r != nil && r.Command != "" {
		runCommand = r.Command
	}
	if r := a.Run; r != nil && r.Totals != nil {
		// One transaction: the row is recorded once; FinishRun writes the counts.
		if !r.Totals.firstRecord() {
			return r.ID, nil
		}
		const first = `
INSERT INTO api_operationrun (id, started_at, ended_at, actor, command, target, mode, outcome, users_changed, changes,
    tokens_blacklisted, sessions_deleted, devices_deleted, batch_file, batch_sha256, last_line, reverts_id)
VALUES ($1::uuid, $2, now(), $3, $4, $5, $6, 'unfinished', NULL, 0, 0, 0, 0, $7, $8, NULL, NULL)
ON CONFLICT (id) DO NOTHING`
		p.exec(first, r.ID, r.StartedAt, a.Actor, runCommand, a.Target, r.Mode, r.File, r.SHA256)
		return r.ID, nil
	}
	if r := a.Run; r != nil {
		const line = `
INSERT INTO api_operationrun AS r (id, started_at, ended_at, actor, command, target, mode, outcome, users_changed, changes,
    tokens_blacklisted, sessions_deleted, devices_deleted, batch_file, batch_sha256, last_line, reverts_id)
VALUES ($1::uuid, $2, now(), $3, $4, $5, $6, 'unfinished', NULL, $7, $8, $9, $10, $11, $12, $13, NULL)
ON CONFLICT (id) DO UPDATE SET changes = r.changes + EXCLUDED.changes,
    tokens_blacklisted = r.tokens_blacklisted + EXCLUDED.tokens_blacklisted,
    sessions_deleted = r.sessions_deleted + EXCLUDED.sessions_deleted,
    devices_deleted = r.devices_deleted + EXCLUDED.devices_deleted,
    last_line = EXCLUDED.last_line, ended_at = now()
WHERE coalesce(r.last_line, 0) < EXCLUDED.last_line`
		p.execExpect(1, Refused("refused: line %d of run %s has already been applied (is another process resuming it?)", r.Line, r.ID),
			line, r.ID, r.StartedAt, a.Actor, runCommand, a.Target, r.Mode, changed, e.TokensBlacklisted, e.SessionsDeleted,
			e.DevicesDeleted, r.File, r.SHA256, r.Line)
		return r.ID, nil
	}
	if changed == 0 {
		return "", nil
	}
	id := NewRunID()
	const insertRun = `
INSERT INTO api_operationrun (id, started_at, ended_at, actor, command, target, mode, outcome, users_changed, changes,
    tokens_blacklisted, sessions_deleted, devices_deleted, batch_file, batch_sha256, last_line, reverts_id)
VALUES ($1::uuid, now(), now(), $2, $3, $4, 'command', 'committed', $5, $5, $6, $7, $8, '', '', NULL, $9::uuid)`
	p.exec(insertRun, id, a.Actor, a.Command, a.Target, changed, e.TokensBlacklisted, e.SessionsDeleted, e.DevicesDeleted, reverts)
	return id, nil
}

// FinishRun records how a batch run ended and how many users it changed
// (and, given its lines' totals, its counts and last line); it reports
// false when the batch wrote nothing, so has no run.
func (c *Client) FinishRun(ctx context.Context, id, outcome string, t *RunTotals) (bool, error) {
	const q = `
UPDATE api_operationrun SET outcome = $2, ended_at = now(),
    users_changed = (SELECT count(DISTINCT target_user_id) FROM api_operationlog WHERE run_id = $1::uuid)
WHERE id = $1::uuid`
	const withTotals = `
UPDATE api_operationrun SET outcome = $2, ended_at = now(),
    users_changed = (SELECT count(DISTINCT target_user_id) FROM api_operationlog WHERE run_id = $1::uuid),
    last_line = (SELECT max(batch_line) FROM api_operationlog WHERE run_id = $1::uuid),
    changes = $3, tokens_blacklisted = $4, sessions_deleted = $5, devices_deleted = $6
WHERE id = $1::uuid`
	var tag pgconn.CommandTag
	var err error
	if t != nil {
		tag, err = c.db.Exec(ctx, withTotals, id, outcome, t.Changes, t.Effects.TokensBlacklisted, t.Effects.SessionsDeleted, t.Effects.DevicesDeleted)
	} else {
		tag, err = c.db.Exec(ctx, q, id, outcome)
	}
	return tag.RowsAffected() == 1, err
}

const selectRun = `
SELECT r.id::text, r.started_at, r.ended_at, r.actor, r.command, r.target, r.mode, r.outcome,
       coalesce(r.users_changed, (SELECT count(DISTINCT l.target_user_id) FROM api_operationlog l WHERE l.run_id = r.id)),
       r.changes, r.tokens_blacklisted, r.sessions_deleted, r.devices_deleted, r.batch_file, r.batch_sha256,
       r.last_line, r.reverts_id::text
FROM api_operationrun r`

func scanRun(row interface{ Scan(...any) error }) (Run, error) {
	var r Run
	err := row.Scan(&r.ID, &r.StartedAt, &r.EndedAt, &r.Actor, &r.Command, &r.Target, &r.Mode, &r.Outcome,
		&r.UsersChanged, &r.Changes, &r.TokensBlacklisted, &r.SessionsDeleted, &r.DevicesDeleted, &r.BatchFile,
		&r.BatchSHA256, &r.LastLine, &r.Reverts)
	return r, err
}

// GetRun returns one run by its id, or by a unique prefix of at least 8
// characters of it (as git takes short hashes).
func (c *Client) GetRun(ctx context.Context, ref string) (Run, error) {
	id, err := c.ResolveRun(ctx, ref)
	if err != nil {
		return Run{}, err
	}
	return scanRun(c.db.QueryRow(ctx, selectRun+` WHERE r.id = $1::uuid`, id))
}

// ResolveRun turns a run id or a unique prefix of one into the full id.
func (c *Client) ResolveRun(ctx context.Context, ref string) (string, error) {
	p := strings.ToLower(strings.TrimSpace(ref))
	if len(p) < 8 || len(p) > 36 || strings.Trim(p, "0123456789abcdef-") != "" {
		return "", Refused("invalid run id %q: want the id b2badmin printed (at least its first 8 characters)", clip(ref))
	}
	rows, err := c.db.Query(ctx, `SELECT id::text FROM api_operationrun WHERE id::text LIKE $1 || '%' ORDER BY id LIMIT 4`, p)
	if err != nil {
		return "", err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return "", err
	}
	switch len(ids) {
	case 0:
		return "", NotFound("run %s", p)
	case 1:
		return ids[0], nil
	}
	// A v7 id begins with its start time: runs of the same minute share
	// 8 characters, of the same millisecond 13. Name them, so the next
	// try can be the one meant.
	some := strings.Join(ids[:min(len(ids), 3)], ", ")
	if len(ids) > 3 {
		some += ", …"
	}
	return "", Refused("run id %q is ambiguous: it begins %s; give more of it (b2badmin log runs lists them)", p, some)
}

// RunFilter selects runs; zero fields do not filter.
type RunFilter struct {
	Actor   string     // exact
	Command string     // case-insensitive substring of the command line
	Since   *time.Time // started at or after
	Until   *time.Time // started before
	Limit   int        // 0 = all
}

// ListRuns streams runs, newest first.
func (c *Client) ListRuns(ctx context.Context, f RunFilter, fn func(Run) error) error {
	var limit any
	if f.Limit > 0 {
		limit = f.Limit
	}
	rows, err := c.db.Query(ctx, selectRun+`
WHERE ($1 = '' OR r.actor = $1)
  AND ($2 = '' OR r.command ILIKE '%' || $2 || '%' ESCAPE '\')
  AND ($3::timestamptz IS NULL OR r.started_at >= $3)
  AND ($4::timestamptz IS NULL OR r.started_at < $4)
ORDER BY r.started_at DESC, r.id DESC LIMIT $5`,
		f.Actor, likeEscaper.Replace(f.Command), f.Since, f.Until, limit)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return err
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return rows.Err()
}
