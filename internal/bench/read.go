package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/b2badmin/b2badmin/client"
)

// The read side (issue 3): a filtered page and the full CSV export, each
// against psql running the SQL a DBA would write for the same columns.
func init() {
	register(Scenario{Order: 10, Name: "users list: filtered page", Run: benchFilteredPage})
	register(Scenario{Order: 11, Name: "users list: CSV export", Run: benchCSVExport})
	register(Scenario{Order: 12, Name: "users list: deep page", Run: benchDeepPage})
}

// exportSQL is what `users list --all -o csv` runs (client/users_list.go):
// every column, memberships aggregated in one pass, hashed 2FA subplans.
const exportSQL = `SELECT u.id, u.email, trim(u.first_name || ' ' || u.last_name) AS name, u.is_active, u.type, u.date_joined,
  coalesce(gr.names, '{}') AS groups,
  u.first_name, u.last_name, u.phone, c.name AS company, u.company_id, u.uuid, u.last_login,
  (EXISTS (SELECT 1 FROM otp_totp_totpdevice d WHERE d.user_id = u.id AND d.confirmed)
   OR EXISTS (SELECT 1 FROM otp_email_emaildevice d WHERE d.user_id = u.id AND d.confirmed)) AS "2fa",
  u.language, u.communication_language, u.is_company_owner, u.is_staff, u.is_superuser
FROM rbac_user u LEFT JOIN rbac_company c ON c.id = u.company_id
LEFT JOIN (SELECT ug.user_id, array_agg(g.name ORDER BY g.name) AS names
           FROM rbac_user_groups ug JOIN auth_group g ON g.id = ug.group_id
           GROUP BY ug.user_id) gr ON gr.user_id = u.id
ORDER BY u.id`

// pageSelect is what a filtered page runs: per-row lookups for groups and
// 2FA, which on 50 rows beat any whole-table pass.
const pageSelect = `SELECT u.id, u.email, trim(u.first_name || ' ' || u.last_name) AS name, u.is_active, u.type, u.date_joined,
  ARRAY(SELECT (SELECT g.name FROM auth_group g WHERE g.id = ug.group_id) FROM rbac_user_groups ug WHERE ug.user_id = u.id ORDER BY 1) AS groups,
  u.first_name, u.last_name, u.phone, c.name AS company, u.company_id, u.uuid, u.last_login,
  (coalesce((SELECT true FROM otp_totp_totpdevice d WHERE d.user_id = u.id AND d.confirmed LIMIT 1), false)
   OR coalesce((SELECT true FROM otp_email_emaildevice d WHERE d.user_id = u.id AND d.confirmed LIMIT 1), false)) AS "2fa",
  u.language, u.communication_language, u.is_company_owner, u.is_staff, u.is_superuser
FROM rbac_user u LEFT JOIN rbac_company c ON c.id = u.company_id`

// pageRange picks a registration window in the middle of the seeded data,
// so that the page has its 50 rows and more.
func pageRange(ctx context.Context, dsn string) (from, to string, err error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return "", "", err
	}
	defer conn.Close(ctx)
	var lo, hi time.Time
	if err := conn.QueryRow(ctx, `SELECT min(date_joined), max(date_joined) FROM rbac_user`).Scan(&lo, &hi); err != nil {
		return "", "", err
	}
	span := hi.Sub(lo)
	return lo.Add(span / 4).UTC().Format("2006-01-02"), lo.Add(span * 3 / 4).UTC().Format("2006-01-02"), nil
}

// pairedMedians alternates the two commands run by run, so that a change
// in machine load (other work on a shared box) hits both alike, and
// returns each one's median wall time and largest peak RSS.
func pairedMedians(n int, a, b func() (Measurement, error)) (ma, mb time.Duration, peakA, peakB int64, err error) {
	var wa, wb []time.Duration
	for i := 0; i < n; i++ {
		for _, s := range []struct {
			fn    func() (Measurement, error)
			walls *[]time.Duration
			peak  *int64
		}{{a, &wa, &peakA}, {b, &wb, &peakB}} {
			m, err := s.fn()
			if err != nil {
				return 0, 0, 0, 0, err
			}
			*s.walls = append(*s.walls, m.Wall)
			if m.PeakRSS > *s.peak {
				*s.peak = m.PeakRSS
			}
		}
	}
	med := func(w []time.Duration) time.Duration {
		sort.Slice(w, func(i, j int) bool { return w[i] < w[j] })
		return w[len(w)/2]
	}
	return med(wa), med(wb), peakA, peakB, nil
}

func nextDay(d string) string {
	t, _ := time.Parse("2006-01-02", d)
	return t.AddDate(0, 0, 1).Format("2006-01-02")
}

func benchFilteredPage(ctx context.Context, e *Env) ([]Row, error) {
	from, to, err := pageRange(ctx, e.DSN)
	if err != nil {
		return nil, err
	}
	tool := []string{"--dsn", e.DSN, "users", "list", "--group", "Merchant owner", "--active",
		"--registered-from", from, "--registered-to", to, "--limit", "50", "-o", "csv"}
	sql := pageSelect + fmt.Sprintf(`
WHERE u.id IN (SELECT ug.user_id FROM rbac_user_groups ug WHERE ug.group_id = ANY(ARRAY(SELECT id FROM auth_group WHERE name = 'Merchant owner')))
  AND u.is_active AND u.date_joined >= '%sT00:00:00Z' AND u.date_joined < '%sT00:00:00Z'
ORDER BY u.id LIMIT 50`, from, nextDay(to))
	psql := []string{e.DSN, "-X", "-q", "--csv", "-c", sql}
	// Both must print the same 50 rows (plus a header).
	var a, b lineCounter
	if _, err := RunProcess("", &a, e.Bin, tool...); err != nil {
		return nil, err
	}
	if _, err := RunProcess("", &b, e.Psql, psql...); err != nil {
		return nil, err
	}
	if int64(a) != 51 || int64(b) != 51 {
		return nil, fmt.Errorf("filtered page: b2badmin printed %d lines, psql %d; want 51 each", int64(a), int64(b))
	}
	toolMed, psqlMed, _, _, err := pairedMedians(e.Runs,
		func() (Measurement, error) { return RunProcess("", nil, e.Bin, tool...) },
		func() (Measurement, error) { return RunProcess("", nil, e.Psql, psql...) })
	if err != nil {
		return nil, err
	}
	return []Row{{Name: "filtered page (group+active+dates, 50 rows, csv)", Tool: toolMed, Psql: psqlMed, Target: "≤ 1.3×",
		Extra: fmt.Sprintf("registered %s..%s", from, to)}}, nil
}

func benchCSVExport(ctx context.Context, e *Env) ([]Row, error) {
	tool := []string{"--dsn", e.DSN, "users", "list", "--all", "-o", "csv"}
	psql := []string{e.DSN, "-X", "-q", "-c", `\copy (` + exportSQL + `) TO STDOUT CSV HEADER`}
	var lines lineCounter
	if _, err := RunProcess("", &lines, e.Bin, tool...); err != nil {
		return nil, err
	}
	if int64(lines) < int64(e.Users)+1 {
		return nil, fmt.Errorf("CSV export printed %d lines for %d users", int64(lines), e.Users)
	}
	toolMed, psqlMed, peak, psqlPeak, err := pairedMedians(e.Runs,
		func() (Measurement, error) { return RunProcess("", io.Discard, e.Bin, tool...) },
		func() (Measurement, error) { return RunProcess("", io.Discard, e.Psql, psql...) })
	if err != nil {
		return nil, err
	}
	return []Row{{Name: "CSV export, all users with company and groups", Tool: toolMed, Psql: psqlMed, Target: "≤ 0.8×",
		Extra: fmt.Sprintf("b2badmin peak RSS %s (target ≤ 64 MiB), psql %s", MiB(peak), MiB(psqlPeak))}}, nil
}

// benchDeepPage shows keyset pagination at work: page 10,000 (50 rows a
// page) costs what page 1 costs, for the primary key and for an
// expression sort. The cursor is built from the row just before that page.
func benchDeepPage(ctx context.Context, e *Env) ([]Row, error) {
	conn, err := pgx.Connect(ctx, e.DSN)
	if err != nil {
		return nil, err
	}
	defer conn.Close(ctx)
	depth := 9_999 * 50
	if depth >= e.Users {
		depth = e.Users / 2
	}
	var rows []Row
	for _, s := range []struct{ key, expr string }{{"id", "u.id"}, {"last_name", "lower(u.last_name)"}} {
		var c client.Cursor
		c.Key = s.key
		q := fmt.Sprintf(`SELECT (%s)::text, u.id FROM rbac_user u ORDER BY %s, u.id OFFSET %d LIMIT 1`, s.expr, s.expr, depth-1)
		if err := conn.QueryRow(ctx, q).Scan(&c.Value, &c.ID); err != nil {
			return nil, err
		}
		base := []string{"--dsn", e.DSN, "users", "list", "--sort", s.key, "--limit", "50", "-o", "csv"}
		first, _, err := Median(e.Runs, func() (Measurement, error) { return RunProcess("", nil, e.Bin, base...) })
		if err != nil {
			return nil, err
		}
		deep, _, err := Median(e.Runs, func() (Measurement, error) {
			return RunProcess("", nil, e.Bin, append(base, "--after", c.String())...)
		})
		if err != nil {
			return nil, err
		}
		rows = append(rows, Row{Name: fmt.Sprintf("page %d vs page 1, --sort %s", depth/50+1, s.key), Tool: deep, Psql: 0,
			Target: "≈ 1×", Extra: fmt.Sprintf("page 1: %s, ratio %.2f×", first.Round(100*time.Microsecond), float64(deep)/float64(first))})
	}
	return rows, nil
}
