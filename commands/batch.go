package commands

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/b2badmin/b2badmin/client"
	"github.com/b2badmin/b2badmin/output"
)

type batchOptions struct {
	continueOnError bool
	atomic          bool
	dryRun          bool
	csvFile         string
	template        string
	resume          string // a run to continue
}

// batchResultColumns are the per-line results of -o json|jsonl|csv|tsv.
var batchResultColumns = output.Columns{
	{Key: "line", Header: "Line", Default: true},
	{Key: "command", Header: "Command", Default: true},
	{Key: "status", Header: "Status", Default: true},
	{Key: "exit_code", Header: "Exit", Default: true},
	{Key: "error", Header: "Error", Default: true},
	{Key: "output", Header: "Output"},
	{Key: "changes", Header: "Changes"},
}

const batchLong = `Run one b2badmin command per line of FILE (or stdin with - or no FILE),
written as after "b2badmin": # comments, blank lines, trailing-\ continuation
and POSIX quoting. Nothing is expanded or executed by the parser; an unquoted
; & | < > is an error.

Before anything runs, the whole input is parsed and every line checked: the
command and its flags, and that the users, groups and permissions it names
exist. Every problem is listed as FILE:LINE: message and nothing runs.
The file is the confirmation: lines need no --yes and never prompt.

Modes:
  (default)            each line is its own transaction; stop at the first failure
  --continue-on-error  run every line; list the failures; exit 1 if any failed
  --atomic             one transaction for the whole file: a failure, Ctrl-C,
                       SIGTERM or a killed process applies nothing
  --dry-run            run every line in one transaction, show the changes, roll back

Output: with -o table (the default) each line's own output passes through to
stdout; with -o json|jsonl|csv|tsv stdout carries one result per line
(line, command, status, exit_code, error; output and changes with --columns
or in JSON) and each line's own output is captured in "output". A dry run
shows the changes (as a table, or per line in "changes"). Failures go to
stderr as FILE:LINE: message, then a summary "N ok, M failed". A progress
bar is drawn on stderr when it is a terminal.

Exit codes: 0 all lines ran; 2 the pre-check found a usage problem (bad
syntax, command, flag or argument); else 4 it found a value refused (a
malformed phone, an unknown group or permission); else 3 it found only
users that do not exist; otherwise the first failing line's code
(default, --atomic, --dry-run) or 1 (--continue-on-error).`

func newBatchCmd(inv *Invocation) *cobra.Command {
	o := &batchOptions{}
	cmd := &cobra.Command{
		Use:   "batch [FILE|-]",
		Short: "Run many commands from a file, checked first, on one connection",
		Long:  batchLong,
		Example: `  b2badmin batch --dry-run examples/changes.txt
  b2badmin batch examples/changes.txt
  b2badmin batch --atomic -o jsonl examples/changes.txt
  b2badmin batch --csv examples/offboard.csv --template 'users deactivate {id} --reason {reason}'`,
		Args:        cobra.MaximumNArgs(1),
		Annotations: map[string]string{annotColumns: strings.Join(batchResultColumns.Keys(), ",")},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runBatch(cmd, inv, o, args)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&o.continueOnError, "continue-on-error", false, "run every line even after failures; exit 1 if any failed")
	fl.BoolVar(&o.atomic, "atomic", false, "run the whole batch in one transaction: all lines or nothing")
	fl.BoolVar(&o.dryRun, "dry-run", false, "run every line in one transaction, show the changes, then roll back")
	fl.StringVar(&o.csvFile, "csv", "", "run --template once per row of this CSV file (header row names the columns; - = stdin)")
	fl.StringVar(&o.template, "template", "", "command with {column} placeholders, each replaced by exactly one argument")
	fl.StringVar(&o.resume, "resume", "", "continue run RUN of this same file (default mode) at the first line that did not commit")
	cmd.MarkFlagsMutuallyExclusive("atomic", "continue-on-error")
	cmd.MarkFlagsMutuallyExclusive("atomic", "dry-run")
	cmd.MarkFlagsMutuallyExclusive("resume", "atomic")
	cmd.MarkFlagsMutuallyExclusive("resume", "dry-run")
	cmd.MarkFlagsMutuallyExclusive("resume", "continue-on-error")
	cmd.MarkFlagsRequiredTogether("csv", "template")
	return cmd
}

// batchInput reads the commands (a command file or a CSV file with a
// template) and names the source for FILE:LINE messages.
func batchInput(inv *Invocation, o *batchOptions, args []string) (batchSource, []batchCommand, []lineProblem, error) {
	src := "-"
	if len(args) == 1 {
		src = args[0]
	}
	if o.csvFile != "" {
		if len(args) == 1 {
			return batchSource{}, nil, nil, usageError("give either a command FILE or --csv FILE --template, not both")
		}
		src = o.csvFile
	} else if len(args) == 0 && inv.IO.InTTY {
		return batchSource{}, nil, nil, usageError("batch needs a FILE, or - to read commands from stdin")
	}
	var in io.Reader = inv.IO.In
	name := "<stdin>"
	if src != "-" {
		file, err := os.Open(src)
		if err != nil {
			return batchSource{}, nil, nil, fmt.Errorf("batch file %s: cannot read: %v", src, unwrapPath(err)) // I/O: exit 1, as a missing --policy
		}
		defer file.Close()
		if st, err := file.Stat(); err == nil && st.IsDir() {
			return batchSource{}, nil, nil, fmt.Errorf("batch file %s: cannot read: is a directory", src) // I/O: exit 1
		}
		in, name = file, src
	}
	// The run records the input's SHA-256, so that --resume can refuse a
	// file that changed since.
	h := sha256.New()
	in = io.TeeReader(in, h)
	if o.csvFile == "" {
		cmds, probs := parseBatch(in, name)
		return batchSource{name, hex.EncodeToString(h.Sum(nil))}, cmds, probs, nil
	}
	t, err := parseTemplate(o.template, lineRoot)
	if err != nil {
		return batchSource{}, nil, nil, err
	}
	fmt.Fprintf(h, "%s\n", o.template)
	cmds, probs := expandCSV(in, name, t)
	return batchSource{name, hex.EncodeToString(h.Sum(nil))}, cmds, probs, nil
}

// resumePoint checks that run id can be resumed with this input and
// returns the lines still to run: those after the run's last committed
// line. A run with nothing left is reported and returns no run.
func resumePoint(ctx context.Context, inv *Invocation, id string, src batchSource, cmds []batchCommand) (*client.Run, []batchCommand, error) {
	c, err := inv.Client(ctx)
	if err != nil {
		return nil, nil, err
	}
	run, err := c.GetRun(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case run.Mode == client.ModeBatchContinue:
		return nil, nil, client.Refused("refused: run %s was a --continue-on-error batch: it ran every line already", run.ID)
	case run.Mode != client.ModeBatch:
		return nil, nil, client.Refused("refused: run %s is a %s, not a default-mode batch (an --atomic batch that stopped applied nothing: run it again)", run.ID, run.Mode)
	case run.BatchSHA256 != src.sha256:
		return nil, nil, client.Refused("refused: %s is not the input of run %s (its SHA-256 differs): a changed file cannot be resumed", src.name, run.ID)
	}
	last := 0
	if run.LastLine != nil {
		last = *run.LastLine
	}
	var rest []batchCommand
	for _, bc := range cmds {
		if bc.Line > last {
			rest = append(rest, bc)
		}
	}
	// A run that ended committed ran every line, whatever its last line
	// (trailing lines that changed nothing need not move it).
	if len(rest) == 0 || run.Outcome == client.RunCommitted {
		inv.notef("run %s: every line has committed; nothing to resume", run.ID)
		return nil, nil, nil
	}
	inv.notef("run %s: resuming at %s:%d (lines up to %d committed)", run.ID, src.name, rest[0].Line, last)
	return &run, rest, nil
}

// batchSource names a batch's input and its SHA-256.
type batchSource struct {
	name, sha256 string
}

func runBatch(cmd *cobra.Command, inv *Invocation, o *batchOptions, args []string) error {
	ctx, cancel := commandContext(cmd, inv)
	defer cancel()
	if err := refuseReadOnlyBatch(inv, o); err != nil {
		return err
	}
	// The batch's own output options, captured before lines run.
	fm, proj, err := inv.selectColumns(batchResultColumns)
	if err != nil {
		return err
	}
	opts := inv.OutputOptions()

	src, cmds, probs, err := batchInput(inv, o, args)
	if err != nil {
		return err
	}
	file := src.name
	var resume *client.Run
	if o.resume != "" {
		if resume, cmds, err = resumePoint(ctx, inv, o.resume, src, cmds); err != nil || resume == nil {
			return err
		}
	}
	// Every line builds two command trees (its check and its run), short-
	// lived garbage the collector would chase line after line (a fifth of
	// the pre-check's CPU at the default GOGC): a batch collects only when
	// its heap reaches a limit well above what it keeps (the file's lines;
	// a long batch's results stream out).
	defer collectRarely()()
	runner := newLineRunner(inv, cmd)
	more, err := checkCommands(ctx, inv, file, cmds, notInBatch, runner.fixed)
	if err != nil {
		return err
	}
	probs = append(probs, more...)
	sort.SliceStable(probs, func(i, j int) bool { return probs[i].Line < probs[j].Line })
	if len(probs) > 0 {
		// The exit code is the gravest kind found: usage, then refused,
		// then not found.
		code := problemNotFound
		for _, p := range probs {
			fmt.Fprintln(inv.IO.ErrOut, p.Error())
			if p.Kind == problemUsage || (p.Kind == problemRefused && code != problemUsage) {
				code = p.Kind
			}
		}
		return &ExitError{Code: code, Msg: fmt.Sprintf("%s: %d problem%s; nothing was run", file, len(probs), map[bool]string{true: "", false: "s"}[len(probs) == 1])}
	}
	c, err := inv.Client(ctx)
	if err != nil {
		return err
	}
	b := &batchRun{
		inv: inv, o: o, src: src, runner: runner, pool: c, resumed: resume,
		structured: fm != output.Table,
	}
	if b.structured {
		b.results = output.NewRowWriter(fm, inv.IO.Out, proj, opts)
	}
	defer inv.UseClient(nil)
	runErr := b.run(ctx, cmds)
	if b.structured {
		if err := b.results.Close(); err != nil && runErr == nil {
			runErr = err
		}
	}
	if o.dryRun && fm == output.Table && runErr == nil && len(b.changes) > 0 {
		runErr = renderChanges(inv.IO.Out, opts, b.changes)
	}
	return runErr
}

// refuseReadOnlyBatch: a read-only batch may still read; its lines are
// refused one by one when they would write. Nothing to refuse up front.
func refuseReadOnlyBatch(*Invocation, *batchOptions) error { return nil }

var batchChangeColumns = output.Columns{
	{Key: "line", Header: "Line", Default: true},
	{Key: "action", Header: "Action", Default: true},
	{Key: "user_id", Header: "User ID", Default: true},
	{Key: "email", Header: "Email", Default: true},
	{Key: "before", Header: "Before", Default: true},
	{Key: "after", Header: "After", Default: true},
}

// renderChanges prints a dry run's changes as a table.
func renderChanges(w io.Writer, opts output.Options, cs []client.BatchChange) error {
	p, _ := batchChangeColumns.Select(nil, output.Table)
	rows := make([][]any, len(cs))
	for i, c := range cs {
		var id, email any
		if c.UserID != nil {
			id = *c.UserID
		}
		if c.Email != nil {
			email = *c.Email
		}
		rows[i] = []any{c.Line, c.Action, id, email, string(c.Before), string(c.After)}
	}
	return output.WriteAll(output.Table, w, p, opts, rows)
}

// batchJSON is JSON text that JSON output embeds as is and CSV prints as text.
type batchJSON []byte

func (r batchJSON) MarshalJSON() ([]byte, error) { return r, nil }
func (r batchJSON) String() string               { return string(r) }

// mustJSON encodes a batch result's changes as the output writers encode
// nested values.
func mustJSON(v any) []byte {
	b, _ := output.AppendJSON(nil, v)
	return b
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// collectRarely turns the collector off below a heap limit of 64 MiB
// plus twice what is live now (the batch's parsed lines: a file of a
// million lines must not make it collect without end), and returns what
// puts the settings back.
func collectRarely() (restore func()) {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	limit := debug.SetMemoryLimit(64<<20 + 2*int64(m.HeapAlloc))
	percent := debug.SetGCPercent(-1)
	return func() {
		debug.SetGCPercent(percent)
		debug.SetMemoryLimit(limit)
	}
}
