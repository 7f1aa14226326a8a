package commands

import (
	"io"
	"os"
	"os/exec"
	"strings"

	"github.com/spf13/cobra"

	"github.com/b2badmin/b2badmin/output"
)

// defaultPager quits at once when the table fits one screen (-F), keeps
// colours (-R) and leaves the table on the screen afterwards (-X).
const defaultPager = "less -FRX"

// pagerCommand is the pager's command line: $B2BADMIN_PAGER (set empty:
// none), else $PAGER, else less -FRX.
func (inv *Invocation) pagerCommand() string {
	if v, ok := inv.LookupEnv("B2BADMIN_PAGER"); ok {
		return strings.TrimSpace(v)
	}
	if v := strings.TrimSpace(inv.Getenv("PAGER")); v != "" {
		return v
	}
	return defaultPager
}

// newPager returns the pager for this command's stdout (format is its
// -o), or nil: only tables on a terminal are paged, never with --no-pager, never a batch
// line, and never batch or shell themselves (their lines and progress
// share the terminal with them).
func (inv *Invocation) newPager(cmd *cobra.Command, format string) *pager {
	if !inv.IO.OutTTY || inv.Global.NoPager || inv.Batch != nil || !hasJSONOutput(cmd) {
		return nil
	}
	switch cmd.Name() {
	case "batch", "shell":
		return nil
	}
	if format != "" && format != string(output.Table) {
		return nil
	}
	line := inv.pagerCommand()
	if line == "" || line == "cat" {
		return nil
	}
	// A pager that is not installed would swallow the table (sh: not
	// found); print it straight instead. A line with shell syntax is the
	// shell's to judge.
	if !strings.ContainsAny(line, ";|&<>()=$`'\"\\") {
		if _, err := exec.LookPath(strings.Fields(line)[0]); err != nil {
			return nil
		}
	}
	env := os.Environ()
	if inv.Getenv("LESS") == "" {
		env = append(env, "LESS=FRX") // as git does: a bare "less" in $PAGER behaves too
	}
	if inv.Getenv("LV") == "" {
		env = append(env, "LV=-c")
	}
	return &pager{line: line, env: env, out: inv.IO.Out, errOut: inv.IO.ErrOut}
}

// pager starts on the first write, so that a command printing nothing (or
// asking a question first) never starts one. If it cannot start, output
// goes straight to the terminal.
type pager struct {
	line        string
	env         []string
	out, errOut io.Writer
	cmd         *exec.Cmd
	in          io.WriteCloser
	direct      bool
}

func (p *pager) started() bool { return p.cmd != nil }

func (p *pager) Write(b []byte) (int, error) {
	if p.cmd == nil && !p.direct {
		p.start()
	}
	if p.direct {
		return p.out.Write(b)
	}
	return p.in.Write(b)
}

func (p *pager) start() {
	c := exec.Command("/bin/sh", "-c", p.line)
	c.Stdout, c.Stderr, c.Env = fileOf(p.out), fileOf(p.errOut), p.env // the terminal itself, not a pipe
	in, err := c.StdinPipe()
	if err == nil {
		err = c.Start()
	}
	if err != nil {
		p.direct = true
		return
	}
	p.cmd, p.in = c, in
}

// Close ends the input and waits for the person to quit the pager. The
// pager's own exit status is its business (less exits 0; a missing pager
// has said so on stderr).
func (p *pager) Close() error {
	if p.cmd == nil {
		return nil
	}
	p.in.Close()
	_ = p.cmd.Wait()
	return nil
}
