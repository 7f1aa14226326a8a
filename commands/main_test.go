package commands

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/b2badmin/b2badmin/internal/pgtest"
)

func TestMain(m *testing.M) {
	code := pgtest.Run(m)
	removeRealBinary()
	os.Exit(code)
}

// cliResult is what one in-process run of the CLI produced.
type cliResult struct {
	Stdout, Stderr string
	Code           int
}

// cliRun configures one in-process run.
type cliRun struct {
	DSN   string
	Stdin string
	// TTY forces every stream to look like a terminal.
	TTY bool
	Env map[string]string
	// Ctx is the run's context (nil: never cancelled).
	Ctx context.Context
	// Merged sends stderr where stdout goes (2>&1): both in Stdout.
	Merged bool
}

// run executes the command line in-process, exactly as Main would, with a
// fresh Factory, and returns its streams and exit code. No config file is
// read unless Env names one.
func (r cliRun) run(t testing.TB, args ...string) cliResult {
	t.Helper()
	var out, errOut bytes.Buffer
	streams := &IOStreams{In: strings.NewReader(r.Stdin), Out: &out, ErrOut: &errOut, InTTY: r.TTY, OutTTY: r.TTY, ErrTTY: r.TTY}
	if r.Merged {
		streams.ErrOut = &out
	}
	// No pager unless a test asks for one: TTY runs must not depend on less.
	env := map[string]string{"B2BADMIN_DSN": r.DSN, "USER": "tester", "XDG_CONFIG_HOME": t.TempDir(), "B2BADMIN_PAGER": ""}
	for k, v := range r.Env {
		env[k] = v
	}
	f := NewFactory(streams, func(k string) string { return env[k] })
	f.LookupEnv = func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	defer f.Close()
	ctx := r.Ctx
	if ctx == nil {
		ctx = context.Background()
	}
	code := Execute(ctx, f, args)
	return cliResult{Stdout: out.String(), Stderr: errOut.String(), Code: code}
}

// runCLI is cliRun{DSN: dsn}.run.
func runCLI(t testing.TB, dsn string, args ...string) cliResult {
	t.Helper()
	return cliRun{DSN: dsn}.run(t, args...)
}

// mustRun fails the test unless the command exits 0.
func mustRun(t testing.TB, dsn string, args ...string) cliResult {
	t.Helper()
	r := runCLI(t, dsn, args...)
	if r.Code != 0 {
		t.Fatalf("b2badmin %s: exit %d\nstderr: %s", strings.Join(args, " "), r.Code, r.Stderr)
	}
	return r
}

// assertOneLineError checks the contract for failures: exit code want and
// exactly one "b2badmin: …" line on stderr.
func assertOneLineError(t testing.TB, r cliResult, want int) {
	t.Helper()
	if r.Code != want {
		t.Fatalf("exit code %d, want %d (stderr %q)", r.Code, want, r.Stderr)
	}
	lines := strings.Split(strings.TrimRight(r.Stderr, "\n"), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "b2badmin: ") {
		t.Fatalf("stderr is not one b2badmin: line: %q", r.Stderr)
	}
}
