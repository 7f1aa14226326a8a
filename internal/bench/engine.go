package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Scenarios of the change engine's features: a deactivation chosen by a
// selector against the raw UPDATE with the same predicate, the undo of a
// 100,000-user deactivation against the deactivation, an access plan of a
// 10,000-user file, and the plans of the selector pages (no sequential
// scan of rbac_user).
func init() {
	register(Scenario{Order: 32, Name: "deactivate by selector", Run: benchSelectorDeactivate})
	register(Scenario{Order: 34, Name: "undo deactivation", Run: benchUndo})
	register(Scenario{Order: 36, Name: "access plan", Run: benchAccessPlan})
	register(Scenario{Order: 38, Name: "selector plans", Run: benchSelectorPlans})
}

// dormantCutoff is a last-login time before which about a tenth of the
// users last logged in.
func dormantCutoff(ctx context.Context, conn *pgx.Conn) (string, int64, error) {
	var cutoff time.Time
	var n int64
	err := conn.QueryRow(ctx, `SELECT percentile_disc(0.1) WITHIN GROUP (ORDER BY last_login) FROM rbac_user WHERE last_login IS NOT NULL`).Scan(&cutoff)
	if err != nil {
		return "", 0, err
	}
	err = conn.QueryRow(ctx, `SELECT count(*) FROM rbac_user WHERE last_login < $1 AND is_active`, cutoff).Scan(&n)
	return cutoff.UTC().Format(time.RFC3339), n, err
}

// restoreActive brings the bench's deactivations back: the users active,
// their tokens un-blacklisted, their sessions restored, its runs and log
// rows gone, the tables vacuumed.
type restorer struct {
	conn *pgx.Conn
}

func newRestorer(ctx context.Context, conn *pgx.Conn) (*restorer, error) {
	for _, q := range []string{
		`DROP TABLE IF EXISTS bench_e_active, bench_e_sessions, bench_e_blacklist`,
		`CREATE TABLE bench_e_active AS SELECT id FROM rbac_user WHERE is_active`,
		`CREATE TABLE bench_e_sessions AS SELECT * FROM django_session`,
		`CREATE TABLE bench_e_blacklist AS SELECT id FROM token_blacklist_blacklistedtoken`,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			return nil, err
		}
	}
	return &restorer{conn: conn}, nil
}

func (r *restorer) restore(ctx context.Context) error {
	for _, q := range []string{
		`UPDATE rbac_user u SET is_active = true FROM bench_e_active a WHERE u.id = a.id AND NOT u.is_active`,
		`DELETE FROM token_blacklist_blacklistedtoken WHERE id NOT IN (SELECT id FROM bench_e_blacklist)`,
		`INSERT INTO django_session SELECT * FROM bench_e_sessions ON CONFLICT DO NOTHING`,
		`DELETE FROM api_operationlog WHERE reason LIKE 'bench-e%'`,
		`DELETE FROM api_operationrun r WHERE NOT EXISTS (SELECT 1 FROM api_operationlog l WHERE l.run_id = r.id)`,
		`VACUUM ANALYZE rbac_user, api_operationlog, api_operationrun, django_session, token_blacklist_blacklistedtoken`,
	} {
		if _, err := r.conn.Exec(ctx, q); err != nil {
			return fmt.Errorf("restore: %w", err)
		}
	}
	return nil
}

func (r *restorer) drop() {
	_, _ = r.conn.Exec(context.Background(), `DROP TABLE IF EXISTS bench_e_active, bench_e_sessions, bench_e_blacklist`)
}

var runOnStderr = regexp.MustCompile(`run ([0-9a-f-]{36}): `)

func benchSelectorDeactivate(ctx context.Context, e *Env) ([]Row, error) {
	conn, err := pgx.Connect(ctx, e.DSN)
	if err != nil {
		return nil, err
	}
	defer conn.Close(ctx)
	cutoff, n, err := dormantCutoff(ctx, conn)
	if err != nil {
		return nil, err
	}
	r, err := newRestorer(ctx, conn)
	if err != nil {
		return nil, err
	}
	defer r.drop()
	raw := fmt.Sprintf("UPDATE rbac_user SET is_active = false WHERE last_login < '%s' AND is_active;\n", cutoff)
	var tool, psql []time.Duration
	for i := 0; i < e.Runs; i++ {
		if err := r.restore(ctx); err != nil {
			return nil, err
		}
		m, err := RunProcess("", nil, e.Bin, "--dsn", e.DSN, "users", "deactivate", "--last-login-before", cutoff, "--active",
			"--yes", "--reason", "bench-e selector")
		if err != nil {
			return nil, err
		}
		tool = append(tool, m.Wall)
		if err := r.restore(ctx); err != nil {
			return nil, err
		}
		if m, err = RunProcess(raw, nil, e.Psql, e.DSN, "-q", "-X", "-v", "ON_ERROR_STOP=1", "-f", "-"); err != nil {
			return nil, err
		}
		psql = append(psql, m.Wall)
	}
	return []Row{{Name: fmt.Sprintf("deactivate %d users by selector (psql: same UPDATE)", n), Tool: medianWall(tool), Psql: medianWall(psql),
		Target: "≤ 1.2×", Extra: "complete log rows, tokens and sessions"}}, r.restore(ctx)
}

// benchUndo times the undo of a 100,000-user deactivation (tokens
// restored) against the deactivation itself, run after run.
func benchUndo(ctx context.Context, e *Env) ([]Row, error) {
	conn, err := pgx.Connect(ctx, e.DSN)
	if err != nil {
		return nil, err
	}
	defer conn.Close(ctx)
	n := min(100_000, e.Users/2)
	rows, err := conn.Query(ctx, `SELECT id FROM rbac_user WHERE is_active ORDER BY id LIMIT $1`, n)
	if err != nil {
		return nil, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, err
	}
	var stdin strings.Builder
	for _, id := range ids {
		fmt.Fprintln(&stdin, id)
	}
	r, err := newRestorer(ctx, conn)
	if err != nil {
		return nil, err
	}
	defer r.drop()
	var deact, undo []time.Duration
	for i := 0; i < e.Runs; i++ {
		if err := r.restore(ctx); err != nil {
			return nil, err
		}
		var errOut bytes.Buffer
		m, err := RunProcessErr(stdin.String(), nil, &errOut, e.Bin, "--dsn", e.DSN, "users", "deactivate", "-", "--yes", "--reason", "bench-e undo")
		if err != nil {
			return nil, err
		}
		deact = append(deact, m.Wall)
		run := runOnStderr.FindStringSubmatch(errOut.String())
		if run == nil {
			return nil, fmt.Errorf("the deactivation named no run: %s", errOut.String())
		}
		if _, err := conn.Exec(ctx, `VACUUM ANALYZE rbac_user, api_operationlog`); err != nil {
			return nil, err
		}
		if m, err = RunProcess("", nil, e.Bin, "--dsn", e.DSN, "undo", run[1], "--yes", "--restore-tokens", "--reason", "bench-e undo"); err != nil {
			return nil, err
		}
		undo = append(undo, m.Wall)
		var inactive int64
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM rbac_user WHERE id = ANY($1) AND NOT is_active`, ids).Scan(&inactive); err != nil || inactive != 0 {
			return nil, fmt.Errorf("after undo %d users still inactive (%v)", inactive, err)
		}
	}
	return []Row{{Name: fmt.Sprintf("undo of a %d-user deactivation (vs: the deactivation)", len(ids)), Tool: medianWall(undo), Psql: medianWall(deact),
		Target: "≤ 2×", Extra: "tokens restored; ratio = undo / deactivation"}}, r.restore(ctx)
}

// benchAccessPlan exports the access of 10,000 users and times the plan of
// the file with one permission changed on 100 of them.
func benchAccessPlan(ctx context.Context, e *Env) ([]Row, error) {
	conn, err := pgx.Connect(ctx, e.DSN)
	if err != nil {
		return nil, err
	}
	defer conn.Close(ctx)
	var from, to time.Time
	if err := conn.QueryRow(ctx, `SELECT min(date_joined), (SELECT date_joined FROM rbac_user ORDER BY date_joined, id OFFSET 9999 LIMIT 1) FROM rbac_user`).Scan(&from, &to); err != nil {
		return nil, err
	}
	var file bytes.Buffer
	if _, err := RunProcess("", &file, e.Bin, "--dsn", e.DSN, "access", "export", "--registered-to", to.UTC().Format(time.RFC3339)); err != nil {
		return nil, err
	}
	// Give every hundredth user one more permission: 100 changes to plan.
	lines := strings.Split(file.String(), "\n")
	changed, users := 0, 0
	for i, l := range lines {
		if strings.HasPrefix(l, "    permissions: ") {
			users++
			if users%100 == 0 && !strings.Contains(l, "api.view_transfer") {
				lines[i] = strings.Replace(l, "permissions: [", "permissions: [api.view_transfer, ", 1)
				lines[i] = strings.Replace(lines[i], ", ]", "]", 1)
				changed++
			}
		}
	}
	path := filepath.Join(e.Dir, "bench-access.yaml")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		return nil, err
	}
	var walls []time.Duration
	for i := 0; i < e.Runs; i++ {
		var out bytes.Buffer
		m, err := RunProcessExit(5, "", &out, e.Bin, "--dsn", e.DSN, "access", "plan", "-f", path, "-o", "json")
		if err != nil {
			return nil, err
		}
		var rows []map[string]any
		if err := json.Unmarshal(out.Bytes(), &rows); err != nil || len(rows) != changed {
			return nil, fmt.Errorf("access plan: %d change rows for %d changed users (%v)", len(rows), changed, err)
		}
		walls = append(walls, m.Wall)
	}
	return []Row{{Name: fmt.Sprintf("access plan of a %d-user file (%d changes)", users, changed), Tool: medianWall(walls), Target: "≤ 2 s"}}, nil
}

// benchSelectorPlans prints the plan nodes of the selector pages: each
// must read rbac_user through an index, never a sequential scan.
func benchSelectorPlans(ctx context.Context, e *Env) ([]Row, error) {
	conn, err := pgx.Connect(ctx, e.DSN)
	if err != nil {
		return nil, err
	}
	defer conn.Close(ctx)
	var out []Row
	for _, args := range [][]string{
		{"--last-login-before", "180d"}, {"--2fa"}, {"--perm", "api.*"}, {"--company-owner"},
	} {
		var dbg bytes.Buffer
		full := append([]string{"--dsn", e.DSN, "--debug", "users", "list", "--limit", "50", "-o", "ids"}, args...)
		m, err := RunProcessErr("", nil, &dbg, e.Bin, full...)
		if err != nil {
			return nil, err
		}
		sql := debugSQL(dbg.String(), "FROM rbac_user u")
		if sql == "" {
			return nil, fmt.Errorf("users list %v: no query in --debug output", args)
		}
		nodes, seq, err := planNodes(ctx, conn, sql, args)
		if err != nil {
			return nil, err
		}
		verdict := "index-backed"
		if seq {
			verdict = "SEQ SCAN of rbac_user"
		}
		out = append(out, Row{Name: "page: users list " + strings.Join(args, " "), Tool: m.Wall, Target: "no seq scan",
			Extra: verdict + ": " + strings.Join(nodes, ", ")})
	}
	return out, nil
}

// debugSQL picks the statement holding marker from --debug output.
func debugSQL(debug, marker string) string {
	for _, l := range strings.Split(debug, "\n") {
		if i := strings.Index(l, "b2badmin: debug: "); i >= 0 && strings.Contains(l, marker) {
			s := l[i+len("b2badmin: debug: "):]
			if j := strings.LastIndex(s, "  ["); j > 0 {
				s = s[:j]
			}
			return s
		}
	}
	return ""
}

// planNodes EXPLAINs the list's query with its arguments rebuilt the way
// the tool builds them and returns the plan's node types.
func planNodes(ctx context.Context, conn *pgx.Conn, sql string, args []string) ([]string, bool, error) {
	// The page's parameters: what the flags become (see client/users_list.go).
	var params []any
	switch args[0] {
	case "--last-login-before":
		params = []any{time.Now().Add(-180 * 24 * time.Hour)}
	case "--perm":
		rows, err := conn.Query(ctx, `SELECT ct.app_label || '.' || p.codename FROM auth_permission p JOIN django_content_type ct ON ct.id = p.content_type_id WHERE ct.app_label = 'api'`)
		if err != nil {
			return nil, false, err
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return nil, false, err
		}
		params = []any{ids}
	case "--company-owner":
		params = []any{true}
	}
	params = append(params, int64(51))
	rows, err := conn.Query(ctx, "EXPLAIN (FORMAT JSON) "+sql, params...)
	if err != nil {
		return nil, false, fmt.Errorf("EXPLAIN %s: %w", sql, err)
	}
	plans, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(plans) == 0 {
		return nil, false, err
	}
	var doc []struct {
		Plan map[string]any `json:"Plan"`
	}
	if err := json.Unmarshal([]byte(plans[0]), &doc); err != nil || len(doc) == 0 {
		return nil, false, fmt.Errorf("EXPLAIN JSON: %v", err)
	}
	var nodes []string
	seq := false
	var walk func(n map[string]any)
	walk = func(n map[string]any) {
		t, _ := n["Node Type"].(string)
		rel, _ := n["Relation Name"].(string)
		if rel != "" {
			t += " on " + rel
		}
		nodes = append(nodes, t)
		seq = seq || (n["Node Type"] == "Seq Scan" && rel == "rbac_user")
		if kids, ok := n["Plans"].([]any); ok {
			for _, k := range kids {
				if m, ok := k.(map[string]any); ok {
					walk(m)
				}
			}
		}
	}
	walk(doc[0].Plan)
	return nodes, seq, nil
}

// RunProcessErr is RunProcess that also keeps the process's stderr.
func RunProcessErr(stdin string, out, errOut io.Writer, name string, args ...string) (Measurement, error) {
	return runProcess(0, stdin, out, errOut, name, args...)
}

// RunProcessExit is RunProcess for a process that must exit with code.
func RunProcessExit(code int, stdin string, out io.Writer, name string, args ...string) (Measurement, error) {
	return runProcess(code, stdin, out, nil, name, args...)
}
