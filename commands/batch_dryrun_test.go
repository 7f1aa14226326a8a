package commands

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/b2badmin/b2badmin/internal/fixture"
)

// A --dry-run batch runs the lines that change different users side by
// side (client.Gather) and reads their changes back once per window; with
// or without --continue-on-error it must report exactly what a dry run
// line by line reports: the same results, outputs and change lists, a
// line on the same user as an earlier one seeing its change, and nothing
// applied. Not parallel: it runs line by line (windowLimit) and counts
// the windows that ran side by side (windowHook).
func TestDryRunSideBySideMatchesLineByLine(t *testing.T) {
	e := newEngineDB(t)
	before := fixture.DumpAll(t, e.db)
	file := writeTemp(t, "dry.txt", sideBySideText)
	ran := countWindows(t)
	for _, mode := range [][]string{nil, {"--continue-on-error"}} {
		results := func() []batchResult {
			r := runCLI(t, e.dsn, append(append([]string{"batch", "--dry-run", "-o", "jsonl"}, mode...), file)...)
			if r.Code != ExitOK || !strings.Contains(r.Stderr, "10 ok, 0 failed; dry run: rolled back, nothing was applied") {
				t.Fatalf("batch --dry-run %v: exit %d\n%s", mode, r.Code, r.Stderr)
			}
			return parseResults(t, dropTimes(r.Stdout))
		}
		var want []batchResult
		lineByLine(func() { want = results() })
		if n := ran.windows.Swap(0); n != 0 {
			t.Fatalf("%v: line by line ran %d windows side by side", mode, n)
		}
		got := results()
		if n := ran.windows.Swap(0); n < 2 {
			t.Fatalf("%v: the dry run ran %d windows side by side, want 2 or more", mode, n)
		}
		compareResults(t, want, got, len(want))
		var line4 struct {
			Before map[string]any `json:"before"`
			After  map[string]any `json:"after"`
		}
		if len(got[3].Changes) != 1 || json.Unmarshal(got[3].Changes[0], &line4) != nil ||
			line4.Before["first_name"] != "A1" || line4.After["first_name"] != "A2" {
			t.Fatalf("%v: line 4 did not see line 1's change: %s", mode, got[3].Changes)
		}
	}
	assertUnchanged(t, e.db, before)
}

// lineByLine runs fn with batches running every line alone: the
// reference a side-by-side run must match.
func lineByLine(fn func()) {
	windowLimit = 1
	defer func() { windowLimit = maxWindow }()
	fn()
}

// windowCount is how many windows ran side by side, and their lines.
type windowCount struct{ windows, lines atomic.Int64 }

// countWindows counts the windows that run side by side, and their
// lines, until the test ends.
func countWindows(t *testing.T) *windowCount {
	var n windowCount
	windowHook = func(lines int) {
		n.windows.Add(1)
		n.lines.Add(int64(lines))
	}
	t.Cleanup(func() { windowHook = nil })
	return &n
}

var resultTimes = regexp.MustCompile(`\\"(created_at|date_joined|last_login|updated_at|from|to|month)\\": \\"[^"\\]*\\"`)

// dropTimes drops the times of day from a run's change lists.
func dropTimes(stdout string) string { return resultTimes.ReplaceAllString(stdout, "") }

// compareResults fails on the first n results that differ.
func compareResults(t *testing.T, want, got []batchResult, n int) {
	t.Helper()
	if len(want) < n || len(got) < n {
		t.Fatalf("%d and %d results, want %d each", len(want), len(got), n)
	}
	show := func(r batchResult) string {
		return fmt.Sprintf("line %d %s exit %d error %s\noutput %s\nchanges %s", r.Line, r.Status, r.ExitCode, derefOr(r.Error), derefOr(r.Output), r.Changes)
	}
	for i := 0; i < n; i++ {
		if w, g := show(want[i]), show(got[i]); w != g {
			t.Errorf("result %d differs:\n--- line by line\n%s\n--- side by side\n%s", i+1, w, g)
		}
	}
}

func derefOr(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

// When a write fails in a --dry-run batch, wherever it fails (as the
// lines run side by side, or when a window's writes are sent to read its
// changes back, or on a line that runs alone), the batch reports what a
// dry run line by line reports: the lines before it ok with their change
// lists, the failed line with its own error, the rest not run, nothing
// applied. With --continue-on-error every line is reported, as line by
// line: the failed one failed, the others with their change lists. Not
// parallel: the reference runs line by line (windowLimit).
func TestDryRunWriteFailuresAtTheirLine(t *testing.T) {
	ran := countWindows(t)
	for _, c := range []struct {
		name, text string
		fails      int // the failing line
		lines      int
	}{
		// bob's write fails as lines 1-3 run side by side (line 3 still
		// has round trips to make).
		{"in the window", "users update ann@example.com --first-name Ok\nusers update bob@example.com --last-name Boom\n" +
			"perms grant dee@example.com api.view_wallet\n", 2, 3},
		// Lines 1-2 have sent their writes; line 3's fail as the window's
		// changes are read back.
		{"reading back", "users update ann@example.com --first-name Ok\nusers update dee@example.com --first-name Fine\n" +
			"users deactivate bob@example.com\n", 3, 3},
		// A line alone (the same user twice): its writes fail when its
		// changes are read.
		{"alone", "users update ann@example.com --first-name Ok\nusers update ann@example.com --first-name BOOM\n" +
			"users update dee@example.com --first-name Later\n", 2, 3},
		{"one line", "users update ann@example.com --first-name BOOM\n", 1, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newBoomDB(t)
			before := fixture.DumpAll(t, e.db)
			file := writeTemp(t, "dry-boom.txt", c.text)
			r := runCLI(t, e.dsn, "batch", "--dry-run", "-o", "jsonl", file)
			summary := fmt.Sprintf("%d ok, 1 failed", c.fails-1)
			if c.fails < c.lines {
				summary += fmt.Sprintf(", %d not run (stopped before %s:%d)", c.lines-c.fails, file, c.fails+1)
			}
			if r.Code != ExitFailure || !strings.Contains(r.Stderr, fmt.Sprintf("%s:%d: ", file, c.fails)) ||
				!strings.Contains(r.Stderr, summary+"; dry run: rolled back, nothing was applied") {
				t.Fatalf("exit %d, want summary %q\n%s", r.Code, summary, r.Stderr)
			}
			got := parseResults(t, r.Stdout)
			var alone cliResult
			lineByLine(func() { alone = runCLI(t, e.dsn, "batch", "--dry-run", "-o", "jsonl", file) })
			want := parseResults(t, alone.Stdout)
			compareResults(t, want, got, c.fails)
			if len(got) != c.fails || len(want) != c.fails {
				t.Fatalf("%d and %d results, want %d", len(got), len(want), c.fails)
			}
			last := got[c.fails-1]
			if last.Status != "failed" || last.Line != c.fails || last.Error == nil || !strings.HasPrefix(*last.Error, "ERROR: no BOOM here") {
				t.Fatalf("line %d: %+v %s", c.fails, last, derefOr(last.Error))
			}
			for _, r := range got[:c.fails-1] {
				if len(r.Changes) == 0 {
					t.Fatalf("line %d shows no changes: %+v", r.Line, r)
				}
			}
			// Every line, with --continue-on-error.
			all := runCLI(t, e.dsn, "batch", "--dry-run", "--continue-on-error", "-o", "jsonl", file)
			lineByLine(func() { alone = runCLI(t, e.dsn, "batch", "--dry-run", "--continue-on-error", "-o", "jsonl", file) })
			summary = fmt.Sprintf("%d ok, 1 failed; dry run", c.lines-1)
			if all.Code != ExitFailure || !strings.Contains(all.Stderr, summary) || alone.Code != ExitFailure {
				t.Fatalf("--continue-on-error: exit %d and %d line by line, want summary %q\n%s", all.Code, alone.Code, summary, all.Stderr)
			}
			compareResults(t, parseResults(t, dropTimes(alone.Stdout)), parseResults(t, dropTimes(all.Stdout)), c.lines)
			assertUnchanged(t, e.db, before)
		})
	}
	if ran.windows.Load() == 0 {
		t.Fatal("no window ran side by side")
	}
}

// A --dry-run --continue-on-error batch whose windows fail, several times
// in one window and in both ways (a write the server refuses, a change
// the tool refuses before writing), reports every line as a run line by
// line does, the lines after each failure with their change lists, and
// still runs most lines side by side.
func TestDryRunContinueOnErrorWindowsWithFailures(t *testing.T) {
	e := newBoomDB(t)
	before := fixture.DumpAll(t, e.db)
	ran := countWindows(t)
	text := strings.Join([]string{
		"users update ann@example.com --first-name A1",
		"users update bob@example.com --last-name Boom", // bob is BOOM: his update fails
		"perms grant dee@example.com api.view_wallet",
		"users add-group cid@example.com 'Phone not verified'",
		"users update ann@example.com --first-name A2",     // a new window
		"users add-group bob@example.com 'Merchant owner'", // refused: one role group
		"users update dee@example.com --first-name BOOM",   // fails
		"users activate cid@example.com",
		"users update bob@example.com --phone +15550002", // fails
		"perms revoke ann@example.com api.view_wallet",
		"",
	}, "\n")
	file := writeTemp(t, "dry-coe.txt", text)
	run := func() []batchResult {
		r := runCLI(t, e.dsn, "batch", "--dry-run", "--continue-on-error", "-o", "jsonl", file)
		if r.Code != ExitFailure || !strings.Contains(r.Stderr, "6 ok, 4 failed; dry run: rolled back, nothing was applied") {
			t.Fatalf("exit %d\n%s", r.Code, r.Stderr)
		}
		return parseResults(t, dropTimes(r.Stdout))
	}
	var want []batchResult
	lineByLine(func() { want = run() })
	ran.windows.Store(0)
	got := run()
	if ran.windows.Load() < 2 {
		t.Fatalf("%d windows ran side by side, want 2 or more", ran.windows.Load())
	}
	compareResults(t, want, got, 10)
	for _, r := range got {
		failed := r.Line == 2 || r.Line == 6 || r.Line == 7 || r.Line == 9
		if (r.Status == "failed") != failed || (!failed && len(r.Changes) == 0) {
			t.Fatalf("line %d: %s with %d changes", r.Line, r.Status, len(r.Changes))
		}
	}
	assertUnchanged(t, e.db, before)
}

// newBoomDB is the engine's database where any update of a user to, or
// of a user already, named BOOM fails on the server; bob is BOOM.
func newBoomDB(t *testing.T) engineDB {
	t.Helper()
	e := newEngineDB(t)
	addBoomTrigger(t, e.db)
	mustExec(t, e.db, `ALTER TABLE rbac_user DISABLE TRIGGER boom`)
	mustExec(t, e.db, `UPDATE rbac_user SET first_name = 'BOOM' WHERE id = $1`, e.bob)
	mustExec(t, e.db, `ALTER TABLE rbac_user ENABLE TRIGGER boom`)
	return e
}

// A dry run (with or without --continue-on-error) interrupted after a
// window's lines ran, before their changes were read back, shows none of
// them ok without its change list: the first is reported interrupted,
// the rest not run, nothing applied. Not parallel: it interrupts from
// windowHook.
func TestDryRunInterruptedWindowShowsNoLineWithoutChanges(t *testing.T) {
	e := newEngineDB(t)
	before := fixture.DumpAll(t, e.db)
	file := writeTemp(t, "dry-int.txt", sideBySideText)
	defer func() { windowHook = nil }()
	for _, mode := range [][]string{nil, {"--continue-on-error"}} {
		ctx, cancel := context.WithCancel(context.Background())
		windowHook = func(lines int) {
			if lines > 1 {
				cancel()
			}
		}
		r := cliRun{DSN: e.dsn, Ctx: ctx}.run(t, append(append([]string{"batch", "--dry-run", "-o", "jsonl"}, mode...), file)...)
		cancel()
		summary := fmt.Sprintf("0 ok, 1 failed, 9 not run (stopped before %s:2); dry run: rolled back, nothing was applied", file)
		if r.Code != ExitFailure || !strings.Contains(r.Stderr, summary) {
			t.Fatalf("%v: exit %d, want 1 and %q\n%s", mode, r.Code, summary, r.Stderr)
		}
		got := parseResults(t, r.Stdout)
		if len(got) != 1 || got[0].Line != 1 || got[0].Status != "failed" || derefOr(got[0].Error) != "interrupted" || got[0].Changes != nil {
			t.Fatalf("%v: results %+v, want line 1 interrupted and nothing else", mode, got)
		}
	}
	assertUnchanged(t, e.db, before)
}

// A window that fails again at an earlier line while lines of the first
// failure still wait to run again (a refusal before a failed write), a
// file where every line fails, and one failure before 400 lines that go
// through: --dry-run, with and without --continue-on-error, reports what
// a run line by line reports, and runs the windows the design says (a
// window halves the next after a failure, which doubles again once four
// times as many lines went through; lines that failed on their own run
// alone). Not parallel: windowLimit, windowHook.
func TestDryRunFailuresCloseTogether(t *testing.T) {
	e := newBoomDB(t)
	var many []string
	for i := range 200 {
		fixture.AddUser(t, e.db, fixture.User{Email: fmt.Sprintf("u%03d@example.com", i), Type: "merchant"})
		many = append(many, fmt.Sprintf("users update u%03d@example.com --first-name BOOM", i))
	}
	// u001-u199 in turn: no user twice in 128 lines.
	oneFailure := []string{"users update u000@example.com --first-name BOOM"}
	for i := range 400 {
		oneFailure = append(oneFailure, fmt.Sprintf("users update u%03d@example.com --first-name N%d", i%199+1, i))
	}
	before := fixture.DumpAll(t, e.db)
	ran := countWindows(t)
	for _, c := range []struct {
		name  string
		lines []string
		// the summaries, line by line and so side by side too
		stops, goesOn string
		stopCode      int // the exit code of the first failing line
		// the windows run with --continue-on-error, and their lines
		windows, ran int64
	}{
		{"refusal before a failed write", []string{
			"users update ann@example.com --first-name A1",
			"users add-group bob@example.com 'Merchant owner'", // refused: one role group
			"perms grant dee@example.com api.view_wallet",
			"users activate cid@example.com",
			"users update u000@example.com --first-name BOOM", // fails on the server
			"users update ann@example.com --first-name A2",
			"users update u001@example.com --first-name Fine",
			// 1-5 fail (2 and 5 alone after), then 3-4, then 6-7
		}, "1 ok, 1 failed, 5 not run", "5 ok, 2 failed", ExitRefused, 3, 5 + 2 + 2},
		// 1-128 fail at 1, 2-65 at 2, 3-34 at 3, …: then every line alone
		{"every line fails", many, "0 ok, 1 failed, 199 not run", "0 ok, 200 failed", ExitFailure, 7, 128 + 64 + 32 + 16 + 8 + 4 + 2},
		// 1-128 fail at 1; 2-65, 66-129, 130-193, 194-257; 256 lines
		// went through: 258-385; 386-401
		{"one failure, then windows grow", oneFailure, "0 ok, 1 failed, 400 not run", "400 ok, 1 failed", ExitFailure, 7, 128 + 4*64 + 128 + 16},
	} {
		t.Run(c.name, func(t *testing.T) {
			file := writeTemp(t, "close.txt", strings.Join(c.lines, "\n")+"\n")
			for _, mode := range [][]string{nil, {"--continue-on-error"}} {
				summary, code := c.stops, c.stopCode
				if mode != nil {
					summary, code = c.goesOn, ExitFailure
				}
				run := func() cliResult {
					r := runCLI(t, e.dsn, append(append([]string{"batch", "--dry-run", "-o", "jsonl"}, mode...), file)...)
					if r.Code != code || !strings.Contains(r.Stderr, summary) {
						t.Fatalf("%v: exit %d, want %d and %q\n%s", mode, r.Code, code, summary, r.Stderr)
					}
					return r
				}
				var alone cliResult
				lineByLine(func() { alone = run() })
				ran.windows.Store(0)
				ran.lines.Store(0)
				got := run()
				if mode != nil && (ran.windows.Load() != c.windows || ran.lines.Load() != c.ran) {
					t.Errorf("%v: %d windows of %d lines in all, want %d of %d", mode, ran.windows.Load(), ran.lines.Load(), c.windows, c.ran)
				}
				if got.Stderr != alone.Stderr {
					t.Errorf("%v: stderr differs:\n--- line by line\n%s--- side by side\n%s", mode, alone.Stderr, got.Stderr)
				}
				want := parseResults(t, dropTimes(alone.Stdout))
				compareResults(t, want, parseResults(t, dropTimes(got.Stdout)), len(want))
			}
		})
	}
	assertUnchanged(t, e.db, before)
}
