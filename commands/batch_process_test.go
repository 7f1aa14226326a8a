package commands

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/b2badmin/b2badmin/internal/fixture"
)

// helperCmd runs this test binary as b2badmin (see TestBatchHelperProcess):
// a real process with real signals, whose lines can use the test commands.
func helperCmd(t *testing.T, dsn string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"-test.run=^TestBatchHelperProcess$", "--"}, args...)...)
	cmd.Env = append(os.Environ(), "B2BADMIN_TEST_HELPER=1", "B2BADMIN_DSN="+dsn, "XDG_CONFIG_HOME="+t.TempDir(), "B2BADMIN_PROFILE=")
	return cmd
}

// waitFor polls cond every 20 ms until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func countQuery(t *testing.T, conn *pgx.Conn, q string, args ...any) int {
	t.Helper()
	var n int
	if err := conn.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// An --atomic batch stopped mid-run — SIGKILL (no chance to clean up),
// SIGTERM or SIGINT — leaves the database exactly as it was, although it
// had already written (uncommitted) rows when it was stopped.
func TestBatchAtomicInterruptedAppliesNothing(t *testing.T) {
	for _, sig := range []os.Signal{syscall.SIGKILL, syscall.SIGTERM, os.Interrupt} {
		t.Run(sig.String(), func(t *testing.T) {
			dsn, conn := batchDB(t)
			before := fixture.DumpAll(t, conn)
			var b strings.Builder
			for i := 0; i < 300; i++ {
				fmt.Fprintf(&b, "t set-name %d name%d\n", i%3+1, i)
			}
			b.WriteString("t sleep 60s\n")
			b.WriteString("t set-name 1 after-sleep\n")
			file := writeTemp(t, "big.txt", b.String())

			cmd := helperCmd(t, dsn, "batch", "--atomic", "-o", "jsonl", file)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			// Mid-run: the batch's transaction holds writes (a transaction id)
			// and waits in the sleeping line. Nothing is visible outside it.
			db := "(SELECT current_database())"
			waitFor(t, 20*time.Second, "the batch to be mid-transaction", func() bool {
				return countQuery(t, conn, `SELECT count(*) FROM pg_stat_activity WHERE datname = `+db+
					` AND backend_xid IS NOT NULL AND state = 'idle in transaction'`) == 1
			})
			if fixture.DumpAll(t, conn) != before {
				t.Fatal("uncommitted batch rows are visible")
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			err := cmd.Wait()
			var exit *exec.ExitError
			if !errors.As(err, &exit) {
				t.Fatalf("batch ended with %v, want a failure", err)
			}
			if sig == syscall.SIGKILL {
				if ws, ok := exit.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
					t.Fatalf("not killed: %v", err)
				}
			} else {
				if exit.ExitCode() != ExitFailure || !strings.Contains(stderr.String(), "rolled back, nothing was applied") {
					t.Fatalf("exit %d, stderr %q", exit.ExitCode(), stderr.String())
				}
			}
			// The server ends the dead session's transaction.
			waitFor(t, 10*time.Second, "the batch's session to end", func() bool {
				return countQuery(t, conn, `SELECT count(*) FROM pg_stat_activity WHERE datname = `+db+` AND pid <> pg_backend_pid()`) == 0
			})
			if fixture.DumpAll(t, conn) != before {
				t.Fatal("an interrupted --atomic batch changed the database")
			}
		})
	}
}

// The same with the real binary (go build) and real commands: SIGKILL as
// soon as the batch's transaction has written, long before its last line.
func TestBatchAtomicKilledRealBinary(t *testing.T) {
	dsn, conn := batchDB(t)
	bin := filepath.Join(t.TempDir(), "b2badmin")
	build := exec.Command("go", "build", "-o", bin, "../cmd/b2badmin")
	build.Env = append(os.Environ(), "PATH="+os.Getenv("PATH")+":/usr/local/go/bin")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	before := fixture.DumpAll(t, conn)
	var b strings.Builder
	for i := 0; i < 5000; i++ {
		fmt.Fprintf(&b, "users update %d --first-name n%d\n", i%3+1, i)
	}
	file := writeTemp(t, "big.txt", b.String())
	cmd := exec.Command(bin, "batch", "--atomic", file)
	cmd.Env = append(os.Environ(), "B2BADMIN_DSN="+dsn, "XDG_CONFIG_HOME="+t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	db := "(SELECT current_database())"
	waitFor(t, 30*time.Second, "the batch to have written", func() bool {
		return countQuery(t, conn, `SELECT count(*) FROM pg_stat_activity WHERE datname = `+db+` AND backend_xid IS NOT NULL`) == 1
	})
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("batch ended with %v before it was killed", err)
	}
	if ws, ok := exit.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
		t.Fatalf("not killed: %v", err)
	}
	waitFor(t, 10*time.Second, "the batch's session to end", func() bool {
		return countQuery(t, conn, `SELECT count(*) FROM pg_stat_activity WHERE datname = `+db+` AND pid <> pg_backend_pid()`) == 0
	})
	if fixture.DumpAll(t, conn) != before {
		t.Fatal("a killed --atomic batch changed the database")
	}
}
