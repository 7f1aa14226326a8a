package commands

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
)

// A 2,000-user deactivation is one run: log --run lists exactly its 2,000
// rows, each naming the tokens it blacklisted; log runs shows its counts.
func TestBulkDeactivationIsOneRun(t *testing.T) {
	t.Parallel()
	dsn, db := writeDB(t)
	mustExec(t, db, `INSERT INTO rbac_user (password, is_superuser, email, first_name, last_name, phone, ip_white_list, language,
        communication_language, is_staff, is_active, type, uuid, date_joined, is_company_owner)
        SELECT '!x', false, 'bulk' || g || '@example.com', '', '', '', '', 'en', 'en', false, true, 'merchant', gen_random_uuid(), now(), false
        FROM generate_series(1, 2100) g`)
	mustExec(t, db, `INSERT INTO token_blacklist_outstandingtoken (user_id, jti, token, created_at, expires_at)
        SELECT id, 'jti' || id, 'tok', now(), now() + interval '1 day' FROM rbac_user WHERE id % 5 = 0`)
	ids := make([]string, 0, 2000)
	for i := 1; i <= 2000; i++ {
		ids = append(ids, fmt.Sprint(i))
	}
	r := cliRun{DSN: dsn, Stdin: strings.Join(ids, "\n")}.run(t, "users", "deactivate", "-", "--yes", "--reason", "dormant")
	if r.Code != 0 {
		t.Fatalf("exit %d %s", r.Code, r.Stderr)
	}
	m := regexp.MustCompile(`(?m)^b2badmin: run ([0-9a-f-]{36}): deactivated 2,000 users \(400 tokens blacklisted\)$`).FindStringSubmatch(r.Stderr)
	if m == nil {
		t.Fatalf("run line: %q", r.Stderr)
	}
	logs := readLog(t, dsn, "--run", m[1])
	if len(logs) != 2000 {
		t.Fatalf("log --run: %d rows, want 2000", len(logs))
	}
	withTokens := 0
	for _, l := range logs {
		if toks, ok := l.After["blacklisted_tokens"].([]any); ok && len(toks) == 1 {
			withTokens++
		}
	}
	if withTokens != 400 {
		t.Fatalf("%d rows name a blacklisted token, want 400", withTokens)
	}
	var runs []map[string]any
	if err := json.Unmarshal([]byte(mustRun(t, dsn, "log", "runs", "-o", "json").Stdout), &runs); err != nil || len(runs) != 1 {
		t.Fatalf("log runs: %v %v", runs, err)
	}
	got := runs[0]
	if got["id"] != m[1] || got["users_changed"] != 2000.0 || got["changes"] != 2000.0 || got["tokens_blacklisted"] != 400.0 ||
		got["outcome"] != "committed" || got["mode"] != "command" || got["actor"] != "tester@"+hostname(t) {
		t.Fatalf("log runs row %v", got)
	}
	if !strings.Contains(got["command"].(string), "users deactivate - --yes --reason dormant") {
		t.Fatalf("run command %v", got["command"])
	}
	// Filters: by actor and by command.
	if n := len(mustRunJSONList(t, dsn, "log", "runs", "--command", "DEACTIVATE", "--since", "1h")); n != 1 {
		t.Fatalf("--command deactivate --since 1h: %d runs", n)
	}
	if n := len(mustRunJSONList(t, dsn, "log", "runs", "--actor", "someone-else")); n != 0 {
		t.Fatalf("--actor someone-else: %d runs", n)
	}
	if n := len(readLog(t, dsn, "--reason", "DORM", "--limit", "0")); n != 2000 {
		t.Fatalf("log --reason DORM: %d rows", n)
	}
}

func mustRunJSONList(t *testing.T, dsn string, args ...string) []any {
	t.Helper()
	var out []any
	if err := json.Unmarshal([]byte(mustRun(t, dsn, append(args, "-o", "json")...).Stdout), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

var osHostname = os.Hostname

func hostname(t *testing.T) string {
	t.Helper()
	h, err := osHostname()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// Every line of a batch changes under the batch's one run.
func TestBatchLinesShareOneRun(t *testing.T) {
	t.Parallel()
	e := newEngineDB(t)
	file := writeFile(t, "mixed.txt", `users update ann@example.com --first-name Ann2
perms grant bob@example.com 'API.view_*'
users deactivate cid@example.com dee@example.com
2fa disable ann@example.com
`)
	r := mustRun(t, e.dsn, "batch", file)
	m := regexp.MustCompile(`(?m)^b2badmin: run ([0-9a-f-]{36}): 4 ok, 0 failed; committed$`).FindStringSubmatch(r.Stderr)
	if m == nil {
		t.Fatalf("summary: %q", r.Stderr)
	}
	var runs, lines, other int64
	e.db.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM api_operationrun), (SELECT count(DISTINCT batch_line) FROM api_operationlog WHERE run_id = $1),
        (SELECT count(*) FROM api_operationlog WHERE run_id IS DISTINCT FROM $1)`, m[1]).Scan(&runs, &lines, &other)
	// cid was already inactive: line 3 changed dee only.
	if runs != 1 || lines != 4 || other != 0 {
		t.Fatalf("%d runs, %d lines logged under the run, %d rows elsewhere", runs, lines, other)
	}
	run := queryText(t, e.db, `SELECT outcome || ' ' || mode || ' ' || last_line || ' ' || users_changed || ' ' || changes || ' ' || batch_sha256 FROM api_operationrun`)
	if !regexp.MustCompile(`^committed batch 4 3 4 [0-9a-f]{64}$`).MatchString(run) {
		t.Fatalf("run row %q", run)
	}
}

// Run ids begin with their start time, so runs of one minute share their
// first 8 characters: an ambiguous prefix names the runs it begins (on
// main: only "give more of it").
func TestAmbiguousRunPrefixNamesTheRuns(t *testing.T) {
	t.Parallel()
	dsn, db := writeDB(t)
	ids := []string{"01a25105-1111-7000-8000-000000000001", "01a25105-2222-7000-8000-000000000002"}
	for _, id := range ids {
		mustExec(t, db, `INSERT INTO api_operationrun (id, started_at, ended_at, actor, command, target, mode, outcome, users_changed, changes,
			tokens_blacklisted, sessions_deleted, devices_deleted, batch_file, batch_sha256)
			VALUES ($1::uuid, now(), now(), 'a', 'b2badmin users update 1', 't', 'command', 'committed', 1, 1, 0, 0, 0, '', '')`, id)
	}
	r := runCLI(t, dsn, "log", "--run", "01A25105")
	assertOneLineError(t, r, ExitRefused)
	if want := `b2badmin: run id "01a25105" is ambiguous: it begins ` + ids[0] + ", " + ids[1] + "; give more of it (b2badmin log runs lists them)\n"; r.Stderr != want {
		t.Errorf("stderr %q, want %q", r.Stderr, want)
	}
	if r := mustRun(t, dsn, "log", "--run", "01a25105-2", "-o", "json"); strings.TrimSpace(r.Stdout) != "[]" {
		t.Errorf("a unique prefix: %q", r.Stdout)
	}
}
