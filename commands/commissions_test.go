package commands

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/b2badmin/b2badmin/client"
	"github.com/b2badmin/b2badmin/internal/fixture"
	"github.com/b2badmin/b2badmin/internal/pgtest"
)

// sqlSum is the reference: SUM(amount_usd) over the company's transfers in [from, to).
func sqlSum(t *testing.T, dsn string, company int64, from, to time.Time) string {
	t.Helper()
	var s string
	if err := fixture.Conn(t, dsn).QueryRow(context.Background(), `SELECT coalesce(sum(amount_usd), 0)::text FROM api_transfer
        WHERE company_id = $1 AND created_at >= $2 AND created_at < $3`, company, from, to).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCommissionsTurnoverAtMonthBoundaries(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	db := fixture.Conn(t, dsn)
	ctx := context.Background()
	uid := fixture.AddUser(t, db, fixture.User{Email: "m@example.com", Company: "Acme", Type: "merchant"})
	fixture.AddUser(t, db, fixture.User{Email: "other@example.com", Company: "Other"})
	fixture.AddUser(t, db, fixture.User{Email: "solo@example.com"})
	var acme, otherCo int64
	db.QueryRow(ctx, `SELECT id FROM rbac_company WHERE name = 'Acme'`).Scan(&acme)
	db.QueryRow(ctx, `SELECT id FROM rbac_company WHERE name = 'Other'`).Scan(&otherCo)

	// "This month" is March 2026 (--as-of); the session's time zone is not UTC, to prove month edges are UTC.
	var dbname string
	db.QueryRow(ctx, `SELECT current_database()`).Scan(&dbname)
	if _, err := db.Exec(ctx, `ALTER DATABASE `+pgx.Identifier{dbname}.Sanitize()+` SET timezone = 'Asia/Tokyo'`); err != nil {
		t.Fatal(err)
	}
	mar := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	feb, apr := mar.AddDate(0, -1, 0), mar.AddDate(0, 1, 0)
	us := time.Microsecond
	transfers := []struct {
		co     int64
		at     time.Time
		amount string
	}{
		{acme, feb.Add(-us), "1000000.00"}, // last instant of January: in neither month
		{acme, feb, "0.01"},                // first instant of February
		{acme, feb.Add(10 * 24 * time.Hour), "250.50"},
		{acme, mar.Add(-time.Second), "99.99"}, // last second of February
		{acme, mar.Add(-us), "0.02"},           // last instant of February
		{acme, mar, "10.00"},                   // first instant of March
		{acme, mar.Add(14 * 24 * time.Hour), "12345678901234.56"},
		{acme, apr.Add(-us), "0.03"},             // last instant of March
		{acme, apr, "777.00"},                    // first instant of April: not this month
		{otherCo, mar.Add(time.Hour), "5555.55"}, // another company
	}
	for _, tr := range transfers {
		if _, err := db.Exec(ctx, `INSERT INTO api_transfer (company_id, user_id, amount_usd, currency, created_at)
            VALUES ($1, $2, $3::numeric, 'USDT', $4)`, tr.co, uid, tr.amount, tr.at); err != nil {
			t.Fatal(err)
		}
	}

	r := mustRun(t, dsn, "commissions", "show", "m@example.com", "--as-of", "2026-03-20", "-o", "json")
	var s client.CommissionSummary
	if err := json.Unmarshal([]byte(r.Stdout), &s); err != nil {
		t.Fatalf("%v\n%s", err, r.Stdout)
	}
	if s.CurrentTurnover == nil || s.LastTurnover == nil || s.Company == nil || *s.Company != "Acme" {
		t.Fatalf("summary %+v", s)
	}
	// Exact figures, by hand and by SQL over the same half-open UTC ranges.
	if got, want := s.CurrentTurnover.AmountUSD, "12345678901244.59"; got != want || got != sqlSum(t, dsn, acme, mar, apr) {
		t.Fatalf("current turnover %s, want %s (SQL %s)", got, want, sqlSum(t, dsn, acme, mar, apr))
	}
	if got, want := s.LastTurnover.AmountUSD, "350.52"; got != want || got != sqlSum(t, dsn, acme, feb, mar) {
		t.Fatalf("last month turnover %s, want %s", got, want)
	}
	if s.CurrentTurnover.Transfers != 3 || s.LastTurnover.Transfers != 4 || s.CurrentTurnover.Month != "2026-03" ||
		s.LastTurnover.From != "2026-02-01T00:00:00Z" || s.LastTurnover.To != "2026-03-01T00:00:00Z" {
		t.Fatalf("turnover details: %+v %+v", s.CurrentTurnover, s.LastTurnover)
	}

	// transfers --month lists exactly the rows behind the figure, in every format.
	tr := mustRun(t, dsn, "commissions", "transfers", "m@example.com", "--month", "2026-02", "-o", "csv")
	recs, err := csv.NewReader(strings.NewReader(tr.Stdout)).ReadAll()
	if err != nil || len(recs) != 5 || strings.Join(recs[0], ",") != "id,created_at,amount_usd,currency,user_id,company_id" {
		t.Fatalf("csv: %v %v", recs, err)
	}
	sum := new(big.Rat)
	for _, rec := range recs[1:] {
		v, _ := new(big.Rat).SetString(rec[2])
		sum.Add(sum, v)
	}
	if sum.FloatString(2) != s.LastTurnover.AmountUSD {
		t.Fatalf("listed February transfers sum to %s, turnover says %s", sum.FloatString(2), s.LastTurnover.AmountUSD)
	}
	if recs[1][1] != "2026-02-01T00:00:00Z" || recs[4][1] != "2026-02-28T23:59:59Z" {
		t.Fatalf("boundary rows: first %s, last %s", recs[1][1], recs[4][1])
	}
	jr := mustRun(t, dsn, "commissions", "transfers", "m@example.com", "--month", "2026-03", "-o", "json")
	var rows []map[string]any
	if err := json.Unmarshal([]byte(jr.Stdout), &rows); err != nil || len(rows) != 3 || rows[0]["amount_usd"] != "10.00" {
		t.Fatalf("json transfers: %v %v", rows, err)
	}
	for _, bad := range []string{"2026-13", "2026-3", "march", "2026-03-01"} {
		assertOneLineError(t, runCLI(t, dsn, "commissions", "transfers", "m@example.com", "--month", bad), ExitUsage)
	}
	// Without a company: no turnover, reported, exit 0.
	solo := mustRun(t, dsn, "commissions", "show", "solo@example.com", "-o", "json")
	var ss map[string]any
	if err := json.Unmarshal([]byte(solo.Stdout), &ss); err != nil || ss["current_month_turnover"] != nil || ss["company"] != nil {
		t.Fatalf("solo: %v %v", ss, err)
	}
	// Default --as-of is now: the current UTC month against SQL.
	now := mustRun(t, dsn, "commissions", "show", "m@example.com", "-o", "json")
	var sn client.CommissionSummary
	json.Unmarshal([]byte(now.Stdout), &sn)
	cur := client.MonthOf(time.Now())
	if sn.CurrentTurnover == nil || sn.CurrentTurnover.AmountUSD != sqlSum(t, dsn, acme, cur.From, cur.To) {
		t.Fatalf("current month now: %+v", sn.CurrentTurnover)
	}
}

func TestCommissionsSet(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	db := fixture.Conn(t, dsn)
	ctx := context.Background()
	uid := fixture.AddUser(t, db, fixture.User{Email: "p@example.com"})
	empty := fixture.DumpAll(t, db)

	// Bad input: exit 4 (validation) or 2 (missing flags), nothing written.
	for _, bad := range [][]string{
		{"--operation", "deposit", "--currency", "USDT", "--percent", "101", "--fixed", "0"},
		{"--operation", "deposit", "--currency", "USDT", "--percent", "-1", "--fixed", "0"},
		{"--operation", "deposit", "--currency", "USDT", "--percent", "1.23456", "--fixed", "0"},
		{"--operation", "deposit", "--currency", "USDT", "--percent", "1", "--fixed", "-0.5"},
		{"--operation", "deposit", "--currency", "USDT", "--percent", "1", "--fixed", "1", "--min", "5", "--max", "2"},
		{"--operation", "deposit", "--currency", "US$", "--percent", "1", "--fixed", "1"},
		{"--operation", "deposit", "--currency", "USDT'; DROP TABLE rbac_user; --", "--percent", "1", "--fixed", "1"},
		{"--operation", "teleport", "--currency", "USDT", "--percent", "1", "--fixed", "1"},
		{"--operation", "deposit", "--currency", "USDT", "--percent", "1"}, // new plan needs --fixed
	} {
		r := runCLI(t, dsn, append([]string{"commissions", "set", "p@example.com"}, bad...)...)
		assertOneLineError(t, r, ExitRefused)
	}
	assertOneLineError(t, runCLI(t, dsn, "commissions", "set", "p@example.com", "--currency", "USDT"), ExitUsage)
	assertOneLineError(t, runCLI(t, dsn, "--read-only", "commissions", "set", "p@example.com", "--operation", "deposit", "--currency", "USDT", "--percent", "1", "--fixed", "1"), ExitRefused)
	dry := mustRun(t, dsn, "commissions", "set", "p@example.com", "--operation", "deposit", "--currency", "usdt", "--percent", "1.5", "--fixed", "2", "--dry-run", "-o", "json")
	if fixture.DumpAll(t, db) != empty {
		t.Fatal("bad input or dry run changed the database")
	}
	dr := parseChanges(t, dry.Stdout)
	if len(dr) != 1 || dr[0].Field != "commission_plan" || dr[0].Before != nil || dr[0].After.(map[string]any)["percent"] != "1.5000" {
		t.Fatalf("dry run change list %+v", dr)
	}

	// set returns the plan a real run's change list reports for the user.
	type plan struct {
		Operation string  `json:"operation"`
		Currency  string  `json:"currency"`
		Percent   string  `json:"percent"`
		FixedFee  string  `json:"fixed_fee"`
		MinFee    *string `json:"min_fee"`
		MaxFee    *string `json:"max_fee"`
	}
	type result struct {
		Before *plan `json:"before"`
		After  plan  `json:"after"`
	}
	set := func(args ...string) result {
		t.Helper()
		r := mustRun(t, dsn, append([]string{"commissions", "set", "p@example.com", "-o", "json"}, args...)...)
		var res []result
		if err := json.Unmarshal([]byte(r.Stdout), &res); err != nil || len(res) != 1 {
			t.Fatalf("change list %q: %v", r.Stdout, err)
		}
		return res[0]
	}
	c := set("--operation", "Deposit", "--currency", "usdt", "--percent", "1.5", "--fixed", "2", "--min", "0.5")
	if c.Before != nil || c.After.Operation != "deposit" || c.After.Currency != "USDT" || c.After.Percent != "1.5000" ||
		c.After.FixedFee != "2.00000000" || c.After.MinFee == nil || *c.After.MinFee != "0.50000000" || c.After.MaxFee != nil {
		t.Fatalf("created %+v", c)
	}
	var planID int64
	db.QueryRow(ctx, `SELECT c.id FROM commissions_commission c JOIN commissions_usercommission uc ON uc.commission_id = c.id WHERE uc.user_id = $1`, uid).Scan(&planID)
	u := set("--operation", "deposit", "--currency", "USDT", "--percent", "2", "--max", "10")
	if u.Before == nil || u.Before.Percent != "1.5000" || u.After.Percent != "2.0000" ||
		u.After.FixedFee != "2.00000000" || *u.After.MinFee != "0.50000000" || *u.After.MaxFee != "10.00000000" {
		t.Fatalf("updated %+v", u)
	}
	// A plan already as asked is no change at all.
	same := mustRun(t, dsn, "commissions", "set", "p@example.com", "--operation", "deposit", "--currency", "USDT", "--percent", "2.0", "-o", "json")
	if len(parseChanges(t, same.Stdout)) != 0 {
		t.Fatalf("unchanged plan reported as a change: %s", same.Stdout)
	}
	// min > existing max is refused on update too; --min none clears.
	assertOneLineError(t, runCLI(t, dsn, "commissions", "set", "p@example.com", "--operation", "deposit", "--currency", "USDT", "--min", "11"), ExitRefused)
	cl := set("--operation", "deposit", "--currency", "USDT", "--min", "none")
	if cl.After.MinFee != nil || cl.Before.MinFee == nil {
		t.Fatalf("cleared %+v", cl)
	}
	set("--operation", "withdrawal", "--currency", "BTC", "--percent", "0", "--fixed", "0.0001")

	// One plan per (operation, currency); show lists them.
	var n int
	db.QueryRow(ctx, `SELECT count(*) FROM commissions_usercommission WHERE user_id = $1`, uid).Scan(&n)
	if n != 2 {
		t.Fatalf("%d plans, want 2", n)
	}
	r := mustRun(t, dsn, "commissions", "show", "p@example.com", "-o", "json")
	var s client.CommissionSummary
	if err := json.Unmarshal([]byte(r.Stdout), &s); err != nil || len(s.Plans) != 2 || s.Plans[0].Operation != "deposit" || s.Plans[1].Currency != "BTC" {
		t.Fatalf("show plans: %+v %v", s.Plans, err)
	}
	// Log rows: one per change, the whole plan before and after, the
	// plan's id in the detail.
	rows, err := db.Query(ctx, `SELECT before::text, after::text, detail::text FROM api_operationlog WHERE action = 'commissions.set' AND target_user_id = $1 ORDER BY id`, uid)
	if err != nil {
		t.Fatal(err)
	}
	var logs []string
	for rows.Next() {
		var b, a, d string
		rows.Scan(&b, &a, &d)
		logs = append(logs, b+" -> "+a+" "+d)
	}
	want := []string{
		fmt.Sprintf(`{"commission_plan": null} -> {"commission_plan": {"max_fee": null, "min_fee": "0.50000000", "percent": "1.5000", "currency": "USDT", "fixed_fee": "2.00000000", "operation": "deposit"}} {"commission_id": %d}`, planID),
		fmt.Sprintf(`{"commission_plan": {"max_fee": null, "min_fee": "0.50000000", "percent": "1.5000", "currency": "USDT", "fixed_fee": "2.00000000", "operation": "deposit"}} -> {"commission_plan": {"max_fee": "10.00000000", "min_fee": "0.50000000", "percent": "2.0000", "currency": "USDT", "fixed_fee": "2.00000000", "operation": "deposit"}} {"commission_id": %d}`, planID),
	}
	if len(logs) != 4 || logs[0] != want[0] || logs[1] != want[1] {
		t.Fatalf("log rows:\n%s", strings.Join(logs, "\n"))
	}
}
