package commands

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// interruptRuns is how many batches TestInterruptedBatchReportMatchesDatabase
// interrupts: B2BADMIN_INTERRUPT_RUNS, default 100 (about half a minute).
func interruptRuns(t *testing.T) int {
	n := 100
	if v := os.Getenv("B2BADMIN_INTERRUPT_RUNS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			t.Fatalf("B2BADMIN_INTERRUPT_RUNS=%q: want a positive number", v)
		}
	}
	return n
}

const interruptLines = 20

var (
	failedLineRE  = regexp.MustCompile(`^(.+):(\d+): (.*)$`)
	summaryLineRE = regexp.MustCompile(`^b2badmin: (?:run ([0-9a-f-]{36}): )?(\d+) ok, (\d+) failed` +
		`(?:, (\d+) not run \(stopped before (.+):(\d+)\))?; (.*)$`)
)

// batchReport is what an interrupted batch said on stderr.
type batchReport struct {
	runID        string
	ok, failed   int
	notRun       int
	stoppedAt    int // 0: not stopped
	outcome      string
	failedLine   int
	failedMsg    string
	unknown      bool // the failed line's COMMIT outcome is unknown
	extra        []string
	summaryFound bool
}

func parseBatchReport(t *testing.T, file, stderr string) batchReport {
	var r batchReport
	for _, line := range strings.Split(strings.TrimRight(stderr, "\n"), "\n") {
		switch m := summaryLineRE.FindStringSubmatch(line); {
		case line == "":
		case m != nil:
			if r.summaryFound {
				r.extra = append(r.extra, line)
				continue
			}
			r.summaryFound = true
			r.runID = m[1]
			r.ok, _ = strconv.Atoi(m[2])
			r.failed, _ = strconv.Atoi(m[3])
			if m[4] != "" {
				r.notRun, _ = strconv.Atoi(m[4])
				r.stoppedAt, _ = strconv.Atoi(m[6])
				if m[5] != file {
					r.extra = append(r.extra, line)
				}
			}
			r.outcome = m[7]
		case strings.HasPrefix(line, file+":"):
			f := failedLineRE.FindStringSubmatch(line)
			if f == nil || r.failedLine != 0 {
				r.extra = append(r.extra, line)
				continue
			}
			r.failedLine, _ = strconv.Atoi(f[2])
			r.failedMsg = f[3]
			r.unknown = strings.Contains(f[3], "may or may not have been applied")
		case r.summaryFound && strings.HasPrefix(line, "b2badmin: interrupted"):
			// the batch's last word after its summary
		default:
			r.extra = append(r.extra, line)
		}
	}
	return r
}

// Outside --atomic a SIGINT or SIGTERM (or --timeout) that landed while a
// line's COMMIT was on the wire cancelled the wait, not the commit: the
// tool said "FILE:K: interrupted; nothing was committed" although line K
// had committed with its log row (15 of 112 runs of a 400-line batch on
// main before the engine committed with a context the signal cannot
// cancel). This test is the proof: default-mode batches of the real
// binary, each signalled once at a random moment, and after each the
// tool's report (FILE:K: … and the "run ID: N ok, …" summary) is compared
// with the database: which lines have log rows (each at most once), the
// run's last_line and outcome, the users' names, and the exit code. Every
// few interrupted runs is resumed, which must apply each remaining line
// exactly once.
func TestInterruptedBatchReportMatchesDatabase(t *testing.T) {
	runs := interruptRuns(t)
	dsn, conn := batchDB(t)
	ctx := context.Background()
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	names := map[int]string{1: "orig", 2: "orig", 3: "orig"} // what each user's first name must be
	lineFile := func(run int) (string, []string) {
		var b strings.Builder
		values := make([]string, interruptLines+1)
		for k := 1; k <= interruptLines; k++ {
			values[k] = fmt.Sprintf("r%dl%d", run, k)
			fmt.Fprintf(&b, "users update %d --first-name %s\n", (k-1)%3+1, values[k])
		}
		return writeTemp(t, fmt.Sprintf("batch%d.txt", run), b.String()), values
	}
	userOf := func(k int) int { return (k-1)%3 + 1 }

	// Uninterrupted batches: the path works, and their time (the slowest
	// of three) spans the moments the signals are drawn from.
	realBinary(t)
	var span time.Duration
	for i := 0; i < 3; i++ {
		file, values := lineFile(-i)
		start := time.Now()
		if out, err := realCmd(t, dsn, "batch", file).CombinedOutput(); err != nil {
			t.Fatalf("uninterrupted batch: %v\n%s", err, out)
		}
		span = max(span, time.Since(start))
		for k := 1; k <= interruptLines; k++ {
			names[userOf(k)] = values[k]
		}
	}
	// Most of that is starting: connecting and the pre-check. Four runs
	// in five are signalled while the lines run, the fifth any time.
	one := writeTemp(t, "one.txt", "users update 1 --first-name "+names[1]+"\n")
	var startup time.Duration
	for i := 0; i < 3; i++ {
		start := time.Now()
		if out, err := realCmd(t, dsn, "batch", one).CombinedOutput(); err != nil {
			t.Fatalf("one-line batch: %v\n%s", err, out)
		}
		if d := time.Since(start); startup == 0 || d < startup {
			startup = d
		}
	}
	startup = min(startup*8/10, span/2)
	t.Logf("an uninterrupted %d-line batch takes %v, %v of it starting", interruptLines, span.Round(time.Millisecond), startup.Round(time.Millisecond))

	tally := map[string]int{}
	resumes := 0
	for run := 1; run <= runs; run++ {
		file, values := lineFile(run)
		sig := []os.Signal{os.Interrupt, syscall.SIGTERM}[rng.Intn(2)]
		delay := time.Duration(rng.Int63n(int64(span) * 11 / 10))
		if rng.Intn(5) > 0 {
			delay = startup + time.Duration(rng.Int63n(int64(span-startup)*11/10))
		}
		cmd := realCmd(t, dsn, "batch", file)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(delay)
		_ = cmd.Process.Signal(sig)
		err := cmd.Wait()
		code := 0
		killed := false
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			code = exit.ExitCode()
			if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				killed = true // before the runtime installed its handler
			}
		} else if err != nil {
			t.Fatal(err)
		}
		committed, runRow := batchTruth(t, conn, file)
		rep := parseBatchReport(t, file, stderr.String())
		fail := func(format string, a ...any) {
			t.Helper()
			t.Fatalf("run %d (%v after %v): %s\nstderr:\n%s\nlog rows of lines %v, run %+v", run, sig, delay.Round(time.Microsecond),
				fmt.Sprintf(format, a...), stderr.String(), committed, runRow)
		}
		if killed {
			if len(committed) > 0 || runRow != nil || stderr.Len() > 0 {
				fail("killed by the signal before it could run, yet something happened")
			}
			tally["killed before starting"]++
			continue
		}
		if !rep.summaryFound && len(committed) == 0 && runRow == nil &&
			strings.HasPrefix(stderr.String(), "b2badmin: interrupted by ") && strings.Count(stderr.String(), "\n") == 1 {
			// Stopped while starting (the pre-check, connecting): one line.
			if sigCode := 128 + int(sig.(syscall.Signal)); code != sigCode {
				fail("exit %d, want %d", code, sigCode)
			}
			tally["interrupted before its first line"]++
			continue
		}
		if !rep.summaryFound || len(rep.extra) > 0 {
			fail("no summary, or lines that are neither a failed line nor the summary: %q", rep.extra)
		}
		// The lines the report says committed, in order from line 1.
		want := make([]int, 0, rep.ok+1)
		for k := 1; k <= rep.ok; k++ {
			want = append(want, k)
		}
		if rep.failed > 0 {
			if rep.failed != 1 || rep.failedLine != rep.ok+1 {
				fail("a default-mode batch fails at most its next line: %d failed, at line %d after %d ok", rep.failed, rep.failedLine, rep.ok)
			}
			switch {
			case rep.unknown:
				if len(committed) == rep.ok+1 {
					want = append(want, rep.failedLine) // it did commit: allowed when the report says it may have
				}
			case !strings.Contains(rep.failedMsg, "nothing was committed") && !strings.Contains(rep.failedMsg, "rolled back"):
				fail("line %d failed with %q, not an interruption", rep.failedLine, rep.failedMsg)
			}
		}
		if fmt.Sprint(committed) != fmt.Sprint(want) {
			fail("the report says lines %v committed; the log has rows of lines %v", want, committed)
		}
		if ran := rep.ok + rep.failed; ran < interruptLines && rep.stoppedAt != ran+1 {
			fail("%d lines ran but the report says it stopped before line %d", ran, rep.stoppedAt)
		}
		last := 0
		if len(committed) > 0 {
			last = committed[len(committed)-1]
		}
		switch {
		case last == 0 && (runRow != nil || rep.runID != ""):
			fail("nothing committed, yet a run is recorded or reported")
		case last > 0 && runRow == nil:
			fail("lines committed but no run is recorded")
		case last > 0 && (rep.runID != runRow.id || runRow.lastLine == nil || *runRow.lastLine != last || runRow.outcome != rep.outcome || !runRow.sameRun):
			fail("the summary names run %s (%s); the database has run %s, last line %v, outcome %q", rep.runID, rep.outcome, runRow.id, runRow.lastLine, runRow.outcome)
		}
		complete := last == interruptLines && rep.failed == 0
		if complete && code == 0 {
			if rep.outcome != "committed" {
				fail("all lines ran, outcome %q", rep.outcome)
			}
		} else if sigCode := 128 + int(sig.(syscall.Signal)); code != sigCode {
			fail("exit %d, want %d (interrupted)", code, sigCode)
		}
		for _, k := range committed {
			names[userOf(k)] = values[k]
		}
		if got := firstNames(t, conn); fmt.Sprint(got) != fmt.Sprint([]string{names[1], names[2], names[3]}) {
			fail("users' names %v, want %v from the committed lines", got, []string{names[1], names[2], names[3]})
		}
		switch {
		case complete:
			tally["finished before the signal"]++
		case rep.unknown:
			tally["COMMIT outcome unknown"]++
		case rep.failed == 1:
			tally[fmt.Sprintf("line interrupted (%s)", strings.SplitN(rep.failedMsg, ";", 2)[0])]++
		default:
			tally["stopped between lines"]++
		}
		// Every fifth interrupted run with a run to continue is resumed:
		// each remaining line must commit exactly once.
		if !complete && last > 0 && run%5 == 0 {
			resumes++
			if out, err := realCmd(t, dsn, "batch", "--resume", rep.runID, file).CombinedOutput(); err != nil {
				fail("resume: %v\n%s", err, out)
			}
			committed, runRow = batchTruth(t, conn, file)
			all := make([]int, interruptLines)
			for k := range all {
				all[k] = k + 1
			}
			if fmt.Sprint(committed) != fmt.Sprint(all) || runRow == nil || *runRow.lastLine != interruptLines {
				fail("after --resume: log rows of lines %v, run %+v", committed, runRow)
			}
			for k := 1; k <= interruptLines; k++ {
				names[userOf(k)] = values[k]
			}
		}
	}
	var keys []string
	for k := range tally {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "\n  %4d  %s", tally[k], k)
	}
	t.Logf("%d interrupted default-mode batches of %d lines, %d resumed; every report matched the database:%s", runs, interruptLines, resumes, b.String())
	_ = ctx
}

// runTruth is a batch's run as the database has it.
type runTruth struct {
	id       string
	lastLine *int
	outcome  string
	sameRun  bool // every log row of the file carries this run's id
}

// batchTruth is what the database holds about the batch of file: the
// lines that have log rows (sorted, a line repeated if it has several)
// and its run.
func batchTruth(t *testing.T, conn *pgx.Conn, file string) ([]int, *runTruth) {
	t.Helper()
	ctx := context.Background()
	rows, _ := conn.Query(ctx, `SELECT batch_line FROM api_operationlog WHERE batch_file = $1 ORDER BY batch_line`, file)
	lines, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		t.Fatal(err)
	}
	var r runTruth
	err = conn.QueryRow(ctx, `SELECT id::text, last_line, outcome,
		NOT EXISTS (SELECT 1 FROM api_operationlog l WHERE l.batch_file = $1 AND l.run_id IS DISTINCT FROM r.id)
		FROM api_operationrun r WHERE batch_file = $1`, file).Scan(&r.id, &r.lastLine, &r.outcome, &r.sameRun)
	if errors.Is(err, pgx.ErrNoRows) {
		return lines, nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return lines, &r
}
