package commands

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/b2badmin/b2badmin/client"
	"github.com/b2badmin/b2badmin/internal/fixture"
	"github.com/b2badmin/b2badmin/internal/pgtest"
)

// Secrets planted in the database; no output of any read command may
// contain them.
const (
	knownHash     = "pbkdf2_sha256$1000000$seasalt$r1uLUxoxpP2Ued/qxvmje7UH9PUJBkRrvf9gGPL7Cps="
	knownTOTPKey  = "3132333435363738393031323334353637383930"
	knownTOTPB32  = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
	knownEmailOTP = "774411"
	sentToken     = "tok-SECRET-98765"
)

func mustExec(t *testing.T, conn *pgx.Conn, sql string, args ...any) {
	t.Helper()
	if _, err := conn.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// showFixture makes one user with every section filled, and returns its id.
func showFixture(t *testing.T, conn *pgx.Conn, now time.Time) int64 {
	id := fixture.AddUser(t, conn, fixture.User{
		Email: "olga@example.com", FirstName: "Olga", LastName: "Petrova", Phone: "+4930123", Type: "merchant",
		Joined: day("2024-02-03T04:05:06Z"), Groups: []string{"Merchant owner", "API"}, Company: "Show Co", Owner: true,
		Perms: []string{"api.charge_wallet"}, Language: "de", CommLang: "en", IPWhite: "10.0.0.1, 192.168.0.0/24",
		LastLogin: ptime("2024-06-01T10:00:00Z"), Password: knownHash, UUID: "00000000-0000-4000-8000-0000000000aa",
	})
	mustExec(t, conn, `INSERT INTO otp_totp_totpdevice (user_id, name, confirmed, key, step, t0, digits, tolerance, drift, last_t,
        throttling_failure_count, created_at) VALUES ($1, 'phone', true, $2, 30, 0, 6, 1, 0, -1, 0, '2024-02-04T00:00:00Z')`, id, knownTOTPKey)
	mustExec(t, conn, `INSERT INTO otp_email_emaildevice (user_id, name, confirmed, token, valid_until, email, throttling_failure_count)
        VALUES ($1, 'mail', false, $2, '2030-01-01Z', 'olga@example.com', 0)`, id, knownEmailOTP)
	mustExec(t, conn, `INSERT INTO api_wallet (owner_id, name, currency, kind, address, created_at)
        VALUES ($1, 'Main', 'USDT', 'virtual', '', '2024-02-05T00:00:00Z')`, id)
	mustExec(t, conn, `INSERT INTO rbac_authlog (user_id, ip, created_at, result, device_type, geolocation) VALUES
        ($1, '203.0.113.7', '2024-06-01T10:00:00Z', 'success', 'desktop', 'Berlin, DE'),
        ($1, '203.0.113.8', '2024-06-02T10:00:00Z', 'failure', 'mobile', 'Paris, FR')`, id)
	mustExec(t, conn, `INSERT INTO rbac_authtoken (user_id, sent_at, destination, token, status_id)
        SELECT $1, '2024-06-03T10:00:00Z', '+4930123', $2, id FROM rbac_tokenstatus WHERE name = 'used'`, id, sentToken)
	// Turnover: two transfers this month, two last month, one before.
	cur := client.MonthOf(now)
	lastStart, thisStart := cur.Previous().From, cur.From
	mustExec(t, conn, `INSERT INTO api_transfer (company_id, user_id, amount_usd, currency, created_at)
        SELECT u.company_id, u.id, a.amount, 'USDT', a.at FROM rbac_user u,
        (VALUES (100.50::numeric, $2::timestamptz), (0.25, $3), (20.25, $4), (3.00, $5), (999, $6)) a(amount, at) WHERE u.id = $1`,
		id, thisStart, now.Add(-time.Second), thisStart.Add(-time.Second), lastStart, lastStart.Add(-time.Second))
	mustExec(t, conn, `WITH c AS (INSERT INTO commissions_commission (operation, currency, percent, fixed_fee, min_fee, max_fee, created_at, updated_at)
        VALUES ('payout', 'USDT', 0.5, 1, NULL, 50, '2024-01-01Z', '2024-01-02Z') RETURNING id)
        INSERT INTO commissions_usercommission (user_id, commission_id, created_at) SELECT $1, id, '2024-01-01Z' FROM c`, id)
	return id
}

// showJSON is the documented users show object; unknown fields fail.
type showJSON struct {
	ID    int64  `json:"id"`
	Email string `json:"email"`
	Info  *struct {
		Email            string   `json:"email"`
		FirstName        string   `json:"first_name"`
		LastName         string   `json:"last_name"`
		Phone            string   `json:"phone"`
		IPWhiteList      []string `json:"ip_white_list"`
		ExtraPermissions []struct {
			ID    string `json:"id"`
			Label string `json:"label"`
		} `json:"extra_permissions"`
		Language string `json:"language"`
		IsActive bool   `json:"is_active"`
		Groups   []struct {
			Name   string `json:"name"`
			Member bool   `json:"member"`
		} `json:"groups"`
		GroupRuleViolations []struct {
			Rule    string   `json:"rule"`
			Groups  []string `json:"groups"`
			Message string   `json:"message"`
		} `json:"group_rule_violations"`
	} `json:"info"`
	TwoFactor  *client.TwoFAStatus `json:"two_factor"`
	Additional *struct {
		ID                    int64            `json:"id"`
		TwoFactor             bool             `json:"two_factor"`
		UUID                  string           `json:"uuid"`
		LastLogin             *string          `json:"last_login"`
		PasswordUsable        bool             `json:"password_usable"`
		IsCompanyOwner        bool             `json:"is_company_owner"`
		Company               *string          `json:"company"`
		CompanyID             *int64           `json:"company_id"`
		Type                  string           `json:"type"`
		DateJoined            string           `json:"date_joined"`
		Wallets               []map[string]any `json:"wallets"`
		Phone                 string           `json:"phone"`
		LastName              string           `json:"last_name"`
		FirstName             string           `json:"first_name"`
		CommunicationLanguage string           `json:"communication_language"`
		Email                 string           `json:"email"`
	} `json:"additional"`
	Sessions    *[]client.AuthSession     `json:"sessions"`
	Tokens      *[]client.SentToken       `json:"tokens"`
	Commissions *client.CommissionSummary `json:"commissions"`
}

func decodeShow(t *testing.T, out string) showJSON {
	t.Helper()
	var s showJSON
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		t.Fatalf("users show -o json: %v\n%s", err, out)
	}
	return s
}

func TestUsersShow(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn := fixture.Conn(t, dsn)
	now := time.Now().UTC()
	id := showFixture(t, conn, now)
	other := fixture.AddUser(t, conn, fixture.User{Email: "plain@example.com"})

	full := mustRun(t, dsn, "users", "show", "olga@example.com", "-o", "json").Stdout
	goldenRead(t, "users_show.json", full)
	s := decodeShow(t, full)
	if s.ID != id || s.Info == nil || s.TwoFactor == nil || s.Additional == nil || s.Sessions == nil || s.Tokens == nil || s.Commissions == nil {
		t.Fatalf("every section expected: %+v", s)
	}
	if got := s.Info.IPWhiteList; len(got) != 2 || got[1] != "192.168.0.0/24" {
		t.Errorf("ip_white_list %v", got)
	}
	if p := s.Info.ExtraPermissions; len(p) != 1 || p[0].ID != "api.charge_wallet" || p[0].Label != "api | wallet | Can charge wallet" {
		t.Errorf("extra_permissions %+v", p)
	}
	members := 0
	for _, g := range s.Info.Groups {
		if g.Member {
			members++
		}
	}
	if len(s.Info.Groups) != 10 || members != 2 {
		t.Errorf("groups: %d listed, %d marked, want 10 and 2", len(s.Info.Groups), members)
	}
	if v := s.Info.GroupRuleViolations; v == nil || len(v) != 0 {
		t.Errorf("group_rule_violations of a user keeping the rules: %+v, want []", v)
	}
	if !s.TwoFactor.Enabled || len(s.TwoFactor.Devices) != 2 || !s.Additional.TwoFactor {
		t.Errorf("two_factor %+v", s.TwoFactor)
	}
	if !s.Additional.PasswordUsable || s.Additional.UUID != "00000000-0000-4000-8000-0000000000aa" || len(s.Additional.Wallets) != 1 ||
		s.Additional.DateJoined != "2024-02-03T04:05:06Z" || !s.Additional.IsCompanyOwner {
		t.Errorf("additional %+v", s.Additional)
	}
	if ss := *s.Sessions; len(ss) != 2 || ss[0].IP != "203.0.113.8" || !ss[0].Time.Equal(*ptime("2024-06-02T10:00:00Z")) {
		t.Errorf("sessions (latest first) %+v", ss)
	}
	if tk := *s.Tokens; len(tk) != 1 || tk[0].Token != "••••8765" || tk[0].Status != "used" {
		t.Errorf("tokens %+v", tk)
	}
	c := s.Commissions
	if c.CurrentTurnover == nil || c.CurrentTurnover.AmountUSD != "100.75" || c.LastTurnover.AmountUSD != "23.25" || len(c.Plans) != 1 {
		t.Errorf("commissions %+v (current %v last %v)", c, c.CurrentTurnover, c.LastTurnover)
	}
	// Each tab is the standalone command's read, in the same shape.
	for _, tab := range []struct {
		name, got string
		alone     []string
	}{
		{"two_factor", string(mustJSON(s.TwoFactor)), []string{"2fa", "status", "olga@example.com", "-o", "json"}},
		{"sessions", string(mustJSON(s.Sessions)), []string{"users", "sessions", "olga@example.com", "--limit", "20", "-o", "json"}},
		{"tokens", string(mustJSON(s.Tokens)), []string{"users", "tokens", "olga@example.com", "--limit", "20", "-o", "json"}},
		{"commissions", string(mustJSON(s.Commissions)), []string{"commissions", "show", "olga@example.com", "-o", "json"}},
	} {
		var alone any
		if err := json.Unmarshal([]byte(mustRun(t, dsn, tab.alone...).Stdout), &alone); err != nil {
			t.Fatal(err)
		}
		if list, ok := alone.([]any); ok && tab.name == "two_factor" {
			alone = list[0] // 2fa status lists one object per user
		}
		var got any
		json.Unmarshal([]byte(tab.got), &got)
		if fmt.Sprint(got) != fmt.Sprint(alone) {
			t.Errorf("users show's %s tab differs from %v:\n%v\n%v", tab.name, tab.alone, got, alone)
		}
	}

	// --section narrows the object to that key.
	one := decodeShow(t, mustRun(t, dsn, "users", "show", "00000000-0000-4000-8000-0000000000aa", "--section", "tokens", "--reveal", "-o", "json").Stdout)
	if one.Info != nil || one.Commissions != nil || one.Tokens == nil || (*one.Tokens)[0].Token != sentToken {
		t.Errorf("--section tokens --reveal: %+v", one)
	}
	// A user with nothing has empty lists, not nulls, and null turnover.
	p := mustRun(t, dsn, "users", "show", "plain@example.com", "-o", "json").Stdout
	ps := decodeShow(t, p)
	if ps.ID != other || ps.Sessions == nil || len(*ps.Sessions) != 0 || ps.Commissions.CurrentTurnover != nil ||
		ps.Additional.PasswordUsable || ps.Commissions.Plans == nil || ps.Additional.Wallets == nil || ps.TwoFactor.Devices == nil {
		t.Errorf("empty user: %s", p)
	}

	// Table and CSV render every section; CSV parses back.
	table := mustRun(t, dsn, "users", "show", strings.ToUpper("olga@example.com")).Stdout
	for _, want := range []string{"== Info", "== 2FA", "== Additional", "== API sessions list", "== List of sent tokens", "== Commissions", "Berlin, DE", "100.75"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	recs, err := csv.NewReader(strings.NewReader(mustRun(t, dsn, "users", "show", "olga@example.com", "-o", "csv").Stdout)).ReadAll()
	if err != nil || recs[0][0] != "section" || len(recs) < 40 {
		t.Fatalf("csv: %v %v", err, recs)
	}
	found := false
	for _, r := range recs {
		found = found || (r[0] == "sessions" && r[1] == "sessions.1.geolocation" && r[2] == "Paris, FR")
	}
	if !found {
		t.Error("csv lacks sessions,sessions.1.geolocation,Paris, FR")
	}
	if r := mustRun(t, dsn, "users", "show", "olga@example.com", "-o", "ids"); strings.TrimSpace(r.Stdout) != "1" {
		t.Errorf("-o ids: %q", r.Stdout)
	}
}

// A user whose groups break a rule (planted with SQL, as the web side or
// psql could) is flagged: a field in JSON, a line in the table.
func TestUsersShowFlagsGroupRuleViolation(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn := fixture.Conn(t, dsn)
	fixture.AddUser(t, conn, fixture.User{Email: "ok@example.com", Type: "merchant", Company: "Acme", Groups: []string{"Merchant owner", "API"}})
	id := fixture.AddUser(t, conn, fixture.User{Email: "bad@example.com", Type: "merchant", Groups: []string{"Merchant owner"}})
	mustExec(t, conn, `INSERT INTO rbac_user_groups (user_id, group_id) SELECT $1, id FROM auth_group WHERE name IN ('Enterprise staff', 'API')`, id)

	s := decodeShow(t, mustRun(t, dsn, "users", "show", "bad@example.com", "--section", "info", "-o", "json").Stdout)
	var got []string
	for _, v := range s.Info.GroupRuleViolations {
		got = append(got, v.Rule+": "+strings.Join(v.Groups, ", ")+": "+v.Message)
	}
	want := []string{
		"one-role-group: Enterprise staff, Merchant owner: holds 2 role groups (Enterprise staff, Merchant owner); at most one is allowed",
		"role-group-type: Enterprise staff: is of type merchant, but Enterprise staff needs type enterprise",
		"api-needs-company: API: is in API but linked to no company",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("group_rule_violations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	table := mustRun(t, dsn, "users", "show", "bad@example.com", "--section", "info").Stdout
	var flag string
	for _, l := range strings.Split(table, "\n") {
		if strings.HasPrefix(l, "Group rules") {
			flag = l
		}
	}
	if !strings.Contains(flag, "BROKEN: holds 2 role groups") || !strings.Contains(flag, "(api-needs-company)") {
		t.Fatalf("table flag line %q in:\n%s", flag, table)
	}
	if ok := mustRun(t, dsn, "users", "show", "ok@example.com", "--section", "info").Stdout; strings.Contains(ok, "Group rules") {
		t.Fatalf("a user keeping the rules is flagged:\n%s", ok)
	}
}

func TestUsersShowErrors(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn := fixture.Conn(t, dsn)
	fixture.AddUser(t, conn, fixture.User{Email: "a@example.com"})
	before := fixture.DumpAll(t, conn)
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"nobody@example.com"}, ExitNotFound},
		{[]string{"999999"}, ExitNotFound},
		{[]string{"00000000-0000-4000-8000-00000000ffff"}, ExitNotFound},
		{[]string{"a@example.com", "--section", "passwords"}, ExitUsage},
		{[]string{"a@example.com", "--columns", "id"}, ExitUsage},
		{[]string{"a@example.com", "--limit", "0"}, ExitUsage},
		{[]string{}, ExitUsage},
	} {
		r := runCLI(t, dsn, append([]string{"users", "show"}, tc.args...)...)
		assertOneLineError(t, r, tc.code)
	}
	if fixture.DumpAll(t, conn) != before {
		t.Error("users show changed the database")
	}
}

// The password hash, the TOTP key (hex and base32), the email device's
// pending code and an unrevealed sent token appear in no output format of
// any read command.
func TestReadOutputsNeverLeakSecrets(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn := fixture.Conn(t, dsn)
	showFixture(t, conn, time.Now().UTC())
	var all bytes.Buffer
	for _, fm := range []string{"table", "json", "jsonl", "csv", "tsv", "ids"} {
		for _, args := range [][]string{
			{"users", "show", "olga@example.com"},
			{"users", "list", "--all"},
			{"users", "list", "--all", "--columns", strings.Join(userColumns.Keys(), ",")},
			{"groups", "list"},
		} {
			for _, tty := range []bool{false, true} {
				r := cliRun{DSN: dsn, TTY: tty}.run(t, append(args, "-o", fm)...)
				if r.Code != 0 {
					t.Fatalf("%v -o %s: exit %d %s", args, fm, r.Code, r.Stderr)
				}
				all.WriteString(r.Stdout + r.Stderr)
			}
		}
	}
	out := strings.ToLower(all.String())
	for _, secret := range []string{knownHash, "r1uLUxoxpP2Ued", "seasalt", knownTOTPKey, knownTOTPB32, knownEmailOTP, sentToken, "98765"} {
		if strings.Contains(out, strings.ToLower(secret)) {
			t.Errorf("output contains secret %q", secret)
		}
	}
	if !strings.Contains(out, "olga@example.com") {
		t.Fatal("the outputs do not even show the user: the test proves nothing")
	}
}
