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

	"github.com/b2badmin/b2badmin/client"
	"github.com/b2badmin/b2badmin/internal/fixture"
	"github.com/b2badmin/b2badmin/internal/pgtest"
)

// SIGINT, SIGTERM and --timeout are honoured while stdout is blocked by a
// reader that stopped reading: `( timeout -s TERM 2 b2badmin users list
// --all -o jsonl ) | sleep 8` lived 8 s on main. The real binary writes
// into a pipe nobody reads; once the tool sits in write(2) (the server is
// blocked sending it rows, or the split export's connections wait for
// it), it is signalled and must end within a second with 130/143 (1 for
// --timeout) and one line, its query gone from the server.
func TestSignalsHonouredWhileStdoutBlocked(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn := fixture.Conn(t, dsn)
	manyUsers(t, conn, 60000) // ~30 MB of JSON Lines: more than the pipe and both sockets hold
	sessions := func() int {
		return countQuery(t, conn, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'b2badmin'`)
	}
	for _, c := range []struct {
		name string
		sig  os.Signal
		args []string
		code int
		msg  string
	}{
		{"SIGTERM", syscall.SIGTERM, nil, 143, "b2badmin: interrupted by SIGTERM"},
		{"SIGINT", os.Interrupt, nil, 130, "b2badmin: interrupted by SIGINT"},
		{"--timeout", nil, []string{"--timeout", "3s"}, ExitFailure, "b2badmin: timed out (--timeout)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close() // never read
			cmd := realCmd(t, dsn, append(c.args, "users", "list", "--all", "-o", "jsonl")...)
			var stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = w, &stderr
			start := time.Now()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			w.Close()
			defer cmd.Process.Kill()
			// Blocked: the server sits in sending rows, or (an export split
			// over two connections, its ranges read ahead) every session
			// of the tool has been waiting for it for a while.
			waitFor(t, 20*time.Second, "the tool to be blocked writing", func() bool {
				return countQuery(t, conn, `SELECT CASE WHEN count(*) FILTER (WHERE wait_event = 'ClientWrite') = 1
					OR (count(*) > 0 AND count(*) = count(*) FILTER (WHERE state = 'idle in transaction' AND now() - state_change > interval '300 ms'))
					THEN 1 ELSE 0 END FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'b2badmin'`) == 1
			})
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			from := time.Now()
			if c.sig != nil {
				if err := cmd.Process.Signal(c.sig); err != nil {
					t.Fatal(err)
				}
			} else {
				from = start.Add(3 * time.Second)
			}
			var werr error
			select {
			case werr = <-done:
			case <-time.After(10 * time.Second):
				t.Fatalf("still running 10 s later; stderr %q", stderr.String())
			}
			took := time.Since(from)
			t.Logf("ended %v after the %s", took.Round(time.Millisecond), c.name)
			if took > time.Second {
				t.Errorf("ended %v after the %s, want within a second", took.Round(time.Millisecond), c.name)
			}
			var exit *exec.ExitError
			if !errors.As(werr, &exit) || exit.ExitCode() != c.code {
				t.Fatalf("ended with %v, want exit %d; stderr %q", werr, c.code, stderr.String())
			}
			if lines := strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n"); len(lines) != 1 || !strings.HasPrefix(lines[0], c.msg) {
				t.Fatalf("stderr %q, want one line starting %q", stderr.String(), c.msg)
			}
			// The query is cancelled on the server, not left running.
			waitFor(t, time.Second, "the tool's session to be gone from the server", func() bool { return sessions() == 0 })
		})
	}
}

// A write waiting behind another session's row lock waited for ever
// without --timeout. The session's lock_timeout (--lock-timeout, a
// profile's lock_timeout, default 30 s) makes it fail clearly instead:
// exit 1, one line naming the lock wait, nothing changed.
func TestLockTimeoutFailsAWriteBehindALock(t *testing.T) {
	dsn, conn := batchDB(t)
	ctx := context.Background()
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "SELECT 1 FROM rbac_user WHERE id = 1 FOR UPDATE"); err != nil {
		t.Fatal(err)
	}
	check := func(r cliResult, took time.Duration) {
		t.Helper()
		assertOneLineError(t, r, ExitFailure)
		if !strings.Contains(r.Stderr, "waiting for a lock another session holds") || !strings.Contains(r.Stderr, "--lock-timeout") {
			t.Fatalf("stderr %q", r.Stderr)
		}
		if took > 10*time.Second {
			t.Fatalf("took %v", took)
		}
	}
	start := time.Now()
	check(runCLI(t, dsn, "--lock-timeout", "300ms", "users", "update", "1", "--first-name", "x"), time.Since(start))

	cfg := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("profiles:\n  ops:\n    dsn: %s\n    lock_timeout: 300ms\n", dsn)), 0o600); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	check(cliRun{DSN: "", Env: map[string]string{"B2BADMIN_CONFIG": cfg}}.run(t, "--profile", "ops", "users", "deactivate", "1"), time.Since(start))
	// In a batch the line fails (the batch's own connection has it).
	file := writeTemp(t, "b.txt", "users update 2 --first-name ok\nusers update 1 --first-name x\n")
	r := runCLI(t, dsn, "--lock-timeout", "300ms", "batch", file)
	if r.Code != ExitFailure || !strings.Contains(r.Stderr, ":2: gave up waiting for a lock") {
		t.Fatalf("batch: exit %d, %q", r.Code, r.Stderr)
	}
	if got := firstNames(t, conn); got[0] != "orig" {
		t.Fatalf("names %v", got)
	}
	// A line cannot change the connection's setting; a negative value is a usage error.
	if r := runCLI(t, dsn, "batch", writeTemp(t, "c.txt", "--lock-timeout 1s users update 1 --first-name x\n")); r.Code != ExitUsage {
		t.Fatalf("--lock-timeout on a line: exit %d %q", r.Code, r.Stderr)
	}
	assertOneLineError(t, runCLI(t, dsn, "--lock-timeout", "-1s", "users", "list"), ExitUsage)
}

// The setting reaches the session (the default, and a value given).
func TestLockTimeoutIsTheSessionSetting(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	for _, c := range []struct {
		d    time.Duration
		want string
	}{{DefaultLockTimeout, "30s"}, {1500 * time.Millisecond, "1500ms"}} {
		cl, err := client.Connect(context.Background(), client.Options{DSN: dsn, LockTimeout: c.d})
		if err != nil {
			t.Fatal(err)
		}
		var got string
		if err := cl.DB().QueryRow(context.Background(), "SHOW lock_timeout").Scan(&got); err != nil || got != c.want {
			t.Errorf("lock_timeout %q, want %q (%v)", got, c.want, err)
		}
		cl.Close()
	}
	inv := NewFactory(&IOStreams{}, func(string) string { return "" }).NewInvocation(nil, nil, nil)
	if got := inv.connectOptions().LockTimeout; got != DefaultLockTimeout {
		t.Errorf("default lock timeout %v", got)
	}
}
