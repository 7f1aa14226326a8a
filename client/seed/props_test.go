package seed_test

import (
	"bytes"
	"compress/zlib"
	"context"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/b2badmin/b2badmin/client/catalog"
	"github.com/b2badmin/b2badmin/client/seed"
)

// TestSeedData checks what the Users page needs of the demo data: the
// group rules hold, every group is populated, and every encoded value is
// in the format Django writes.
func TestSeedData(t *testing.T) {
	t.Parallel()
	const users = 3000
	db, st, progress := seedDB(t, users, 11)
	ctx := context.Background()
	count := func(t *testing.T, q string, args ...any) int64 {
		t.Helper()
		var n int64
		if err := db.QueryRow(ctx, q, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	zero := func(t *testing.T, what, q string, args ...any) {
		t.Helper()
		if n := count(t, q, args...); n != 0 {
			t.Errorf("%s: %d", what, n)
		}
	}

	t.Run("group rules", func(t *testing.T) {
		var roles []string
		for _, g := range catalog.Groups() {
			if g.Role {
				roles = append(roles, g.Name)
			}
			if g.RequiredType != "" {
				zero(t, g.Name+" members of the wrong type", `SELECT count(*) FROM rbac_user u JOIN rbac_user_groups ug ON ug.user_id = u.id
					JOIN auth_group g ON g.id = ug.group_id WHERE g.name = $1 AND u.type <> $2`, g.Name, g.RequiredType)
			}
			if g.NeedsCompany {
				zero(t, g.Name+" members without a company", `SELECT count(*) FROM rbac_user u JOIN rbac_user_groups ug ON ug.user_id = u.id
					JOIN auth_group g ON g.id = ug.group_id WHERE g.name = $1 AND u.company_id IS NULL`, g.Name)
			}
			if n := count(t, `SELECT count(*) FROM rbac_user_groups ug JOIN auth_group g ON g.id = ug.group_id WHERE g.name = $1`, g.Name); n < users/100 {
				t.Errorf("group %s has only %d members", g.Name, n)
			}
		}
		zero(t, "users with several role groups", `SELECT count(*) FROM (SELECT ug.user_id FROM rbac_user_groups ug
			JOIN auth_group g ON g.id = ug.group_id WHERE g.name = ANY ($1) GROUP BY 1 HAVING count(*) > 1) x`, roles)
	})

	t.Run("users", func(t *testing.T) {
		if n := count(t, `SELECT count(*) FROM rbac_user`); n != users || st.Users != users {
			t.Fatalf("%d users, stats say %d", n, st.Users)
		}
		active := float64(count(t, `SELECT count(*) FROM rbac_user WHERE is_active`)) / users
		if active < 0.86 || active > 0.94 {
			t.Errorf("active share %.3f, want about 0.9", active)
		}
		for _, typ := range catalog.Types {
			if n := count(t, `SELECT count(*) FROM rbac_user WHERE type = $1`, typ); n < users/10 {
				t.Errorf("only %d users of type %s", n, typ)
			}
		}
		zero(t, "duplicate emails (case-insensitive)", `SELECT count(*) - count(DISTINCT lower(email)) FROM rbac_user`)
		zero(t, "owners without a company", `SELECT count(*) FROM rbac_user WHERE is_company_owner AND company_id IS NULL`)
		zero(t, "companies without exactly one owner", `SELECT count(*) FROM rbac_company c
			WHERE (SELECT count(*) FROM rbac_user u WHERE u.company_id = c.id AND u.is_company_owner) <> 1`)
		zero(t, "impossible dates", `SELECT count(*) FROM rbac_user WHERE date_joined >= $1 OR last_login < date_joined OR last_login >= $1
			OR date_joined < $1::timestamptz - interval '7 years'`, seedNow)
		if n := count(t, `SELECT count(DISTINCT date_part('year', date_joined)) FROM rbac_user`); n < 5 {
			t.Errorf("registrations span %d years only", n)
		}
		if n := count(t, `SELECT count(*) FROM rbac_user WHERE last_login IS NOT NULL`); n < users*8/10 {
			t.Errorf("only %d users ever logged in", n)
		}
	})

	t.Run("formats", func(t *testing.T) {
		rows, err := db.Query(ctx, `SELECT id, email, password, phone, ip_white_list, language, communication_language FROM rbac_user`)
		if err != nil {
			t.Fatal(err)
		}
		hash := regexp.MustCompile(`^pbkdf2_sha256\$([0-9]+)\$([a-zA-Z0-9]{22})\$([A-Za-z0-9+/]{43}=)$`)
		unusable := regexp.MustCompile(`^![a-zA-Z0-9]{40}$`)
		phone := regexp.MustCompile(`^\+[1-9][0-9]{7,14}$`)
		email := regexp.MustCompile(`^[A-Za-z0-9._]+@[a-z0-9.-]+\.[a-z]{2,}$`)
		var nUnusable, nWhite int
		var sample string
		for rows.Next() {
			var id int64
			var em, pw, ph, ips, lang, comm string
			if err := rows.Scan(&id, &em, &pw, &ph, &ips, &lang, &comm); err != nil {
				t.Fatal(err)
			}
			switch {
			case hash.MatchString(pw):
				sample = pw
			case unusable.MatchString(pw):
				nUnusable++
			default:
				t.Errorf("user %d: password %.20q… is not in Django's format", id, pw)
			}
			if !email.MatchString(em) {
				t.Errorf("user %d: email %q", id, em)
			}
			if ph != "" && !phone.MatchString(ph) {
				t.Errorf("user %d: phone %q is not E.164", id, ph)
			}
			if !catalog.ValidLanguage(lang) || !catalog.ValidLanguage(comm) {
				t.Errorf("user %d: languages %q %q", id, lang, comm)
			}
			if ips != "" {
				nWhite++
				for _, e := range strings.Split(ips, ",") {
					if !canonicalIPOrNet(e) {
						t.Errorf("user %d: white list entry %q is not a canonical address or network", id, e)
					}
				}
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if nUnusable < users/100 || nUnusable > users*6/100 {
			t.Errorf("%d unusable passwords, want about 3%%", nUnusable)
		}
		if nWhite < users/10 || nWhite > users/2 {
			t.Errorf("%d users with an IP white list", nWhite)
		}
		// The hash is real: one of the documented demo passwords verifies.
		m := hash.FindStringSubmatch(sample)
		iter, _ := strconv.Atoi(m[1])
		ok := false
		for _, pw := range seed.Passwords {
			dk, err := pbkdf2.Key(sha256.New, pw, []byte(m[2]), iter, 32)
			ok = ok || (err == nil && base64.StdEncoding.EncodeToString(dk) == m[3])
		}
		if !ok {
			t.Errorf("hash %s matches none of the demo passwords", sample)
		}
	})

	t.Run("sessions decode to their user", func(t *testing.T) {
		rows, err := db.Query(ctx, `SELECT session_key, session_data, expire_date FROM django_session`)
		if err != nil {
			t.Fatal(err)
		}
		type sess struct {
			key, data string
			exp       time.Time
		}
		list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (sess, error) {
			var s sess
			return s, r.Scan(&s.key, &s.data, &s.exp)
		})
		if err != nil || len(list) < users/50 {
			t.Fatalf("%d sessions, %v", len(list), err)
		}
		nCompressed := 0
		defer func() {
			// Django (signing.dumps(compress=True), since 3.1) compresses
			// whenever zlib saves more than a byte, which a login session's
			// dict of 176 bytes already does (to 134).
			if nCompressed == 0 {
				t.Errorf("%d of %d sessions compressed", nCompressed, len(list))
			}
			if n := count(t, `SELECT count(*) FROM b2badmin_session_owner`); n != int64(len(list)) {
				t.Errorf("%d owner rows for %d sessions", n, len(list))
			}
		}()
		for _, s := range list {
			parts := strings.Split(s.data, ":")
			if len(parts) != 3 || len(s.key) != 32 {
				t.Fatalf("session %q: %q is not payload:timestamp:signature", s.key, s.data)
			}
			payload, compressed := strings.CutPrefix(parts[0], ".")
			raw, err := base64.RawURLEncoding.DecodeString(payload)
			if err != nil {
				t.Fatalf("session %q: payload: %v", s.key, err)
			}
			if compressed {
				zr, err := zlib.NewReader(bytes.NewReader(raw))
				if err != nil {
					t.Fatalf("session %q: zlib: %v", s.key, err)
				}
				plain, err := io.ReadAll(zr)
				if err != nil {
					t.Fatalf("session %q: zlib: %v", s.key, err)
				}
				// Django compresses only when that saves more than a byte.
				if len(raw) >= len(plain)-1 {
					t.Errorf("session %q: compressed although %d bytes do not beat %d", s.key, len(raw), len(plain))
				}
				raw = plain
				nCompressed++
			}
			var dict map[string]any
			if err := json.Unmarshal(raw, &dict); err != nil {
				t.Fatalf("session %q: %v", s.key, err)
			}
			uid, ok := dict["_auth_user_id"].(string)
			if !ok {
				t.Fatalf("session %q: _auth_user_id %#v is not a string", s.key, dict["_auth_user_id"])
			}
			var active bool
			var lastLogin time.Time
			if err := db.QueryRow(ctx, `SELECT is_active, last_login FROM rbac_user WHERE id = $1::bigint`, uid).Scan(&active, &lastLogin); err != nil || !active {
				t.Errorf("session %q: user %s: active=%v %v", s.key, uid, active, err)
			}
			var owner int64
			if err := db.QueryRow(ctx, `SELECT user_id FROM b2badmin_session_owner WHERE session_key = $1 AND decoded`, s.key).Scan(&owner); err != nil || fmt.Sprint(owner) != uid {
				t.Errorf("session %q of user %s: recorded owner %d, %v", s.key, uid, owner, err)
			}
			created := time.Unix(fromBase62(t, parts[1]), 0)
			if !created.Add(14*24*time.Hour).Equal(s.exp) || created.After(lastLogin) {
				t.Errorf("session %q: signed at %s, last login %s, expires %s", s.key, created, lastLogin, s.exp)
			}
		}
	})

	t.Run("related rows", func(t *testing.T) {
		for _, tbl := range allSeeded {
			if n := count(t, `SELECT count(*) FROM `+tbl); n == 0 {
				t.Errorf("%s is empty", tbl)
			}
		}
		month := time.Date(seedNow.Year(), seedNow.Month(), 1, 0, 0, 0, 0, time.UTC)
		if n := count(t, `SELECT count(*) FROM api_transfer WHERE created_at >= $1 AND created_at < $2`, month, seedNow); n < 50 {
			t.Errorf("%d transfers in the current month", n)
		}
		if n := count(t, `SELECT count(*) FROM api_transfer WHERE created_at >= $1 AND created_at < $2`, month.AddDate(0, -1, 0), month); n < 50 {
			t.Errorf("%d transfers in the last month", n)
		}
		zero(t, "rows dated after the reference", `SELECT (SELECT count(*) FROM api_transfer WHERE created_at >= $1)
			+ (SELECT count(*) FROM rbac_authlog WHERE created_at >= $1) + (SELECT count(*) FROM rbac_authtoken WHERE sent_at >= $1)`, seedNow)
		zero(t, "enterprise wallets that are not crypto with an address", `SELECT count(*) FROM api_wallet w JOIN rbac_user u ON u.id = w.owner_id
			WHERE u.type = 'enterprise' AND (w.kind <> 'crypto' OR w.address = '')`)
		if n := count(t, `SELECT count(DISTINCT w.kind) FROM api_wallet w JOIN rbac_user u ON u.id = w.owner_id WHERE u.type = 'merchant'`); n != 3 {
			t.Errorf("merchant wallets come in %d kinds, want crypto, virtual and fiat", n)
		}
		if n := count(t, `SELECT count(DISTINCT s.name) FROM rbac_authtoken a JOIN rbac_tokenstatus s ON s.id = a.status_id`); n != 4 {
			t.Errorf("sent tokens have %d statuses, want 4", n)
		}
		if n := count(t, `SELECT count(DISTINCT result) + count(DISTINCT device_type) FROM rbac_authlog`); n < 5 {
			t.Errorf("auth log: %d distinct results+device types", n)
		}
		zero(t, "malformed TOTP devices", `SELECT count(*) FROM otp_totp_totpdevice WHERE key !~ '^[0-9a-f]{40}$' OR digits <> 6 OR step <> 30`)
		zero(t, "inactive users with live refresh tokens", `SELECT count(*) FROM token_blacklist_outstandingtoken o JOIN rbac_user u ON u.id = o.user_id
			WHERE NOT u.is_active AND NOT EXISTS (SELECT 1 FROM token_blacklist_blacklistedtoken b WHERE b.token_id = o.id)`)
		if count(t, `SELECT count(*) FROM commissions_usercommission`) != count(t, `SELECT count(*) FROM commissions_commission`) {
			t.Error("every personal commission needs its plan")
		}
		view := count(t, `SELECT count(*) FROM rbac_user_user_permissions up JOIN auth_permission p ON p.id = up.permission_id WHERE p.codename LIKE 'view\_%'`)
		if all := count(t, `SELECT count(*) FROM rbac_user_user_permissions`); view*2 < all || view == all {
			t.Errorf("%d of %d extra permissions are view_*; want most but not all", view, all)
		}
	})

	t.Run("foreign keys hold", func(t *testing.T) {
		// The fast path loads with foreign-key triggers off: prove every reference.
		rows, err := db.Query(ctx, `SELECT c.conrelid::regclass::text, a.attname, c.confrelid::regclass::text, fa.attname
			FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
			JOIN pg_attribute fa ON fa.attrelid = c.confrelid AND fa.attnum = c.confkey[1]
			WHERE c.contype = 'f' AND c.conrelid = ANY ($1::text[]::regclass[])`, allSeeded)
		if err != nil {
			t.Fatal(err)
		}
		var checks []string
		for rows.Next() {
			var tbl, col, ref, refCol string
			if err := rows.Scan(&tbl, &col, &ref, &refCol); err != nil {
				t.Fatal(err)
			}
			checks = append(checks, "SELECT count(*) FROM "+tbl+" c WHERE c."+col+" IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "+ref+" p WHERE p."+refCol+" = c."+col+")")
		}
		if len(checks) < 15 {
			t.Fatalf("found only %d foreign keys", len(checks))
		}
		for _, q := range checks {
			zero(t, q, q)
		}
	})

	t.Run("sequences continue after the seeded ids", func(t *testing.T) {
		var id int64
		if err := db.QueryRow(ctx, `INSERT INTO rbac_company (name, created_at) VALUES ('After seed', now()) RETURNING id`).Scan(&id); err != nil {
			t.Fatal(err)
		}
		if id != st.Companies+1 {
			t.Errorf("new company got id %d, want %d", id, st.Companies+1)
		}
	})

	t.Run("progress", func(t *testing.T) {
		if len(progress) < 2 || progress[len(progress)-1] != users {
			t.Fatalf("progress %v", progress)
		}
		for i := 1; i < len(progress); i++ {
			if progress[i] < progress[i-1] {
				t.Fatalf("progress went back: %v", progress)
			}
		}
	})
}

func canonicalIPOrNet(s string) bool {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p == p.Masked() && p.String() == s
	}
	a, err := netip.ParseAddr(s)
	return err == nil && a.String() == s
}

func fromBase62(t *testing.T, s string) int64 {
	const digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	var n int64
	for _, c := range s {
		i := strings.IndexRune(digits, c)
		if i < 0 {
			t.Fatalf("%q is not base62", s)
		}
		n = n*62 + int64(i)
	}
	return n
}
