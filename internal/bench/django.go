package main

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// The last target: b2badmin against a Django ORM script doing the
// same work on the same database (django_orm.py: a 50,000-user
// deactivation in one transaction, and 5,000 single-user changes, one
// transaction each), ≥ 4× faster on both. Django comes from Debian's
// python3-django and python3-psycopg2 (`make bench` installs them when
// root); without them the scenario is skipped with a message naming them.
func init() {
	register(Scenario{Order: 70, Name: "django ORM", Run: benchDjango})
}

//go:embed django_orm.py
var djangoScript []byte

const (
	djangoDeactivate = 50_000
	djangoChanges    = 5_000
	djangoReason     = "bench-django"
)

// djangoPython finds a python3 that imports Django and psycopg2 (Debian's
// /usr/bin/python3 first: a pyenv or venv python3 on PATH often lacks them).
func djangoPython() (string, error) {
	for _, p := range []string{"/usr/bin/python3", "python3"} {
		if exec.Command(p, "-c", "import django, psycopg2").Run() == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no python3 with Django and psycopg2 (Debian: apt-get install python3-django python3-psycopg2)")
}

func benchDjango(ctx context.Context, e *Env) ([]Row, error) {
	py, err := djangoPython()
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: django ORM: skipped: %v\n", err)
		return nil, nil
	}
	version, _ := exec.Command(py, "-c", "import django; print(django.get_version())").Output()
	script := filepath.Join(e.Dir, "django_orm.py")
	if err := os.WriteFile(script, djangoScript, 0o644); err != nil {
		return nil, err
	}
	os.Setenv("BENCH_DSN", e.DSN)
	conn, err := pgx.Connect(ctx, e.DSN)
	if err != nil {
		return nil, err
	}
	defer conn.Close(ctx)
	nDeact, nChange := djangoDeactivate, djangoChanges
	if e.Users < 4*(nDeact+nChange) {
		nDeact, nChange = e.Users/8, e.Users/40
	}
	// Users of this scenario's own, past the ones the other scenarios use,
	// active, so that every run changes every one of them.
	rows, err := conn.Query(ctx, `SELECT id FROM rbac_user WHERE is_active ORDER BY id DESC OFFSET $1 LIMIT $2`,
		e.Users/4, nDeact+2*nChange)
	if err != nil {
		return nil, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, err
	}
	if len(ids) < nDeact+2*nChange {
		return nil, fmt.Errorf("django ORM: need %d active users, found %d", nDeact+2*nChange, len(ids))
	}
	deact, toolChange, djChange := ids[:nDeact], ids[nDeact:nDeact+nChange], ids[nDeact+nChange:]
	idsFile := func(name string, ids []int64) (string, string, error) {
		var b strings.Builder
		for _, id := range ids {
			b.WriteString(strconv.FormatInt(id, 10) + "\n")
		}
		path := filepath.Join(e.Dir, name)
		return path, b.String(), os.WriteFile(path, []byte(b.String()), 0o644)
	}
	deactPath, deactStdin, err := idsFile("django-deactivate.ids", deact)
	if err != nil {
		return nil, err
	}
	djChangePath, _, err := idsFile("django-update.ids", djChange)
	if err != nil {
		return nil, err
	}

	restore, _, err := snapshotRevoked(ctx, conn, "bench_dj")
	if err != nil {
		return nil, err
	}
	defer conn.Exec(context.Background(), `DROP TABLE IF EXISTS bench_dj_sessions, bench_dj_owners, bench_dj_blacklist`)
	reset := func() error {
		for _, q := range append(restore,
			`VACUUM ANALYZE rbac_user, api_operationlog, django_session, token_blacklist_blacklistedtoken`) {
			args := []any{}
			if strings.Contains(q, "$1") {
				args = append(args, deact)
			}
			if _, err := conn.Exec(ctx, q, args...); err != nil {
				return fmt.Errorf("django ORM reset: %w", err)
			}
		}
		return nil
	}
	// The Django script's own report, checked against the tool's work.
	runDjango := func(args ...string) (Measurement, map[string]int64, error) {
		var out bytes.Buffer
		m, err := RunProcess("", &out, py, append([]string{script}, args...)...)
		if err != nil {
			return m, nil, err
		}
		var got map[string]int64
		if err := json.Unmarshal(out.Bytes(), &got); err != nil {
			return m, nil, fmt.Errorf("django ORM: %q: %v", out.String(), err)
		}
		return m, got, nil
	}

	runs := min(e.Runs, 3)
	var toolDeact, djDeact, toolUpd, djUpd []time.Duration
	var note string
	for i := 0; i < runs; i++ {
		if err := reset(); err != nil {
			return nil, err
		}
		m, err := RunProcess(deactStdin, nil, e.Bin, "--dsn", e.DSN, "users", "deactivate", "-", "--yes", "--reason", djangoReason)
		if err != nil {
			return nil, err
		}
		toolDeact = append(toolDeact, m.Wall)
		var sessions, tokens int64
		if err := conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM bench_dj_sessions) - (SELECT count(*) FROM django_session),
			(SELECT count(*) FROM token_blacklist_blacklistedtoken) - (SELECT count(*) FROM bench_dj_blacklist)`).Scan(&sessions, &tokens); err != nil {
			return nil, err
		}
		if err := reset(); err != nil {
			return nil, err
		}
		m, got, err := runDjango("deactivate", deactPath)
		if err != nil {
			return nil, err
		}
		djDeact = append(djDeact, m.Wall)
		if got["users"] != int64(len(deact)) || got["sessions"] != sessions || got["tokens"] != tokens {
			return nil, fmt.Errorf("django ORM deactivation did other work: %v; b2badmin: %d users, %d sessions, %d tokens",
				got, len(deact), sessions, tokens)
		}
		note = fmt.Sprintf("%d users, %d tokens, %d sessions", len(deact), tokens, sessions)

		name := fmt.Sprintf("Dj%dr", i)
		var lines strings.Builder
		for n, id := range toolChange {
			fmt.Fprintf(&lines, "users update %d --first-name %s%d --reason %s\n", id, name, n+1, djangoReason)
		}
		batchFile := filepath.Join(e.Dir, "django-tool.txt")
		if err := os.WriteFile(batchFile, []byte(lines.String()), 0o644); err != nil {
			return nil, err
		}
		if m, err = RunProcess("", nil, e.Bin, "--dsn", e.DSN, "batch", batchFile); err != nil {
			return nil, err
		}
		toolUpd = append(toolUpd, m.Wall)
		if m, got, err = runDjango("update", djChangePath, name); err != nil {
			return nil, err
		}
		if got["users"] != int64(len(djChange)) {
			return nil, fmt.Errorf("django ORM changed %d of %d users", got["users"], len(djChange))
		}
		djUpd = append(djUpd, m.Wall)
	}
	if err := reset(); err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, `DELETE FROM api_operationlog WHERE reason = $1`, djangoReason); err != nil {
		return nil, err
	}
	faster := func(tool, dj time.Duration) string {
		return fmt.Sprintf("%.1f× faster than Django %s's ORM (target ≥ 4×)", float64(dj)/float64(tool), strings.TrimSpace(string(version)))
	}
	td, dd, tu, du := medianWall(toolDeact), medianWall(djDeact), medianWall(toolUpd), medianWall(djUpd)
	return []Row{
		{Name: fmt.Sprintf("deactivate %d users (psql column: Django ORM)", len(deact)), Tool: td, Psql: dd, Target: "≤ 0.25×",
			Extra: faster(td, dd) + "; " + note + fmt.Sprintf("; median of %d", runs)},
		{Name: fmt.Sprintf("%d single-user changes (batch; psql column: Django ORM)", len(toolChange)), Tool: tu, Psql: du, Target: "≤ 0.25×",
			Extra: faster(tu, du) + fmt.Sprintf("; one transaction each; median of %d", runs)},
	}, nil
}
