// Command bench is `make bench`: it seeds a throwaway PostgreSQL with
// 1,000,000 users and times b2badmin against psql on the same data, both
// as whole processes, printing medians and ratios against the SPEC §7
// targets. Scenarios live one per file and register themselves.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/b2badmin/b2badmin/internal/pgtest"
)

// Env is what every scenario gets: a seeded database and the two tools.
type Env struct {
	DSN   string // TCP DSN of the seeded database
	Bin   string // the b2badmin binary
	Psql  string // psql from the same PostgreSQL installation
	Users int
	Runs  int
	Dir   string // scratch space
}

// Row is one line of the report.
type Row struct {
	Name   string
	Tool   time.Duration // median wall time of b2badmin
	Psql   time.Duration // median wall time of the psql equivalent (0 = none)
	Target string        // e.g. "≤ 1.3×"
	Extra  string        // e.g. peak RSS
}

// Scenario is one measurement.
type Scenario struct {
	Order int
	Name  string
	Run   func(ctx context.Context, e *Env) ([]Row, error)
}

var scenarios []Scenario

func register(s Scenario) { scenarios = append(scenarios, s) }

func main() {
	users := flag.Int("users", 1_000_000, "users to seed")
	runs := flag.Int("runs", 5, "repetitions per measurement (median reported)")
	only := flag.String("only", "", "run only scenarios whose name contains one of these (comma-separated)")
	bin := flag.String("bin", "bin/b2badmin", "b2badmin binary")
	flag.Parse()
	if err := run(*users, *runs, *only, *bin); err != nil {
		fmt.Fprintln(os.Stderr, "bench: "+err.Error())
		os.Exit(1)
	}
}

func run(users, runs int, only, bin string) error {
	ctx := context.Background()
	absBin, _ := filepath.Abs(bin)
	// Bulk-loading settings for this throwaway cluster (no standby): with
	// wal_level = minimal the seed, which truncates its tables in its own
	// transaction, writes no WAL for the COPYs and index builds — half the
	// disk traffic at 10,000,000 users. The scenarios run on it alike for
	// b2badmin and psql.
	srv, err := pgtest.Start("", "wal_level=minimal", "max_wal_senders=0")
	if err != nil {
		return err
	}
	defer srv.Stop()
	conn, err := pgx.Connect(ctx, srv.DSN("postgres"))
	if err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE bench"); err != nil {
		return err
	}
	conn.Close(ctx)
	e := &Env{DSN: srv.DSN("bench"), Bin: absBin, Psql: filepath.Join(srv.BinDir, "psql"), Users: users, Runs: runs, Dir: srv.Dir}
	if _, err := os.Stat(e.Psql); err != nil {
		if p, err := exec.LookPath("psql"); err == nil {
			e.Psql = p
		}
	}
	if out, err := exec.Command(e.Bin, "--dsn", e.DSN, "db", "migrate").CombinedOutput(); err != nil {
		return fmt.Errorf("migrate: %v\n%s", err, out)
	}
	fmt.Fprintf(os.Stderr, "bench: seeding %d users (load %s)…\n", users, loadAverage())
	seed, err := RunProcess("", nil, e.Bin, "--dsn", e.DSN, "db", "seed", "--users", fmt.Sprint(users), "--seed", "1")
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	if out, err := exec.Command(e.Psql, e.DSN, "-qc", "VACUUM ANALYZE").CombinedOutput(); err != nil {
		return fmt.Errorf("vacuum: %v\n%s", err, out)
	}
	// SPEC §7: 1,000,000 users in 60 s, 10,000,000 in 5 minutes; linear
	// in between.
	target := "≤ 60 s"
	if users > 1_000_000 {
		target = fmt.Sprintf("≤ %.0f s", 60+float64(users-1_000_000)*240/9_000_000)
	}
	rows := []Row{{Name: fmt.Sprintf("db seed --users %d", users), Tool: seed.Wall, Target: target,
		Extra: fmt.Sprintf("peak RSS %s; database %s", MiB(seed.PeakRSS), dbSize(ctx, e.DSN))}}
	fmt.Fprintf(os.Stderr, "bench: = %s: %s; %s (load %s)\n", rows[0].Name, seed.Wall.Round(time.Millisecond), rows[0].Extra, loadAverage())
	sort.SliceStable(scenarios, func(i, j int) bool { return scenarios[i].Order < scenarios[j].Order })
	for _, s := range scenarios {
		if only != "" && !containsAny(s.Name, strings.Split(only, ",")) {
			continue
		}
		fmt.Fprintf(os.Stderr, "bench: %s… (load %s)\n", s.Name, loadAverage())
		r, err := s.Run(ctx, e)
		if err != nil {
			return fmt.Errorf("%s: %w", s.Name, err)
		}
		rows = append(rows, r...)
		// Each result as soon as it is known: a 10,000,000-user run takes
		// an hour, and an interrupted one should not lose what it measured.
		for _, row := range r {
			fmt.Fprintf(os.Stderr, "bench: = %s: b2badmin %s, psql %s; %s (load %s)\n", row.Name,
				row.Tool.Round(100*time.Microsecond), row.Psql.Round(100*time.Microsecond), row.Extra, loadAverage())
		}
	}
	printReport(os.Stdout, users, runs, rows)
	return nil
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, strings.TrimSpace(sub)) {
			return true
		}
	}
	return false
}

// loadAverage is the machine's 1/5/15-minute load, printed with every
// number: the 2 cores are shared with other engineers' test runs.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func dbSize(ctx context.Context, dsn string) string {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return "?"
	}
	defer conn.Close(ctx)
	var s string
	_ = conn.QueryRow(ctx, `SELECT pg_size_pretty(pg_database_size(current_database()))`).Scan(&s)
	return s
}

func printReport(w *os.File, users, runs int, rows []Row) {
	fmt.Fprintf(w, "\nb2badmin vs psql on %d users (median of %d runs, whole processes; load at the end %s)\n\n", users, runs, loadAverage())
	fmt.Fprintf(w, "%-52s %12s %12s %8s %8s  %s\n", "scenario", "b2badmin", "psql", "ratio", "target", "notes")
	for _, r := range rows {
		ps, ratio := "-", "-"
		if r.Psql > 0 {
			ps = r.Psql.Round(100 * time.Microsecond).String()
			ratio = fmt.Sprintf("%.2f×", float64(r.Tool)/float64(r.Psql))
		}
		fmt.Fprintf(w, "%-52s %12s %12s %8s %8s  %s\n", r.Name, r.Tool.Round(100*time.Microsecond), ps, ratio, r.Target, r.Extra)
	}
}
