package commands

import (
	"bytes"
	"context"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/b2badmin/b2badmin/client"
)

// lineRootHook, when set (only by this package's tests, to add test
// commands), builds the tree lines run on instead of NewRootCmd.
var lineRootHook func(*Invocation) *cobra.Command

// lineRoot builds the command tree one line runs on.
func lineRoot(inv *Invocation, args []string) *cobra.Command {
	if lineRootHook != nil {
		return lineRootHook(inv)
	}
	return newLineRootCmd(inv, args)
}

// lineRunner runs lines of a batch or a shell on one Factory, each on a
// fresh command tree (Cobra keeps flag values between executions of a
// tree), sharing only the Factory and its connection.
type lineRunner struct {
	f *Factory
	// inherited are the global flags given to batch/shell itself, as
	// --name=value words prepended to every line, so that --read-only,
	// --actor, --timeout or --debug hold for every line too.
	inherited []string
	fixed     []string // their names
}

// newLineRunner captures the global flags the running command was given,
// except those that shape the batch's own output.
func newLineRunner(inv *Invocation, cmd *cobra.Command) *lineRunner {
	r := &lineRunner{f: inv.Factory}
	// VisitAll + Changed: the values were parsed on the subcommand's merged
	// flag set, which shares the *Flag but not the root set's "actual" map.
	cmd.Root().PersistentFlags().VisitAll(func(fl *pflag.Flag) {
		if !fl.Changed {
			return
		}
		switch fl.Name {
		case "output", "columns", "no-headers", "help", "jq": // --jq filters the batch's own results
			return
		}
		r.inherited = append(r.inherited, "--"+fl.Name+"="+fl.Value.String())
		r.fixed = append(r.fixed, fl.Name)
	})
	return r
}

// lineIO says where one line reads and writes.
type lineIO struct {
	in    io.Reader // stdin of the line (empty in a batch: the file is the input)
	inTTY bool
	out   io.Writer
}

// run executes one line and returns its exit code and one-line message,
// exactly as Execute would for the same command line.
func (r *lineRunner) run(ctx context.Context, args []string, meta *BatchLine, lio lineIO) (int, string) {
	code, msg, _ := r.runErr(ctx, args, meta, lio)
	return code, msg
}

// runErr is run, with the error itself (nil on success).
func (r *lineRunner) runErr(ctx context.Context, args []string, meta *BatchLine, lio lineIO) (int, string, error) {
	return r.exec(ctx, r.prepare(args, meta, lio))
}

// preparedLine is a line's invocation and command tree, built, and its
// command found and its flags parsed and checked, ready to run: a batch
// prepares the next lines while one runs.
type preparedLine struct {
	inv  *Invocation
	root *cobra.Command
	// cmd is the command to run with args, or nil when the line is left
	// to Cobra's own Execute (anything unusual: an unknown command, --help).
	cmd  *cobra.Command
	args []string
	err  error // what preparing found: the line fails with it
}

// prepare builds the tree one line runs on and does what Cobra's Execute
// does before a command's RunE: find the command, parse its flags, check
// its arguments, run the PersistentPreRunE and PreRunE hooks (which read
// the profile and check values, never the database), check required
// flags and flag groups. It touches nothing shared but the Factory's
// settings, so it may run beside another line's execution.
func (r *lineRunner) prepare(args []string, meta *BatchLine, lio lineIO) *preparedLine {
	words := append(append(make([]string, 0, len(r.inherited)+len(args)), r.inherited...), args...)
	var p *preparedLine
	leanFirst(func(lean bool) bool {
		p = r.prepareOn(args, words, meta, lio, lean)
		return p.cmd != nil && p.err == nil
	})
	return p
}

// prepareOn is prepare on a tree with or without the selector flags.
func (r *lineRunner) prepareOn(args, words []string, meta *BatchLine, lio lineIO, lean bool) *preparedLine {
	streams := *r.f.IO
	streams.In, streams.InTTY, streams.Out = lio.in, lio.inTTY, lio.out
	inv := r.f.NewInvocation(&streams, args, meta)
	inv.withoutSelectors = lean
	root := lineRoot(inv, args)
	root.SetArgs(words)
	p := &preparedLine{inv: inv, root: root}
	p.parse(words)
	return p
}

// leanFirst runs try on a tree without the selector flags, and again on
// the whole tree unless that went through. The selector flags are a
// third of the cost of building and parsing a line's tree; a line that
// parses and passes every check without them uses none, and would parse
// the same with them (unset). Anything else (a selector, a typo, --help,
// a bad value) is decided, and its error worded, by the whole tree.
func leanFirst(try func(lean bool) (ok bool)) {
	if !try(true) {
		try(false)
	}
}

// parse is prepare's part of Cobra's Execute (see cobra's execute, whose
// order it keeps). A line it does not handle is left to Execute.
func (p *preparedLine) parse(words []string) {
	cmd, flags, err := findLine(p.root, words)
	if err != nil || cmd.Deprecated != "" || cmd.DisableFlagParsing || cmd.RunE == nil ||
		cmd.PostRunE != nil || cmd.PostRun != nil {
		return
	}
	for c := cmd; c != nil; c = c.Parent() {
		if c.PersistentPostRunE != nil || c.PersistentPostRun != nil {
			return
		}
	}
	cmd.InitDefaultHelpFlag()
	if err := cmd.ParseFlags(flags); err != nil {
		p.cmd, p.err = cmd, cmd.FlagErrorFunc()(cmd, err)
		return
	}
	for _, name := range []string{"help", "version"} {
		if fl := cmd.Flags().Lookup(name); fl != nil && fl.Changed {
			p.cmd, p.err = nil, nil // Cobra prints them
			return
		}
	}
	p.cmd, p.args = cmd, cmd.Flags().Args()
	cmd.SetContext(context.Background()) // the line's own is set when it runs
	if err := cmd.ValidateArgs(p.args); err != nil {
		p.err = err
		return
	}
	for c := cmd; c != nil; c = c.Parent() { // the first persistent hook found, as Cobra runs it
		if c.PersistentPreRunE != nil {
			if p.err = c.PersistentPreRunE(cmd, p.args); p.err != nil {
				return
			}
			break
		}
		if c.PersistentPreRun != nil {
			c.PersistentPreRun(cmd, p.args)
			break
		}
	}
	if cmd.PreRunE != nil {
		if p.err = cmd.PreRunE(cmd, p.args); p.err != nil {
			return
		}
	} else if cmd.PreRun != nil {
		cmd.PreRun(cmd, p.args)
	}
	if p.err = cmd.ValidateRequiredFlags(); p.err != nil {
		return
	}
	p.err = cmd.ValidateFlagGroups()
}

// exec runs a prepared line.
func (r *lineRunner) exec(ctx context.Context, p *preparedLine) (int, string, error) {
	var err error
	switch {
	case p.cmd == nil:
		err = p.root.ExecuteContext(ctx)
	case p.err != nil:
		err = p.err
	default:
		p.cmd.SetContext(ctx)
		err = p.cmd.RunE(p.cmd, p.args)
	}
	if err == nil {
		return ExitOK, "", nil
	}
	code, msg := classify(err)
	if msg == "" {
		msg = "failed"
	}
	return code, oneLine(msg), err
}

// readyLine is a line with its command tree built, and the buffer that
// takes its output when the batch captures it.
type readyLine struct {
	bc  *batchCommand
	p   *preparedLine
	buf *bytes.Buffer
}

// ready builds a line's tree.
func (b *batchRun) ready(bc *batchCommand) readyLine {
	r := readyLine{bc: bc, buf: &bytes.Buffer{}}
	var w io.Writer = b.inv.IO.Out
	if b.structured || b.o.dryRun || (b.gather != nil && len(bc.userIDs) > 0) {
		// Captured: for the results, or to be printed in line order by a
		// line that may run side by side with others.
		w = r.buf
	}
	meta := &BatchLine{Run: client.RunLine{ID: b.runID, StartedAt: b.started, Mode: b.mode(), Command: b.command, File: b.src.name,
		SHA256: b.src.sha256, Line: bc.Line, Totals: b.totals}, Confirmed: true}
	r.p = b.runner.prepare(bc.Args, meta, lineIO{in: strings.NewReader(""), out: w})
	return r
}

// readyAhead builds the lines' trees in order on another goroutine, a few
// lines ahead of the one running, or two windows ahead of the lines
// running side by side (about 160 KiB a tree): building a tree is a third
// of a line's CPU, and the other core is mostly idle while a line waits for
// the server. Two windows, because an --atomic window takes all its
// lines at once: a few lines ahead, each window waited for most of its
// trees to be built one by one (10,000 lines: 3.15 s, two windows ahead
// 2.5-2.6 s). Closing stop ends it.
func (b *batchRun) readyAhead(cmds []batchCommand, stop <-chan struct{}) <-chan readyLine {
	size := 8 // a line at a time; a window takes its lines at once
	if b.gather != nil {
		size = 2 * maxWindow
	}
	ch := make(chan readyLine, size)
	go func() {
		defer close(ch)
		for i := range cmds {
			select {
			case ch <- b.ready(&cmds[i]):
			case <-stop:
				return
			}
		}
	}()
	return ch
}
