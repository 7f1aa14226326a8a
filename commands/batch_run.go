package commands

import (
	"context"
	"io"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
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

// preparedLine is a line's invocation and command tree, built and ready
// to execute: a batch builds the next lines' while one runs.
type preparedLine struct {
	inv  *Invocation
	root *cobra.Command
}

// prepare builds the tree one line runs on. It touches nothing shared but
// the Factory's settings, so it may run beside another line's execution.
func (r *lineRunner) prepare(args []string, meta *BatchLine, lio lineIO) *preparedLine {
	streams := *r.f.IO
	streams.In, streams.InTTY, streams.Out = lio.in, lio.inTTY, lio.out
	inv := r.f.NewInvocation(&streams, args, meta)
	root := lineRoot(inv, args)
	full := make([]string, 0, len(r.inherited)+len(args))
	root.SetArgs(append(append(full, r.inherited...), args...))
	return &preparedLine{inv: inv, root: root}
}

// exec executes a prepared line.
func (r *lineRunner) exec(ctx context.Context, p *preparedLine) (int, string, error) {
	err := p.root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK, "", nil
	}
	code, msg := classify(err)
	if msg == "" {
		msg = "failed"
	}
	return code, oneLine(msg), err
}
