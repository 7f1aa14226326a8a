package client

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jackc/pgx/v5"
)

// Audit says who is changing things and why; every mutating service method
// takes one and writes it to api_operationlog in the transaction of the change.
type Audit struct {
	Actor     string
	Command   string // the command line, passwords removed
	Reason    string
	BatchID   string // uuid of the batch run, "" outside a batch
	BatchFile string
	BatchLine int
}

// Change is one user's before and after for one action.
type Change struct {
	UserID int64          `json:"user_id"`
	Email  string         `json:"email"`
	Before map[string]any `json:"before"`
	After  map[string]any `json:"after"`
}

// writeOperationLog records one row per change, in one statement, inside tx.
func writeOperationLog(ctx context.Context, tx DBTX, a Audit, action string, changes []Change) error {
	var w pipeline
	if err := w.log(a, action, changes); err != nil {
		return err
	}
	return w.send(ctx, tx)
}

// pipeline queues a change's statements and its log rows and sends them in
// one round trip (a pgx batch). A batch line is mostly round trips at a
// ~100 µs floor each, so the write and its log travel together.
type pipeline struct{ b pgx.Batch }

func (p *pipeline) exec(sql string, args ...any) { p.b.Queue(sql, args...) }

// log queues the operation-log rows of changes (nothing when empty).
func (p *pipeline) log(a Audit, action string, changes []Change) error {
	if len(changes) == 0 {
		return nil
	}
	ids := make([]int64, len(changes))
	befores := make([]string, len(changes))
	afters := make([]string, len(changes))
	for i, c := range changes {
		ids[i] = c.UserID
		b, err := json.Marshal(nonNil(c.Before))
		if err != nil {
			return err
		}
		af, err := json.Marshal(nonNil(c.After))
		if err != nil {
			return err
		}
		befores[i], afters[i] = string(b), string(af)
	}
	var batchID, batchLine any
	if a.BatchID != "" {
		batchID = a.BatchID
	}
	if a.BatchLine > 0 {
		batchLine = a.BatchLine
	}
	const insertLog = `
INSERT INTO api_operationlog
    (created_at, actor, action, target_user_id, before, after, reason, command, batch_id, batch_file, batch_line)
SELECT now(), $1, $2, t.uid, t.b::jsonb, t.a::jsonb, $3, $4, $5::uuid, $6, $7
FROM unnest($8::bigint[], $9::text[], $10::text[]) AS t(uid, b, a)`
	p.b.Queue(insertLog, a.Actor, action, a.Reason, a.Command, batchID, a.BatchFile, batchLine, ids, befores, afters)
	return nil
}

// send runs everything queued, in order, and returns the first error.
func (p *pipeline) send(ctx context.Context, tx DBTX) error {
	if p.b.Len() == 0 {
		return nil
	}
	return tx.SendBatch(ctx, &p.b).Close()
}

func nonNil(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// LogEntry is one row of the operation log.
type LogEntry struct {
	ID        int64           `json:"id"`
	CreatedAt time.Time       `json:"created_at"`
	Actor     string          `json:"actor"`
	Action    string          `json:"action"`
	UserID    *int64          `json:"user_id"`
	Email     *string         `json:"email"`
	Before    json.RawMessage `json:"before"`
	After     json.RawMessage `json:"after"`
	Reason    string          `json:"reason"`
	Command   string          `json:"command"`
	BatchID   *string         `json:"batch_id"`
	BatchFile string          `json:"batch_file"`
	BatchLine *int            `json:"batch_line"`
}

// inTx runs fn in a transaction (a savepoint when c already runs in one).
func (c *Client) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, c.db, fn)
}
