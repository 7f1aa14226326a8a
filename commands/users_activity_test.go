package commands

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/b2badmin/b2badmin/internal/fixture"
	"github.com/b2badmin/b2badmin/internal/pgtest"
)

func TestUsersSessions(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	db := fixture.Conn(t, dsn)
	id := fixture.AddUser(t, db, fixture.User{Email: "s@example.com"})
	other := fixture.AddUser(t, db, fixture.User{Email: "o@example.com"})
	ctx := context.Background()
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	ins := func(uid int64, ip string, at time.Time, result, device, geo string) {
		t.Helper()
		if _, err := db.Exec(ctx, `INSERT INTO rbac_authlog (user_id, ip, created_at, result, device_type, geolocation)
            VALUES ($1, $2, $3, $4, $5, $6)`, uid, ip, at, result, device, geo); err != nil {
			t.Fatal(err)
		}
	}
	ins(id, "10.0.0.1", base, "success", "desktop", "Berlin, DE")
	ins(id, "10.0.0.2", base.Add(48*time.Hour), "failure", "mobile", "Paris, FR")
	ins(id, "2001:db8::1", base.Add(96*time.Hour), "success", "mobile", "Lisbon, PT")
	ins(id, "10.0.0.4", base.Add(-48*time.Hour), "failure", "api", "")
	ins(other, "10.9.9.9", base, "success", "desktop", "Oslo, NO")

	type sess struct {
		ID          int64  `json:"id"`
		UserID      int64  `json:"user_id"`
		IP          string `json:"ip"`
		Time        string `json:"time"`
		Result      string `json:"result"`
		DeviceType  string `json:"device_type"`
		Geolocation string `json:"geolocation"`
	}
	list := func(args ...string) []sess {
		t.Helper()
		r := mustRun(t, dsn, append([]string{"users", "sessions", "s@example.com", "-o", "json"}, args...)...)
		var out []sess
		if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil {
			t.Fatalf("%v: %s", err, r.Stdout)
		}
		return out
	}
	all := list()
	if len(all) != 4 || all[0].IP != "2001:db8::1" || all[0].Time != "2026-03-05T12:00:00Z" || all[3].IP != "10.0.0.4" {
		t.Fatalf("not newest first or wrong rows: %+v", all)
	}
	if all[1].Result != "failure" || all[1].DeviceType != "mobile" || all[1].Geolocation != "Paris, FR" || all[1].UserID != id {
		t.Fatalf("row fields: %+v", all[1])
	}
	if got := list("--since", "2026-03-01"); len(got) != 3 {
		t.Fatalf("--since date: %d rows", len(got))
	}
	if got := list("--since", "2026-03-03T12:00:00Z"); len(got) != 2 || got[1].IP != "10.0.0.2" {
		t.Fatalf("--since RFC 3339 (inclusive): %+v", got)
	}
	if got := list("--result", "failure"); len(got) != 2 || got[0].IP != "10.0.0.2" || got[1].IP != "10.0.0.4" {
		t.Fatalf("--result failure: %+v", got)
	}
	if got := list("--limit", "2"); len(got) != 2 || got[1].IP != "10.0.0.2" {
		t.Fatalf("--limit 2: %+v", got)
	}
	// CSV: header = JSON keys, same rows.
	r := mustRun(t, dsn, "users", "sessions", "s@example.com", "-o", "csv", "--limit", "0")
	recs, err := csv.NewReader(strings.NewReader(r.Stdout)).ReadAll()
	if err != nil || len(recs) != 5 || strings.Join(recs[0], ",") != "id,user_id,ip,time,result,device_type,geolocation" || recs[1][2] != "2001:db8::1" {
		t.Fatalf("csv: %v %v", recs, err)
	}
	for _, bad := range [][]string{{"--since", "yesterday"}, {"--result", "maybe"}, {"--limit", "-1"}} {
		assertOneLineError(t, runCLI(t, dsn, append([]string{"users", "sessions", "s@example.com"}, bad...)...), ExitUsage)
	}
	assertOneLineError(t, runCLI(t, dsn, "users", "sessions", "ghost@example.com"), ExitNotFound)
}

func TestUsersTokensMasked(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	db := fixture.Conn(t, dsn)
	id := fixture.AddUser(t, db, fixture.User{Email: "t@example.com", Phone: "+35799000000"})
	ctx := context.Background()
	tokens := []struct {
		at          time.Time
		dest, token string
		status      string
	}{
		{time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC), "t@example.com", "918273", "used"},
		{time.Date(2026, 4, 2, 9, 0, 0, 0, time.UTC), "+35799000000", "A1B2C3D4E5F6", "expired"},
		{time.Date(2026, 4, 3, 9, 0, 0, 0, time.UTC), "t@example.com", "7788", "sent"},
	}
	for _, tk := range tokens {
		if _, err := db.Exec(ctx, `INSERT INTO rbac_authtoken (user_id, sent_at, destination, token, status_id)
            SELECT $1, $2, $3, $4, id FROM rbac_tokenstatus WHERE name = $5`, id, tk.at, tk.dest, tk.token, tk.status); err != nil {
			t.Fatal(err)
		}
	}
	for _, format := range []string{"table", "json", "jsonl", "csv", "tsv"} {
		r := mustRun(t, dsn, "users", "tokens", "t@example.com", "-o", format)
		for _, tk := range tokens {
			if strings.Contains(r.Stdout, tk.token) || strings.Contains(r.Stderr, tk.token) {
				t.Fatalf("-o %s shows token %q without --reveal:\n%s", format, tk.token, r.Stdout)
			}
		}
	}
	type tok struct {
		SentAt      string `json:"sent_at"`
		Destination string `json:"destination"`
		Token       string `json:"token"`
		Status      string `json:"status"`
	}
	parse := func(args ...string) []tok {
		t.Helper()
		r := mustRun(t, dsn, append([]string{"users", "tokens", "t@example.com", "-o", "json"}, args...)...)
		var out []tok
		if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	got := parse()
	want := []tok{
		{"2026-04-03T09:00:00Z", "t@example.com", "••••", "sent"},
		{"2026-04-02T09:00:00Z", "+35799000000", "••••E5F6", "expired"},
		{"2026-04-01T09:00:00Z", "t@example.com", "••••", "used"},
	}
	if len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("tokens\n got %+v\nwant %+v", got, want)
	}
	rev := parse("--reveal", "--status", "expired")
	if len(rev) != 1 || rev[0].Token != "A1B2C3D4E5F6" {
		t.Fatalf("--reveal --status expired: %+v", rev)
	}
	if got := parse("--since", "2026-04-02", "--limit", "1"); len(got) != 1 || got[0].Status != "sent" {
		t.Fatalf("--since --limit: %+v", got)
	}
	assertOneLineError(t, runCLI(t, dsn, "users", "tokens", "t@example.com", "--status", "bogus"), ExitUsage)
}
