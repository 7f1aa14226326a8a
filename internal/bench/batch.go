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

// The SPEC §7 batch targets: 10,000 single-user lines (users update,
// users add-group, perms grant, in turn) run by one `batch` process, by
// one `batch --atomic` process, by one `batch --dry-run` process (and one
// with --continue-on-error), by a
// psql script doing per line what the tool does (lock the user row, write,
// insert the log row, commit), and as separate processes. Each run works
// on users of its own, so that every line changes something; each is the
// median of batchRounds runs, the modes in turn. Starting
// 10,000 processes takes minutes, so the separate runs are sampled: 500
// invocations, extrapolated ×20 (reported as such).
func init() {
	register(Scenario{Order: 60, Name: "batch 10,000 lines", Run: benchBatch})
}

const (
	batchLines   = 10_000
	batchSampled = 500
	batchRounds  = 3
	batchGroup   = "KYC not verified"
	batchApp     = "api"
	batchPerm    = "view_wallet"
)

// batchLine is the i-th line of the mix for user id.
func batchLine(i int, id int64) []string {
	switch i % 3 {
	case 0:
		return []string{"users", "update", fmt.Sprint(id), "--first-name", fmt.Sprintf("Bench%d", i)}
	case 1:
		return []string{"users", "add-group", fmt.Sprint(id), batchGroup}
	}
	return []string{"perms", "grant", fmt.Sprint(id), batchApp + "." + batchPerm}
}

// psqlLine is the same line as the statements psql sends one by one.
func psqlLine(i int, id int64, groupID, permID int64) string {
	var write, action string
	switch i % 3 {
	case 0:
		write = fmt.Sprintf("UPDATE rbac_user SET first_name = 'Bench%d' WHERE id = %d", i, id)
		action = "users.update"
	case 1:
		write = fmt.Sprintf("INSERT INTO rbac_user_groups (user_id, group_id) VALUES (%d, %d) ON CONFLICT DO NOTHING", id, groupID)
		action = "users.add-group"
	default:
		write = fmt.Sprintf("INSERT INTO rbac_user_user_permissions (user_id, permission_id) VALUES (%d, %d) ON CONFLICT DO NOTHING", id, permID)
		action = "perms.grant"
	}
	return fmt.Sprintf("BEGIN;\nSELECT id, first_name, is_active FROM rbac_user WHERE id = %d FOR UPDATE;\n%s;\n"+
		"INSERT INTO api_operationlog (created_at, actor, action, target_user_id, before, after, detail, reason, command, batch_file, batch_line) "+
		"VALUES (now(), 'bench', '%s', %d, '{}', '{}', '{}', '', 'psql', 'bench.sql', %d);\nCOMMIT;\n", id, write, action, id, i+1)
}

func benchBatch(ctx context.Context, e *Env) ([]Row, error) {
	conn, err := pgx.Connect(ctx, e.DSN)
	if err != nil {
		return nil, err
	}
	defer conn.Close(ctx)
	// Each mode runs batchRounds times, in turn, each time on users of its
	// own: one run of a few seconds swings by a tenth on a busy machine.
	need := 5*batchLines*batchRounds + batchSampled
	rows, _ := conn.Query(ctx, "SELECT id FROM rbac_user ORDER BY id DESC LIMIT $1", need)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, err
	}
	if len(ids) < need {
		return nil, fmt.Errorf("need %d users, the database has %d", need, len(ids))
	}
	var groupID, permID int64
	if err := conn.QueryRow(ctx, `SELECT id FROM auth_group WHERE name = $1`, batchGroup).Scan(&groupID); err != nil {
		return nil, fmt.Errorf("group %q: %w", batchGroup, err)
	}
	if err := conn.QueryRow(ctx, `SELECT p.id FROM auth_permission p JOIN django_content_type ct ON ct.id = p.content_type_id
		WHERE ct.app_label = $1 AND p.codename = $2`, batchApp, batchPerm).Scan(&permID); err != nil {
		return nil, fmt.Errorf("permission %s.%s: %w", batchApp, batchPerm, err)
	}
	// Every line must change something: none of these users is in the
	// group or holds the permission before the runs.
	if _, err := conn.Exec(ctx, `DELETE FROM rbac_user_groups WHERE group_id = $1 AND user_id = ANY($2)`, groupID, ids); err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, `DELETE FROM rbac_user_user_permissions WHERE permission_id = $1 AND user_id = ANY($2)`, permID, ids); err != nil {
		return nil, err
	}
	next := func() []int64 {
		s := ids[:batchLines]
		ids = ids[batchLines:]
		return s
	}
	writeFile := func(name string, ids []int64) (string, error) {
		var b strings.Builder
		for i, id := range ids {
			for j, w := range batchLine(i, id) {
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
		file := filepath.Join(e.Dir, name)
		return file, os.WriteFile(file, []byte(b.String()), 0o600)
	}
	// runTool runs one batch mode on fresh users.
	runTool := func(name string, flags ...string) (Measurement, []int64, error) {
		users := next()
		file, err := writeFile(name, users)
		if err != nil {
			return Measurement{}, nil, err
		}
		args := append(append([]string{"--dsn", e.DSN, "batch"}, flags...), file)
		m, err := RunProcess("", nil, e.Bin, args...)
		return m, users, err
	}
	var defs, atomics, drys, dryAlls, psqls []Measurement
	var committed []int64 // the users of the runs that commit
	for range batchRounds {
		def, users, err := runTool("bench-batch.txt")
		if err != nil {
			return nil, err
		}
		committed = append(committed, users...)
		dry, _, err := runTool("bench-batch-dry.txt", "--dry-run")
		if err != nil {
			return nil, err
		}
		dryAll, _, err := runTool("bench-batch-dry-all.txt", "--dry-run", "--continue-on-error")
		if err != nil {
			return nil, err
		}
		atomic, users, err := runTool("bench-batch-atomic.txt", "--atomic")
		if err != nil {
			return nil, err
		}
		committed = append(committed, users...)
		var script strings.Builder
		for i, id := range next() {
			script.WriteString(psqlLine(i, id, groupID, permID))
		}
		ps, err := RunProcess(script.String(), nil, e.Psql, e.DSN, "-q", "-X", "-v", "ON_ERROR_STOP=1", "-f", "-")
		if err != nil {
			return nil, err
		}
		defs, drys, dryAlls, atomics, psqls = append(defs, def), append(drys, dry), append(dryAlls, dryAll), append(atomics, atomic), append(psqls, ps)
	}
	var logged int64
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM api_operationlog WHERE target_user_id = ANY($1) AND command <> 'psql'`,
		committed).Scan(&logged); err != nil {
		return nil, err
	}
	if logged != int64(len(committed)) {
		return nil, fmt.Errorf("batch: %d log rows for %d lines", logged, len(committed))
	}
	sampleIDs := ids[:batchSampled]
	start := time.Now()
	for i, id := range sampleIDs {
		args := append([]string{"--dsn", e.DSN}, batchLine(i, id)...)
		if _, err := RunProcess("", nil, e.Bin, args...); err != nil {
			return nil, err
		}
	}
	separate := time.Since(start) * batchLines / batchSampled
	def, atomic, dry, dryAll, ps := median(defs), median(atomics), median(drys), median(dryAlls), median(psqls)
	return []Row{{
		Name:   fmt.Sprintf("batch: %d lines (psql: the same statements per line)", batchLines),
		Tool:   def.Wall,
		Psql:   ps.Wall,
		Target: "≤ 1.0×",
		Extra: fmt.Sprintf("median of %d; %.0f lines/s; %d separate processes ≈ %s (%d timed ×%d) → %.1f× faster (target ≥ 50×); peak %s",
			batchRounds, float64(batchLines)/def.Wall.Seconds(), batchLines, separate.Round(time.Millisecond), batchSampled, batchLines/batchSampled,
			float64(separate)/float64(def.Wall), MiB(def.PeakRSS)),
	}, {
		Name:   fmt.Sprintf("batch --atomic: %d lines (psql column: default mode)", batchLines),
		Tool:   atomic.Wall,
		Psql:   def.Wall,
		Target: "≤ 0.5×",
		Extra:  fmt.Sprintf("%.1f× faster than default mode (target ≥ 2×); peak %s", float64(def.Wall)/float64(atomic.Wall), MiB(atomic.PeakRSS)),
	}, {
		Name:   fmt.Sprintf("batch --dry-run: %d lines, change table (psql column: default mode)", batchLines),
		Tool:   dry.Wall,
		Psql:   def.Wall,
		Target: "-",
		Extra:  fmt.Sprintf("%.1f× faster than default mode; peak %s", float64(def.Wall)/float64(dry.Wall), MiB(dry.PeakRSS)),
	}, {
		Name:   fmt.Sprintf("batch --dry-run --continue-on-error: %d lines (psql column: default mode)", batchLines),
		Tool:   dryAll.Wall,
		Psql:   def.Wall,
		Target: "-",
		Extra:  fmt.Sprintf("%.1f× faster than default mode; peak %s", float64(def.Wall)/float64(dryAll.Wall), MiB(dryAll.PeakRSS)),
	}}, nil
}

// median is the median wall time of runs, with the largest peak RSS.
func median(ms []Measurement) Measurement {
	wall, peak := medianOf(ms)
	return Measurement{Wall: wall, PeakRSS: peak}
}
