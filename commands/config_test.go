package commands

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/b2badmin/b2badmin/client"
	"github.com/b2badmin/b2badmin/internal/fixture"
)

// withConfig writes $XDG_CONFIG_HOME/b2badmin/config.yaml and returns the
// environment naming it (B2BADMIN_DSN points nowhere: only a profile can
// make a command reach the database).
func withConfig(t *testing.T, yaml string) map[string]string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "b2badmin"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "b2badmin", "config.yaml"), []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return map[string]string{"XDG_CONFIG_HOME": dir, "B2BADMIN_DSN": ""}
}

func TestProfileSelectsDSNAndActor(t *testing.T) {
	t.Parallel()
	dsn, db := writeDB(t)
	fixture.AddUser(t, db, fixture.User{Email: "a@example.com"})
	env := withConfig(t, `
default_profile: broken
profiles:
  broken:
    dsn: "`+closedDSN+`"
  staging:
    dsn: "`+dsn+`"
    actor: ops-bot
`)
	// The default profile is used when none is named: it points nowhere.
	assertOneLineError(t, cliRun{Env: env}.run(t, "users", "update", "a@example.com", "--last-name", "X"), 1)
	// --profile picks staging: its DSN and its actor.
	if r := (cliRun{Env: env}).run(t, "--profile", "staging", "users", "update", "a@example.com", "--last-name", "X"); r.Code != 0 {
		t.Fatalf("exit %d: %s", r.Code, r.Stderr)
	}
	// B2BADMIN_PROFILE does the same; --actor overrides the profile's actor.
	env["B2BADMIN_PROFILE"] = "staging"
	if r := (cliRun{Env: env}).run(t, "--actor", "carol", "users", "update", "a@example.com", "--last-name", "Y"); r.Code != 0 {
		t.Fatalf("exit %d: %s", r.Code, r.Stderr)
	}
	logs := opLog(t, db)
	if len(logs) != 2 || logs[0].Actor != "ops-bot" || logs[1].Actor != "carol" {
		t.Fatalf("actors %+v", logs)
	}
	// An unknown profile is a usage error naming the known ones.
	r := cliRun{Env: env}.run(t, "--profile", "prod", "log")
	assertOneLineError(t, r, 2)
	if !strings.Contains(r.Stderr, "staging") {
		t.Fatalf("known profiles not listed: %q", r.Stderr)
	}
}

func TestMalformedConfigIsUsageErrorWithLine(t *testing.T) {
	t.Parallel()
	// A tab cannot indent YAML: the error names the file and line 3.
	env := withConfig(t, "profiles:\n  staging:\n\tdsn: x\n")
	r := cliRun{Env: env}.run(t, "log")
	assertOneLineError(t, r, 2)
	path := filepath.Join(env["XDG_CONFIG_HOME"], "b2badmin", "config.yaml")
	if !strings.HasPrefix(r.Stderr, "b2badmin: "+path+":3: ") {
		t.Fatalf("want %s:3: in %q", path, r.Stderr)
	}
	// An unknown key (a typo) is refused with its line too.
	env = withConfig(t, "profiles:\n  staging:\n    dns: postgres://x\n")
	path = filepath.Join(env["XDG_CONFIG_HOME"], "b2badmin", "config.yaml")
	r = cliRun{Env: env}.run(t, "log")
	assertOneLineError(t, r, 2)
	if !strings.HasPrefix(r.Stderr, "b2badmin: "+path+":3: ") || !strings.Contains(r.Stderr, "dns") {
		t.Fatalf("unknown key not reported with its line: %q", r.Stderr)
	}
	// In the words the policy and access files use, not Go's ("field
	// readonly not found in type commands.Profile" on main), each other
	// problem counted.
	for body, want := range map[string]string{
		"profiles:\n  x:\n    readonly: true\n":             `:3: profile: unknown key "readonly" (want dsn, read_dsn, actor, read_only, lock_timeout)` + "\n",
		"profile:\n  x: {}\n":                               `:1: config: unknown key "profile" (want default_profile, profiles)` + "\n",
		"profiles:\n  x:\n    readonly: true\n    dsm: x\n": `:3: profile: unknown key "readonly" (want dsn, read_dsn, actor, read_only, lock_timeout) (and 1 more problem)` + "\n",
		"profiles: [a]\n":                                   ":1: want a mapping, got a list\n", // on main: "into map[string]*commands.Profile"
		"profiles:\n  x:\n    read_only: maybe\n":           ":3: want true or false, got a string `maybe`\n",
	} {
		env = withConfig(t, body)
		path = filepath.Join(env["XDG_CONFIG_HOME"], "b2badmin", "config.yaml")
		r = cliRun{Env: env}.run(t, "log")
		assertOneLineError(t, r, 2)
		if r.Stderr != "b2badmin: "+path+want {
			t.Errorf("%q: stderr %q, want %q", body, r.Stderr, "b2badmin: "+path+want)
		}
	}
}

// A read_only profile and --read-only refuse every mutation before any
// SQL: with a DSN that points nowhere the refusal (exit 4) still wins
// over the connection failure (exit 1).
func TestReadOnlyRefusesBeforeAnySQL(t *testing.T) {
	t.Parallel()
	dsn, db := writeDB(t)
	fixture.AddUser(t, db, fixture.User{Email: "a@example.com", Type: "merchant"})
	before := fixture.DumpAll(t, db)
	cmds := [][]string{
		{"users", "update", "a@example.com", "--last-name", "X"},
		{"users", "deactivate", "a@example.com"},
		{"users", "activate", "a@example.com"},
		{"users", "add-group", "a@example.com", "Merchant owner"},
		{"users", "set-group", "a@example.com", "Merchant owner"},
		{"users", "remove-group", "a@example.com", "Merchant owner"},
		{"users", "set-password", "a@example.com", "--unusable"},
		{"users", "deactivate", "a@example.com", "--dry-run"},
	}
	roEnv := withConfig(t, "profiles:\n  prod:\n    dsn: \""+closedDSN+"\"\n    read_only: true\n  prodreal:\n    dsn: \""+dsn+"\"\n    read_only: true\n")
	for _, args := range cmds {
		for _, run := range []struct {
			name string
			r    cliResult
		}{
			{"--read-only", cliRun{DSN: closedDSN}.run(t, append([]string{"--read-only"}, args...)...)},
			{"read_only profile", cliRun{Env: roEnv}.run(t, append([]string{"--profile", "prod"}, args...)...)},
			{"read_only profile, real DSN", cliRun{Env: roEnv}.run(t, append([]string{"--profile", "prodreal"}, args...)...)},
		} {
			if run.r.Code != 4 || !strings.Contains(run.r.Stderr, "read-only") {
				t.Errorf("%s %v: exit %d %q, want 4 read-only", run.name, args, run.r.Code, run.r.Stderr)
			}
		}
	}
	// Reading still works under a read_only profile.
	if r := (cliRun{Env: roEnv}).run(t, "--profile", "prodreal", "log"); r.Code != 0 {
		t.Fatalf("log under read_only profile: exit %d %s", r.Code, r.Stderr)
	}
	assertUnchanged(t, db, before)
}

// The database refuses too: a connection opened read-only (what
// --read-only and read_only profiles open) sets
// default_transaction_read_only, so even a write the tool let through fails.
func TestReadOnlyConnectionRefusedByDatabase(t *testing.T) {
	t.Parallel()
	dsn, db := writeDB(t)
	fixture.AddUser(t, db, fixture.User{Email: "a@example.com"})
	before := fixture.DumpAll(t, db)
	ctx := context.Background()
	c, err := client.Connect(ctx, client.Options{DSN: dsn, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var setting string
	if err := c.DB().QueryRow(ctx, `SHOW default_transaction_read_only`).Scan(&setting); err != nil || setting != "on" {
		t.Fatalf("default_transaction_read_only = %q, %v", setting, err)
	}
	_, err = c.SetActive(ctx, client.Audit{Actor: "t"}, client.Targets{Refs: []string{"a@example.com"}}, false, false, client.ChangeOptions{})
	if err == nil || !strings.Contains(err.Error(), "read-only transaction") {
		t.Fatalf("write through a read-only connection: %v", err)
	}
	_, err = c.DB().Exec(ctx, `UPDATE rbac_user SET is_active = false`)
	if err == nil || !strings.Contains(err.Error(), "25006") {
		t.Fatalf("raw UPDATE through a read-only connection: %v", err)
	}
	assertUnchanged(t, db, before)
}
