package client

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Undo reverses a run from its log rows, as a new run through the change
// engine (so it is planned, locked, logged whole, dry-runnable and itself
// undoable). Per user and field it looks at the run's first "before" and
// last "after" and the current value:
//
//   - current == the run's after: restored to the run's before;
//   - current == the run's before, and an earlier undo of this run restored
//     it: already undone, left alone (so undoing a partly undone run undoes
//     what remains);
//   - anything else: a conflict — someone changed it since (even back to
//     what it was before the run: nobody can tell that from a coincidence).
//     The undo is then refused as a whole, unless SkipConflicts, which
//     leaves that user out.
//
// Some effects cannot come back: a password (no hash is logged), deleted
// 2FA devices (no key is logged); undoing a run that made them needs
// Partial. Deleted Django sessions cannot come back either; they are named,
// but a user whose sessions are gone merely logs in again, so they do not
// make an undo partial. Tokens a deactivation blacklisted are un-blacklisted
// only with RestoreTokens, and only those still blacklisted and unexpired.

// UndoOptions say how to undo a run.
type UndoOptions struct {
	Users         []string // limit the undo to these users (references); empty = all
	SkipConflicts bool
	Partial       bool
	RestoreTokens bool
}

// Conflict is a field someone changed after the run.
type Conflict struct {
	UserID   int64  `json:"user_id"`
	Email    string `json:"email"`
	Field    string `json:"field"`
	RunAfter any    `json:"run_after"`
	Current  any    `json:"current"`
}

// UndoResult is what an undo did (or would do).
type UndoResult struct {
	ChangeResult
	Reverts   string     // the run undone
	Conflicts []Conflict // skipped (SkipConflicts)
	// Notes name what stays as the run left it: deleted sessions, tokens
	// left blacklisted, expired tokens.
	Notes []string
}

// ConflictError refuses an undo over later changes; it lists each one.
type ConflictError struct{ Conflicts []Conflict }

func (e *ConflictError) Error() string {
	return fmt.Sprintf("refused: %d field%s changed since the run, nothing was undone (see above; --skip-conflicts undoes the other users)",
		len(e.Conflicts), map[bool]string{true: "", false: "s"}[len(e.Conflicts) == 1])
}

// As makes a ConflictError a refusal (exit 4).
func (e *ConflictError) As(target any) bool { return asRefused(e, target) }

// As makes a PartialError a refusal (exit 4).
func (e *PartialError) As(target any) bool { return asRefused(e, target) }

func asRefused(e error, target any) bool {
	if t, ok := target.(**RefusedError); ok {
		*t = &RefusedError{Msg: e.Error()}
		return true
	}
	return false
}

// PartialError refuses an undo that would leave parts of the run in place.
type PartialError struct{ Lost []string }

func (e *PartialError) Error() string {
	return "refused: this undo cannot restore " + strings.Join(e.Lost, "; ") + "; pass --partial to undo the rest"
}

// undoField is one field of one user across a run: its first before, last
// after, and the run's detail for it.
type undoField struct {
	key    string // the field, or commission_plan:OP:CUR for one plan
	name   string // the field as logged
	before json.RawMessage
	after  json.RawMessage
	// created are the ids of 2FA devices the run created.
	created []int64
}

type undoUser struct {
	id     int64
	fields map[string]*undoField
	order  []string
}

// runRows reads a run's log rows, oldest first, folded per user and field.
func runRows(ctx context.Context, db DBTX, runID string) (map[int64]*undoUser, []int64, error) {
	const q = `
SELECT target_user_id, before::text, after::text, detail::text FROM api_operationlog
WHERE run_id = $1::uuid AND target_user_id IS NOT NULL ORDER BY id`
	rows, err := db.Query(ctx, q, runID)
	if err != nil {
		return nil, nil, err
	}
	users := map[int64]*undoUser{}
	var ids []int64
	var uid int64
	var b, a, d string
	_, err = pgx.ForEachRow(rows, []any{&uid, &b, &a, &d}, func() error {
		var before, after map[string]json.RawMessage
		var detail map[string]any
		if err := json.Unmarshal([]byte(b), &before); err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(a), &after); err != nil {
			return err
		}
		_ = json.Unmarshal([]byte(d), &detail)
		u := users[uid]
		if u == nil {
			u = &undoUser{id: uid, fields: map[string]*undoField{}}
			users[uid] = u
			ids = append(ids, uid)
		}
		for name, av := range after {
			key := name
			if strings.HasPrefix(name, "commission_plan") {
				// One field per plan: a command logs "commission_plan",
				// an undo "commission_plan:OP:CUR".
				key = planKey(av, before[name])
			}
			f := u.fields[key]
			if f == nil {
				f = &undoField{key: key, name: strings.SplitN(name, ":", 2)[0], before: before[name]}
				if f.before == nil {
					f.before = json.RawMessage("null")
				}
				u.fields[key] = f
				u.order = append(u.order, key)
			}
			f.after = av
			if name == "two_factor_devices" {
				if id, ok := detail["created_device_id"].(float64); ok {
					f.created = append(f.created, int64(id))
				}
			}
		}
		return nil
	})
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return users, ids, err
}

// undoneFields are the fields earlier undos of the run restored, by user.
func undoneFields(ctx context.Context, db DBTX, runID string) (map[int64]map[string]bool, error) {
	const q = `
SELECT l.target_user_id, l.before::text, l.after::text FROM api_operationlog l JOIN api_operationrun r ON r.id = l.run_id
WHERE r.reverts_id = $1::uuid AND l.target_user_id IS NOT NULL`
	rows, err := db.Query(ctx, q, runID)
	if err != nil {
		return nil, err
	}
	out := map[int64]map[string]bool{}
	var uid int64
	var b, a string
	_, err = pgx.ForEachRow(rows, []any{&uid, &b, &a}, func() error {
		var before, after map[string]json.RawMessage
		if json.Unmarshal([]byte(b), &before) != nil || json.Unmarshal([]byte(a), &after) != nil {
			return nil
		}
		if out[uid] == nil {
			out[uid] = map[string]bool{}
		}
		for name, v := range after {
			key := name
			if strings.HasPrefix(name, "commission_plan") {
				key = planKey(v, before[name])
			}
			out[uid][key] = true
		}
		return nil
	})
	return out, err
}

// planKey names one commission plan: its operation and currency.
func planKey(vals ...json.RawMessage) string {
	for _, v := range vals {
		var p planValues
		if json.Unmarshal(v, &p) == nil && p.Operation != "" {
			return "commission_plan:" + p.Operation + ":" + p.Currency
		}
	}
	return "commission_plan"
}

// canon is a JSON value in one spelling, so that a value read back from
// jsonb and one computed now compare equal when they mean the same.
func canon(v any) string {
	var raw []byte
	switch x := v.(type) {
	case json.RawMessage:
		raw = x
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Sprint(v)
		}
		raw = b
	}
	var g any
	if json.Unmarshal(raw, &g) != nil {
		return string(raw)
	}
	b, _ := json.Marshal(g)
	return string(b)
}

func jsonValue(raw json.RawMessage) any {
	var v any
	_ = json.Unmarshal(raw, &v)
	return v
}

// Undo reverses run runRef (an id or a unique prefix of one).
func (c *Client) Undo(ctx context.Context, a Audit, runRef string, uo UndoOptions, o ChangeOptions) (UndoResult, error) {
	run, err := c.GetRun(ctx, runRef)
	if err != nil {
		return UndoResult{}, err
	}
	res := UndoResult{Reverts: run.ID}
	a.Reverts = run.ID
	users, ids, err := runRows(ctx, c.db, run.ID)
	if err != nil {
		return res, err
	}
	if len(uo.Users) > 0 {
		only, err := ResolveUsers(ctx, c.db, uo.Users)
		if err != nil {
			return res, err
		}
		keep := map[int64]bool{}
		for _, u := range only {
			if users[u.ID] == nil {
				return res, Refused("refused: run %s did not change user %d (%s)", run.ID, u.ID, u.Email)
			}
			keep[u.ID] = true
		}
		var kept []int64
		for _, id := range ids {
			if keep[id] {
				kept = append(kept, id)
			}
		}
		ids = kept
	}
	if len(ids) == 0 {
		res.Action, res.DryRun = "undo", o.DryRun
		return res, nil
	}
	refs := make([]string, len(ids))
	for i, id := range ids {
		refs[i] = strconv.FormatInt(id, 10)
	}
	undone, err := undoneFields(ctx, c.db, run.ID)
	if err != nil {
		return res, err
	}
	st := newUndoState(c, users, uo)
	st.undone = undone
	spec := changeSpec{action: "undo", targets: Targets{Refs: refs}, reads: st.reads(), plan: st.plan}
	cr, err := c.runChange(ctx, a, o, spec)
	res.ChangeResult = cr
	res.Conflicts, res.Notes = st.skipped, st.notes
	return res, err
}
