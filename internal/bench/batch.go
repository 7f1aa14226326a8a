package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// The SPEC §7 batch target: 10,000 single-user lines (users update,
// users add-group, perms grant, in turn) run by one `batch` process, against
// the same kind of lines run as separate processes. Starting 10,000
// processes takes minutes, so the separate runs are sampled: 500
// invocations on other users, extrapolated ×20 (reported as such).
func init() {
	register(Scenario{Order: 60, Name: "batch 10,000 lines", Run: benchBatch})
}

const (
	batchLines   = 10_000
	batchSampled = 500
)

// batchLine is the i-th line of the mix for user id.
func batchLine(i int, id int64) []string {
	switch i % 3 {
	case 0:
		return []string{"users", "update", fmt.Sprint(id), "--first-name", fmt.Sprintf("Bench%d", i)}
	case 1:
		return []string{"users", "add-group", fmt.Sprint(id), "KYC not verified"}
	}
	return []string{"perms", "grant", fmt.Sprint(id), "api.view_wallet"}
}

func benchBatch(ctx context.Context, e *Env) ([]Row, error) {
	conn, err := pgx.Connect(ctx, e.DSN)
	if err != nil {
		return nil, err
	}
	rows, _ := conn.Query(ctx, "SELECT id FROM rbac_user ORDER BY id DESC LIMIT $1", batchLines+batchSampled)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	conn.Close(ctx)
	if err != nil {
		return nil, err
	}
	if len(ids) < batchLines+batchSampled {
		return nil, fmt.Errorf("need %d users, the database has %d", batchLines+batchSampled, len(ids))
	}
	var b strings.Builder
	for i := 0; i < batchLines; i++ {
		for j, w := range batchLine(i, ids[i]) {
			if j > 0 {
				b.WriteByte(' ')
			}
			if strings.Contains(w, " ") {
				w = "'" + w + "'"
			}
			b.WriteString(w)
		}
		b.WriteByte('\n')
	}
	file := filepath.Join(e.Dir, "bench-batch.txt")
	if err := os.WriteFile(file, []byte(b.String()), 0o600); err != nil {
		return nil, err
	}
	// One run: a second run of the same lines would find nothing to change.
	m, err := RunProcess("", nil, e.Bin, "--dsn", e.DSN, "batch", file)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	for i := 0; i < batchSampled; i++ {
		args := append([]string{"--dsn", e.DSN}, batchLine(i, ids[batchLines+i])...)
		if _, err := RunProcess("", nil, e.Bin, args...); err != nil {
			return nil, err
		}
	}
	separate := time.Since(start) * batchLines / batchSampled
	speedup := float64(separate) / float64(m.Wall)
	return []Row{{
		Name:   fmt.Sprintf("batch: %d lines in one process", batchLines),
		Tool:   m.Wall,
		Target: "≥ 20× faster",
		Extra: fmt.Sprintf("%.0f lines/s; %d separate processes ≈ %s (%d timed ×%d) → %.1f× faster; peak %s",
			float64(batchLines)/m.Wall.Seconds(), batchLines, separate.Round(time.Millisecond), batchSampled, batchLines/batchSampled, speedup, MiB(m.PeakRSS)),
	}}, nil
}
