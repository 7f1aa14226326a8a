package commands

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"net/url"
	"strings"
	"testing"
	"time"

	goqr "github.com/piglig/go-qr"

	"github.com/b2badmin/b2badmin/client"
	"github.com/b2badmin/b2badmin/internal/fixture"
	"github.com/b2badmin/b2badmin/internal/pgtest"
)

// independentTOTP is RFC 6238 written out again, deliberately not using
// client/totp, so the test checks the project against the RFC, not itself.
func independentTOTP(secretB32 string, at time.Time) string {
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secretB32)
	if err != nil {
		panic(err)
	}
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(at.Unix()/30))
	h := hmac.New(sha1.New, key)
	h.Write(msg[:])
	sum := h.Sum(nil)
	o := sum[19] & 0xf
	v := (uint32(sum[o])&0x7f)<<24 | uint32(sum[o+1])<<16 | uint32(sum[o+2])<<8 | uint32(sum[o+3])
	return fmt.Sprintf("%06d", v%1_000_000)
}

type totpRow struct {
	ID                             int64
	Name                           string
	Confirmed                      bool
	Key                            string
	Step, Digits, Tolerance, Drift int16
	T0, LastT                      int64
	FailCount                      int32
	CreatedAt                      *time.Time
}

func totpDevices(t *testing.T, dsn string, userID int64) []totpRow {
	t.Helper()
	db := fixture.Conn(t, dsn)
	rows, err := db.Query(context.Background(), `SELECT id, name, confirmed, key, step, digits, tolerance, drift, t0, last_t,
        throttling_failure_count, created_at FROM otp_totp_totpdevice WHERE user_id = $1 ORDER BY id`, userID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []totpRow
	for rows.Next() {
		var r totpRow
		if err := rows.Scan(&r.ID, &r.Name, &r.Confirmed, &r.Key, &r.Step, &r.Digits, &r.Tolerance, &r.Drift, &r.T0, &r.LastT, &r.FailCount, &r.CreatedAt); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

func TestTwoFAEnableTOTP(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	db := fixture.Conn(t, dsn)
	id := fixture.AddUser(t, db, fixture.User{Email: "alice@example.com"})

	r := mustRun(t, dsn, "2fa", "enable", "alice@example.com", "--method", "totp", "--issuer", "Acme Pay", "-o", "json", "--reason", "OPS-1")
	var rows []twoFAEnableRow
	if err := json.Unmarshal([]byte(r.Stdout), &rows); err != nil || len(rows) != 1 {
		t.Fatalf("json: %v\n%s", err, r.Stdout)
	}
	got := rows[0]
	devs := totpDevices(t, dsn, id)
	if len(devs) != 1 {
		t.Fatalf("%d TOTP devices, want 1", len(devs))
	}
	d := devs[0]
	if d.Name != "default" || !d.Confirmed || d.Step != 30 || d.Digits != 6 || d.Tolerance != 1 || d.Drift != 0 ||
		d.T0 != 0 || d.LastT != -1 || d.FailCount != 0 || d.CreatedAt == nil || len(d.Key) != 40 {
		t.Fatalf("device not in django-otp's layout: %+v", d)
	}
	if got.Field != "two_factor_devices" || got.UserID != id || fmt.Sprint(got.After) != "[map[kind:totp name:default]]" {
		t.Fatalf("change row %+v does not describe the new device", got)
	}
	if logged := queryInt(t, db, `SELECT (detail->>'created_device_id')::bigint FROM api_operationlog WHERE action = '2fa.enable'`); logged != d.ID {
		t.Fatalf("the log names device %d, created %d", logged, d.ID)
	}

	// The URI: django-otp's format, and its secret is the stored key.
	prefix := "otpauth://totp/Acme%20Pay%3Aalice%40example.com?secret="
	if !strings.HasPrefix(*got.OTPAuthURI, prefix) || !strings.HasSuffix(*got.OTPAuthURI, "&algorithm=SHA1&digits=6&period=30&issuer=Acme%20Pay") {
		t.Fatalf("URI %q not in django-otp's format", *got.OTPAuthURI)
	}
	u, err := url.Parse(*got.OTPAuthURI)
	if err != nil {
		t.Fatal(err)
	}
	secret := u.Query().Get("secret")
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
	if err != nil || hex.EncodeToString(raw) != d.Key {
		t.Fatalf("secret %s decodes to %x (%v), stored key %s", secret, raw, err, d.Key)
	}

	// A code computed independently is accepted now and refused far off.
	c := client.New(db)
	now := time.Now()
	ok, err := c.VerifyTOTP(context.Background(), id, independentTOTP(secret, now), now)
	if err != nil || !ok {
		t.Fatalf("current code refused (%v)", err)
	}
	far := now.Add(-10 * time.Minute)
	if ok, _ := c.VerifyTOTP(context.Background(), id, independentTOTP(secret, far), now); ok && independentTOTP(secret, far) != independentTOTP(secret, now) {
		t.Fatal("a code from 10 minutes ago was accepted")
	}

	// The key appears in no log row and in no later output.
	logs := fixture.Dump(t, db, "api_operationlog")
	if !strings.Contains(logs, "2fa.enable") || !strings.Contains(logs, "OPS-1") {
		t.Fatalf("no 2fa.enable log row: %s", logs)
	}
	for _, format := range []string{"table", "json", "jsonl", "csv", "tsv"} {
		out := mustRun(t, dsn, "2fa", "status", "alice@example.com", "-o", format, "--columns",
			strings.Join(twoFAStatusColumns.Keys(), ","))
		assertNoSecret(t, out.Stdout+out.Stderr, d.Key, secret)
	}
	assertNoSecret(t, logs+r.Stderr, d.Key, secret)

	// A confirmed device exists: refused without --replace, nothing changed.
	before := fixture.DumpAll(t, db)
	r2 := runCLI(t, dsn, "2fa", "enable", "alice@example.com", "--method", "totp")
	assertOneLineError(t, r2, ExitRefused)
	if fixture.DumpAll(t, db) != before {
		t.Fatal("refused enable changed the database")
	}
	// --replace deletes the old device in the same transaction.
	r3 := mustRun(t, dsn, "2fa", "enable", "alice@example.com", "--method", "totp", "--replace")
	devs2 := totpDevices(t, dsn, id)
	if len(devs2) != 1 || devs2[0].Key == d.Key {
		t.Fatalf("after --replace: %d devices, same key %v", len(devs2), len(devs2) == 1 && devs2[0].Key == d.Key)
	}
	// Without -o json the stdout is the URI line alone (scriptable).
	lines := strings.Split(strings.TrimSpace(r3.Stdout), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "otpauth://totp/B2BinPay%3Aalice%40example.com?secret=") {
		t.Fatalf("stdout %q is not one URI line with the default issuer", r3.Stdout)
	}
}

func assertNoSecret(t *testing.T, s string, secrets ...string) {
	t.Helper()
	for _, sec := range secrets {
		if strings.Contains(strings.ToLower(s), strings.ToLower(sec)) {
			t.Fatalf("output contains the OTP key %q:\n%s", sec, s)
		}
	}
}

// On a terminal, the QR code drawn under the URI decodes back to the URI.
func TestTwoFAEnableQRCode(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	db := fixture.Conn(t, dsn)
	fixture.AddUser(t, db, fixture.User{Email: "qr@example.com"})
	r := cliRun{DSN: dsn, TTY: true}.run(t, "2fa", "enable", "qr@example.com", "--method", "totp")
	if r.Code != 0 {
		t.Fatalf("exit %d: %s", r.Code, r.Stderr)
	}
	uri, art, _ := strings.Cut(r.Stdout, "\n")
	img := qrTextToImage(t, art)
	decoded, err := goqr.Decode(img)
	if err != nil || decoded != uri {
		t.Fatalf("QR decodes to %q (%v), want %q", decoded, err, uri)
	}
}

// qrTextToImage turns the half-block drawing back into pixels (4 per module).
func qrTextToImage(t *testing.T, art string) image.Image {
	t.Helper()
	var grid [][]bool
	for _, line := range strings.Split(strings.TrimRight(art, "\n"), "\n") {
		line = strings.TrimSuffix(strings.TrimPrefix(line, "\x1b[30;47m"), "\x1b[0m")
		var top, bottom []bool
		for _, r := range line {
			top = append(top, r == '█' || r == '▀')
			bottom = append(bottom, r == '█' || r == '▄')
		}
		grid = append(grid, top, bottom)
	}
	if len(grid) < 21 {
		t.Fatalf("no QR code drawn: %q", art)
	}
	const scale = 4
	img := image.NewGray(image.Rect(0, 0, len(grid[0])*scale, len(grid)*scale))
	for y, row := range grid {
		for x, dark := range row {
			c := color.Gray{Y: 255}
			if dark {
				c = color.Gray{Y: 0}
			}
			for dy := 0; dy < scale; dy++ {
				for dx := 0; dx < scale; dx++ {
					img.SetGray(x*scale+dx, y*scale+dy, c)
				}
			}
		}
	}
	return img
}

func TestTwoFAEnableEmailAndStatus(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	db := fixture.Conn(t, dsn)
	a := fixture.AddUser(t, db, fixture.User{Email: "Bob@Example.com"})
	b := fixture.AddUser(t, db, fixture.User{Email: "carol@example.com"})
	mustRun(t, dsn, "2fa", "enable", "bob@example.com", "--method", "email")
	var email string
	var confirmed bool
	var validUntil *time.Time
	if err := db.QueryRow(context.Background(), `SELECT email, confirmed, valid_until FROM otp_email_emaildevice WHERE user_id = $1`, a).
		Scan(&email, &confirmed, &validUntil); err != nil {
		t.Fatal(err)
	}
	if email != "Bob@Example.com" || !confirmed || validUntil == nil {
		t.Fatalf("email device: %q confirmed=%v valid_until=%v", email, confirmed, validUntil)
	}
	// An unconfirmed TOTP device left from an abandoned enrolment does not enable 2FA.
	if _, err := db.Exec(context.Background(), `INSERT INTO otp_totp_totpdevice (user_id, name, confirmed, key, step, t0, digits,
        tolerance, drift, last_t, throttling_failure_count, created_at, last_used_at)
        VALUES ($1, 'phone', false, 'aa', 30, 0, 6, 1, 0, -1, 0, now(), '2026-05-01T10:00:00Z')`, b); err != nil {
		t.Fatal(err)
	}

	r := cliRun{DSN: dsn, Stdin: "bob@example.com\n# comment\n" + fmt.Sprint(b) + "\n"}.run(t, "2fa", "status", "-", "-o", "json")
	if r.Code != 0 {
		t.Fatalf("exit %d: %s", r.Code, r.Stderr)
	}
	var st []map[string]any
	if err := json.Unmarshal([]byte(r.Stdout), &st); err != nil {
		t.Fatal(err)
	}
	if len(st) != 2 {
		t.Fatalf("%d rows", len(st))
	}
	if st[0]["id"] != float64(a) || st[0]["enabled"] != true || st[0]["email_device"] != true || st[0]["email_confirmed"] != true || st[0]["totp"] != false {
		t.Fatalf("bob: %v", st[0])
	}
	if st[1]["id"] != float64(b) || st[1]["enabled"] != false || st[1]["totp"] != true || st[1]["totp_confirmed"] != false ||
		st[1]["last_used_at"] != "2026-05-01T10:00:00Z" {
		t.Fatalf("carol: %v", st[1])
	}
	for _, k := range []string{"key", "token"} {
		if _, ok := st[0][k]; ok {
			t.Fatalf("status JSON has a %q field", k)
		}
	}
	// CSV carries the same rows.
	out := mustRun(t, dsn, "2fa", "status", fmt.Sprint(a), fmt.Sprint(b), "-o", "csv")
	recs, err := csv.NewReader(strings.NewReader(out.Stdout)).ReadAll()
	if err != nil || len(recs) != 3 || recs[0][2] != "enabled" || recs[1][2] != "true" || recs[2][2] != "false" {
		t.Fatalf("csv: %v %v", recs, err)
	}
	// Unknown users: exit 3, one line.
	assertOneLineError(t, runCLI(t, dsn, "2fa", "status", "nobody@example.com"), ExitNotFound)
}

func TestTwoFADisable(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	db := fixture.Conn(t, dsn)
	a := fixture.AddUser(t, db, fixture.User{Email: "a@example.com"})
	b := fixture.AddUser(t, db, fixture.User{Email: "b@example.com"})
	fixture.AddUser(t, db, fixture.User{Email: "none@example.com"})
	// a: a TOTP device made by the tool plus an email device; b: an unconfirmed email device.
	mustRun(t, dsn, "2fa", "enable", "a@example.com", "--method", "totp")
	for _, ins := range []struct {
		uid       int64
		confirmed bool
	}{{a, true}, {b, false}} {
		if _, err := db.Exec(context.Background(), `INSERT INTO otp_email_emaildevice (user_id, name, confirmed, valid_until, email,
        throttling_failure_count, created_at) VALUES ($1, 'x', $2, now(), 'x@example.com', 0, now())`, ins.uid, ins.confirmed); err != nil {
			t.Fatal(err)
		}
	}
	stdin := "a@example.com\nb@example.com\nnone@example.com\n"
	before := fixture.DumpAll(t, db)

	// Two users would change: without a terminal that needs --yes.
	assertOneLineError(t, cliRun{DSN: dsn, Stdin: stdin}.run(t, "2fa", "disable", "-"), ExitUsage)
	// --max-affected refuses before writing.
	assertOneLineError(t, cliRun{DSN: dsn, Stdin: stdin}.run(t, "2fa", "disable", "-", "--yes", "--max-affected", "1"), ExitRefused)
	// Read-only refuses before any SQL.
	assertOneLineError(t, runCLI(t, dsn, "--read-only", "2fa", "disable", "a@example.com"), ExitRefused)
	// A dry run reports and changes nothing.
	dry := cliRun{DSN: dsn, Stdin: stdin}.run(t, "2fa", "disable", "-", "--dry-run", "-o", "json")
	if dry.Code != 0 {
		t.Fatalf("dry run: exit %d %s", dry.Code, dry.Stderr)
	}
	// kinds is a change row's device kinds, before and after.
	kinds := func(v any) string {
		var out []string
		for _, d := range v.([]any) {
			out = append(out, d.(map[string]any)["kind"].(string))
		}
		return strings.Join(out, ",")
	}
	dryRows := parseChanges(t, dry.Stdout)
	if len(dryRows) != 2 || dryRows[0].UserID != a || kinds(dryRows[0].Before) != "totp,email" || kinds(dryRows[0].After) != "" ||
		dryRows[1].UserID != b || kinds(dryRows[1].Before) != "email" || !strings.Contains(dry.Stderr, "1 user has no 2FA device") {
		t.Fatalf("dry run rows: %+v %q", dryRows, dry.Stderr)
	}
	if fixture.DumpAll(t, db) != before {
		t.Fatal("a refused or dry-run disable changed the database")
	}

	r := cliRun{DSN: dsn, Stdin: stdin}.run(t, "2fa", "disable", "-", "--yes", "-o", "json", "--reason", "lost phone")
	if r.Code != 0 {
		t.Fatalf("exit %d: %s", r.Code, r.Stderr)
	}
	if r.Stdout != dry.Stdout {
		t.Fatalf("real change list differs from the dry run's:\n%s\n%s", r.Stdout, dry.Stdout)
	}
	var left int
	db.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM otp_totp_totpdevice) + (SELECT count(*) FROM otp_email_emaildevice)`).Scan(&left)
	if left != 0 {
		t.Fatalf("%d devices left", left)
	}
	// One log row per changed user, before = the devices (id, kind, name;
	// never a key), after = none.
	logRows, err := db.Query(context.Background(), `SELECT target_user_id, jsonb_path_query_array(before, '$.two_factor_devices[*].kind'), after->'two_factor_devices', reason
        FROM api_operationlog WHERE action = '2fa.disable' ORDER BY target_user_id`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for logRows.Next() {
		var uid int64
		var bj, aj []byte
		var reason string
		if err := logRows.Scan(&uid, &bj, &aj, &reason); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%d %s %s %s", uid, bj, aj, reason))
	}
	want := []string{fmt.Sprintf(`%d ["totp", "email"] [] lost phone`, a), fmt.Sprintf(`%d ["email"] [] lost phone`, b)}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("log rows:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Disabling again: reported, not an error.
	again := mustRun(t, dsn, "2fa", "disable", "a@example.com", "-o", "csv")
	recs, _ := csv.NewReader(strings.NewReader(again.Stdout)).ReadAll()
	if len(recs) != 1 || !strings.Contains(again.Stderr, "1 user has no 2FA device: ") {
		t.Fatalf("second disable: %v %q", recs, again.Stderr)
	}
}

func TestTwoFAEnableDryRunAndBadInput(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	db := fixture.Conn(t, dsn)
	fixture.AddUser(t, db, fixture.User{Email: "d@example.com"})
	before := fixture.DumpAll(t, db)
	r := mustRun(t, dsn, "2fa", "enable", "d@example.com", "--method", "totp", "--dry-run", "-o", "json")
	var got []twoFAEnableRow
	if err := json.Unmarshal([]byte(r.Stdout), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].OTPAuthURI != nil || !strings.Contains(r.Stderr, "dry run") {
		t.Fatalf("dry run printed %+v", got)
	}
	assertOneLineError(t, runCLI(t, dsn, "2fa", "enable", "d@example.com", "--method", "sms"), ExitUsage)
	assertOneLineError(t, runCLI(t, dsn, "2fa", "enable", "d@example.com"), ExitUsage)
	assertOneLineError(t, runCLI(t, dsn, "2fa", "enable", "x@example.com", "--method", "totp"), ExitNotFound)
	assertOneLineError(t, runCLI(t, dsn, "--read-only", "2fa", "enable", "d@example.com", "--method", "totp"), ExitRefused)
	if fixture.DumpAll(t, db) != before {
		t.Fatal("dry run or bad input changed the database")
	}
}

// twoFAEnableRow is a row of 2fa enable's change list.
type twoFAEnableRow struct {
	UserID     int64   `json:"user_id"`
	Email      string  `json:"email"`
	Field      string  `json:"field"`
	Before     any     `json:"before"`
	After      any     `json:"after"`
	OTPAuthURI *string `json:"otpauth_uri"`
}
