package commands

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
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
syntax, command, flag or argument); 3 it found only users, groups or
permissions that do not exist; otherwise the first failing line's code
(default, --atomic, --dry-run) or 1 (--continue-on-error).`

func newBatchCmd(inv *Invocation) *cobra.Command {
	o := &batchOptions{}
	cmd := &cobra.Command{
		Use:   "batch [FILE|-]",
		Short: "Run many commands from a file, checked first, on one connection",
		Long:  batchLong,
		Example: `  b2badmin batch changes.txt
  b2badmin batch --atomic -o jsonl changes.txt
  b2badmin batch --csv offboard.csv --template 'users deactivate {id} --reason {reason}'`,
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
			return batchSource{}, nil, nil, usageErrorf("cannot open %s: %v", src, err)
		}
		defer file.Close()
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
	if len(rest) == 0 {
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
	// Every line builds two command trees (its check and its run), short-
	// lived garbage the collector would chase line after line: a batch
	// collects only when its heap reaches 64 MiB (the live heap is
	// a few MiB; a long batch's results stream out).
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(64 << 20))
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
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

// batchRun is one execution of a checked batch: one run, whose id every
// line's changes carry.
type batchRun struct {
	inv     *Invocation
	o       *batchOptions
	src     batchSource
	runID   string
	started time.Time
	// heldFailure is the earlier line whose held writes failed as the
	// line just run sent them (0: none).
	heldFailure int
	totals      *client.RunTotals // --atomic and --dry-run: the lines' counts
	resumed     *client.Run       // the run this one continues
	runner      *lineRunner
	pool        *client.Client
	structured  bool
	results     output.RowWriter
	changes     []client.BatchChange // dry run, table output
}

func (b *batchRun) mode() string {
	switch {
	case b.o.atomic:
		return client.ModeBatchAtomic
	case b.o.continueOnError:
		return client.ModeBatchContinue
	}
	return client.ModeBatch
}

func (b *batchRun) run(ctx context.Context, cmds []batchCommand) error {
	// The run is recorded by the first line that writes (in that line's
	// transaction): a batch that only reads leaves no run, and in --atomic
	// or --dry-run the record commits or rolls back with everything else.
	b.runID, b.started = client.NewRunID(), time.Now()
	if b.resumed != nil {
		b.runID, b.started = b.resumed.ID, b.resumed.StartedAt
	}
	var tx pgx.Tx
	if b.o.atomic || b.o.dryRun {
		b.totals = &client.RunTotals{}
		var err error
		if tx, err = b.pool.DB().Begin(ctx); err != nil {
			return err
		}
		// Rollback after Commit is a no-op; a dropped connection rolls back
		// on the server anyway (a killed process applies nothing).
		defer tx.Rollback(context.WithoutCancel(ctx))
		if !b.o.continueOnError {
			// All or nothing: no savepoints, and each line's writes ride on
			// the next round trip (client.DeferringTx).
			tx = client.NewDeferringTx(tx)
			b.inv.UseClient(b.pool.WithDB(tx))
		}
	}
	if tx == nil {
		b.inv.UseClient(b.pool)
	}
	bar := newProgress(b.inv, "batch", int64(len(cmds)))
	ok, failed, firstCode := 0, 0, 0
	var stoppedAt *batchCommand
	for i := range cmds {
		bc := &cmds[i]
		if ctx.Err() != nil {
			stoppedAt = bc
			break
		}
		code, msg, out, changes, err := b.runOne(ctx, tx, bc)
		if err != nil {
			bar.Done()
			return err
		}
		bar.Set(int64(i + 1))
		line := bc.Line
		if b.heldFailure != 0 {
			line, ok = b.heldFailure, ok-1
			stoppedAt = bc
		}
		if code == ExitOK {
			ok++
		} else {
			failed++
			bar.Note(fmt.Sprintf("%s:%d: %s", b.src.name, line, msg))
			if firstCode == 0 {
				firstCode = code
			}
		}
		if b.structured {
			status := map[bool]string{true: "ok", false: "failed"}[code == ExitOK]
			if err := b.results.Write([]any{bc.Line, bc.Text(), status, code, nullable(msg), out, changes}); err != nil {
				return err
			}
		}
		if code != ExitOK && !b.o.continueOnError {
			if i+1 < len(cmds) && b.heldFailure == 0 {
				stoppedAt = &cmds[i+1]
			}
			break
		}
	}
	bar.Done()
	return b.finish(ctx, tx, len(cmds), ok, failed, firstCode, stoppedAt)
}

// runOne runs one line; in a transaction it gets a savepoint, so a failed
// line of a dry run leaves the transaction usable for the next.
func (b *batchRun) runOne(ctx context.Context, tx pgx.Tx, bc *batchCommand) (int, string, any, any, error) {
	var sp pgx.Tx
	if _, deferring := tx.(*client.DeferringTx); tx != nil && !deferring {
		var err error
		if sp, err = tx.Begin(ctx); err != nil {
			if ctx.Err() != nil {
				return ExitFailure, "interrupted", nil, nil, nil
			}
			return 0, "", nil, nil, err
		}
		b.inv.UseClient(b.pool.WithDB(sp))
	}
	var buf bytes.Buffer
	var w io.Writer = b.inv.IO.Out
	if b.structured || b.o.dryRun {
		w = &buf
	}
	meta := &BatchLine{Run: client.RunLine{ID: b.runID, StartedAt: b.started, Mode: b.mode(), File: b.src.name,
		SHA256: b.src.sha256, Line: bc.Line, Totals: b.totals}, Confirmed: true}
	var saved client.RunTotals
	if b.totals != nil {
		saved = *b.totals
	}
	code, msg, err := b.runner.runErr(ctx, bc.Args, meta, lineIO{in: strings.NewReader(""), out: w})
	if code != ExitOK && b.totals != nil {
		*b.totals = saved // the line's savepoint is rolled back with its counts
	}
	b.heldFailure = 0
	if line, ok := client.HeldLineOf(err); ok && line != bc.Line {
		// An earlier line's held writes failed as this line sent them:
		// that line failed, this one did not run.
		b.heldFailure = line
	}
	var changes any
	if b.o.dryRun && code == ExitOK && tx != nil {
		on := sp
		if on == nil {
			on = tx
		}
		cs, err := client.BatchChanges(ctx, on, b.runID, bc.Line)
		if err == nil {
			if cs == nil {
				cs = []client.BatchChange{}
			}
			b.changes = append(b.changes, cs...)
			changes = batchJSON(mustJSON(cs))
		}
	}
	if sp != nil {
		end := sp.Commit
		if code != ExitOK {
			end = sp.Rollback
		}
		if err := end(context.WithoutCancel(ctx)); err != nil && code == ExitOK {
			code, msg = classify(err)
		}
	}
	var out any
	if s := buf.String(); s != "" {
		out = s
	}
	return code, msg, out, changes, nil
}

// finish commits or rolls back, records how the run ended and reports the
// summary, naming the run.
func (b *batchRun) finish(ctx context.Context, tx pgx.Tx, total, ok, failed, firstCode int, stoppedAt *batchCommand) error {
	errOut := b.inv.IO.ErrOut
	summary := fmt.Sprintf("%d ok, %d failed", ok, failed)
	if stoppedAt != nil {
		summary += fmt.Sprintf(", %d not run (stopped before %s:%d)", total-ok-failed, b.src.name, stoppedAt.Line)
	}
	interrupted := ctx.Err() != nil
	// Recording the outcome must not be cancelled by the interrupt that
	// ended the batch.
	bg := context.WithoutCancel(ctx)
	outcome := client.RunCommitted
	switch {
	case b.o.dryRun:
		summary += "; dry run: rolled back, nothing was applied"
		outcome = ""
	case tx != nil && (failed > 0 || interrupted):
		// The run's record goes with everything else: exactly as before.
		// (A connection the interrupt closed was rolled back by the server.)
		_ = tx.Rollback(bg)
		summary += "; rolled back, nothing was applied"
		outcome = ""
	case tx != nil:
		// Not cancellable: once COMMIT is sent, wait for its outcome so the
		// summary is true either way.
		recorded, err := b.pool.WithDB(tx).FinishRun(bg, b.runID, client.RunCommitted, b.totals)
		if err == nil {
			err = tx.Commit(bg)
		}
		if line, held := client.HeldLineOf(err); held {
			// The last line's held writes failed as they were sent.
			code, msg := classify(err)
			fmt.Fprintf(errOut, "%s:%d: %s\n", b.src.name, line, oneLine(msg))
			fmt.Fprintf(errOut, "b2badmin: %d ok, %d failed; rolled back, nothing was applied\n", ok-1, failed+1)
			return &ExitError{Code: code}
		}
		if err != nil {
			fmt.Fprintln(errOut, "b2badmin: "+summary)
			return fmt.Errorf("commit failed, nothing was applied: %w", err)
		}
		summary += "; committed"
		outcome = ""
		if recorded {
			summary = "run " + b.runID + ": " + summary
		}
	case failed > 0 || interrupted:
		outcome = client.RunPartlyCommitted
		if ok == 0 {
			outcome = client.RunRolledBack
		}
		summary += "; " + outcome
	default:
		summary += "; committed"
	}
	if outcome != "" {
		fctx, cancel := context.WithTimeout(bg, 10*time.Second)
		defer cancel()
		recorded, err := b.pool.FinishRun(fctx, b.runID, outcome, nil)
		if err != nil {
			fmt.Fprintf(errOut, "b2badmin: could not record how run %s ended: %v\n", b.runID, client.Scrub(err.Error()))
		}
		if recorded || err != nil {
			summary = "run " + b.runID + ": " + summary
		}
	}
	fmt.Fprintln(errOut, "b2badmin: "+summary)
	switch {
	case interrupted && failed == 0:
		return &ExitError{Code: ExitFailure, Msg: "interrupted"}
	case failed == 0:
		return nil
	case b.o.continueOnError:
		return &ExitError{Code: ExitFailure}
	}
	return &ExitError{Code: firstCode}
}

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

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}
