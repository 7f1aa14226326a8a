package schema_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/b2badmin/b2badmin/client/catalog"
	"github.com/b2badmin/b2badmin/client/schema"
	"github.com/b2badmin/b2badmin/internal/fixture"
	"github.com/b2badmin/b2badmin/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

func exec(t *testing.T, conn *pgx.Conn, sql string, args ...any) {
	t.Helper()
	if _, err := conn.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func scalar[T any](t *testing.T, conn *pgx.Conn, sql string, args ...any) T {
	t.Helper()
	var v T
	if err := conn.QueryRow(context.Background(), sql, args...).Scan(&v); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return v
}

// hasPerm is Django's ModelBackend.has_perm for a user's own permissions:
// "<app_label>.<codename>" of the permissions it was granted.
func hasPerm(t *testing.T, conn *pgx.Conn, user int64, perm string) bool {
	return scalar[bool](t, conn, `SELECT EXISTS (SELECT 1 FROM rbac_user_user_permissions up
		JOIN auth_permission p ON p.id = up.permission_id JOIN django_content_type ct ON ct.id = p.content_type_id
		WHERE up.user_id = $1 AND ct.app_label || '.' || p.codename = $2)`, user, perm)
}

// A database migrated before the fix holds otp_totp.TOTPdevice with
// add_TOTPdevice & co., and Django's own migrate may already have added
// its lower-case twin with four more permissions. Migration 0050 renames
// ours in place (ids, hence grants, kept) and folds Django's twin into
// it: afterwards Django's has_perm sees every grant, and the catalog is
// exactly the seed's 401 permissions again. On main, has_perm was False.
func TestOTPContentTypeIsDjangos(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	conn := fixture.Conn(t, dsn)
	// Back to the state main left: the catalog as it was, 0050 not applied.
	exec(t, conn, `UPDATE django_content_type SET model = 'TOTPdevice' WHERE app_label = 'otp_totp' AND model = 'totpdevice'`)
	exec(t, conn, `UPDATE auth_permission SET codename = replace(codename, 'totpdevice', 'TOTPdevice')
		WHERE content_type_id = (SELECT id FROM django_content_type WHERE app_label = 'otp_totp')`)
	exec(t, conn, `DELETE FROM b2badmin_schema_migrations WHERE version = 50`)
	ids := map[string]int{}
	rows, _ := conn.Query(ctx, `SELECT codename, p.id FROM auth_permission p JOIN django_content_type ct ON ct.id = p.content_type_id WHERE ct.app_label = 'otp_totp'`)
	var code string
	var id int
	if _, err := pgx.ForEachRow(rows, []any{&code, &id}, func() error { ids[strings.ToLower(code)] = id; return nil }); err != nil || len(ids) != 4 {
		t.Fatalf("otp permissions %v %v", ids, err)
	}
	ann := fixture.AddUser(t, conn, fixture.User{Email: "ann@example.com"})
	bob := fixture.AddUser(t, conn, fixture.User{Email: "bob@example.com"})
	exec(t, conn, `INSERT INTO rbac_user_user_permissions (user_id, permission_id) VALUES ($1, $2)`, ann, ids["add_totpdevice"])
	if hasPerm(t, conn, ann, "otp_totp.add_totpdevice") {
		t.Fatal("the simulated old state already looks fixed")
	}
	// What Django's migrate adds beside it: its own content type and four
	// permissions, some already granted through the Django admin.
	dupCT := scalar[int](t, conn, `INSERT INTO django_content_type (app_label, model) VALUES ('otp_totp', 'totpdevice') RETURNING id`)
	dup := map[string]int{}
	for _, a := range []string{"add", "change", "delete", "view"} {
		dup[a] = scalar[int](t, conn, `INSERT INTO auth_permission (name, content_type_id, codename) VALUES ($1, $2, $3) RETURNING id`,
			"Can "+a+" TOTP device", dupCT, a+"_totpdevice")
	}
	group := scalar[int](t, conn, `SELECT id FROM auth_group WHERE name = 'API'`)
	exec(t, conn, `INSERT INTO rbac_user_user_permissions (user_id, permission_id) VALUES ($1, $2), ($1, $3), ($4, $5)`,
		ann, dup["add"], dup["view"], bob, dup["change"])
	exec(t, conn, `INSERT INTO auth_group_permissions (group_id, permission_id) VALUES ($1, $2)`, group, dup["delete"])

	c := fixture.Conn(t, dsn)
	if _, err := schema.Migrate(ctx, c); err != nil {
		t.Fatal(err)
	}
	if n := scalar[int](t, conn, `SELECT count(*) FROM django_content_type WHERE app_label = 'otp_totp'`); n != 1 {
		t.Fatalf("%d otp_totp content types, want 1", n)
	}
	if m := scalar[string](t, conn, `SELECT model FROM django_content_type WHERE app_label = 'otp_totp'`); m != "totpdevice" {
		t.Fatalf("model %q", m)
	}
	for code, id := range ids {
		if got := scalar[string](t, conn, `SELECT codename FROM auth_permission WHERE id = $1`, id); got != code {
			t.Errorf("permission %d is %q, want %q (renamed in place)", id, got, code)
		}
	}
	if n := scalar[int](t, conn, `SELECT count(*) FROM auth_permission`); n != len(catalog.Permissions()) {
		t.Errorf("%d permissions, want the catalog's %d", n, len(catalog.Permissions()))
	}
	for _, p := range []struct {
		user int64
		perm string
	}{{ann, "otp_totp.add_totpdevice"}, {ann, "otp_totp.view_totpdevice"}, {bob, "otp_totp.change_totpdevice"}} {
		if !hasPerm(t, conn, p.user, p.perm) {
			t.Errorf("user %d lost %s", p.user, p.perm)
		}
	}
	if n := scalar[int](t, conn, `SELECT count(*) FROM rbac_user_user_permissions WHERE user_id = $1`, ann); n != 2 {
		t.Errorf("ann holds %d grants, want 2 (add once, view)", n)
	}
	if !scalar[bool](t, conn, `SELECT EXISTS (SELECT 1 FROM auth_group_permissions WHERE group_id = $1 AND permission_id = $2)`, group, ids["delete_totpdevice"]) {
		t.Error("the group's grant did not move to the original permission")
	}
	// Every catalog entry is in the database as Django names it.
	for _, p := range catalog.Permissions() {
		if !scalar[bool](t, conn, `SELECT EXISTS (SELECT 1 FROM auth_permission p JOIN django_content_type ct ON ct.id = p.content_type_id
			WHERE ct.app_label = $1 AND ct.model = $2 AND p.codename = $3)`, p.AppLabel, p.Model, p.Codename) {
			t.Errorf("%s.%s (%s) missing", p.AppLabel, p.Codename, p.Model)
		}
		if p.Model != strings.ToLower(p.Model) || (strings.HasSuffix(p.Codename, "_"+strings.ToLower(p.Model)) && p.Codename != strings.ToLower(p.Codename)) {
			t.Errorf("%s: Django lower-cases model names and default codenames", p.ID())
		}
	}
}

// Django's checks and migrations expect what its own migrations create:
// a plain unique constraint on the USERNAME_FIELD (auth.E003 failed with
// only the lower(email) index) and the ForeignKey and _like indexes of
// the tables Django owns. On main none of these existed.
func TestSchemaHasDjangosConstraintsAndIndexes(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn := fixture.Conn(t, dsn)
	if !scalar[bool](t, conn, `SELECT EXISTS (SELECT 1 FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
		WHERE c.conrelid = 'rbac_user'::regclass AND c.contype = 'u' AND cardinality(c.conkey) = 1 AND a.attname = 'email')`) {
		t.Fatal("rbac_user.email has no plain unique constraint (Django auth.E003)")
	}
	for name, def := range map[string]string{
		"auth_permission_content_type_id_2f476e4b":               "(content_type_id)",
		"auth_group_name_a6ea08ec_like":                          "(name varchar_pattern_ops)",
		"auth_group_permissions_group_id_b120cbf9":               "(group_id)",
		"auth_group_permissions_permission_id_84c5c92e":          "(permission_id)",
		"django_session_session_key_c0390e0f_like":               "(session_key varchar_pattern_ops)",
		"token_blacklist_outstandingtoken_jti_hex_d9bdf6f7_like": "(jti varchar_pattern_ops)",
	} {
		got := scalar[string](t, conn, `SELECT coalesce((SELECT indexdef FROM pg_indexes WHERE indexname = $1), '')`, name)
		if !strings.HasSuffix(got, def) {
			t.Errorf("index %s: %q, want one on %s", name, got, def)
		}
	}
	// The plain constraint changes nothing for the tool: addresses are
	// still unique whatever their case.
	fixture.AddUser(t, conn, fixture.User{Email: "Ann@example.com"})
	if _, err := conn.Exec(context.Background(), `INSERT INTO rbac_user (password, is_superuser, email, first_name, last_name, phone, ip_white_list, language,
		communication_language, is_staff, is_active, type, uuid, date_joined, is_company_owner)
		SELECT password, is_superuser, 'ann@EXAMPLE.com', first_name, last_name, phone, ip_white_list, language,
		communication_language, is_staff, is_active, type, gen_random_uuid(), date_joined, is_company_owner FROM rbac_user LIMIT 1`); err == nil {
		t.Fatal("a second address differing only in case was accepted")
	}
}
