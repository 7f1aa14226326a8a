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
	inv        *Invocation
	o          *batchOptions
	src        batchSource
	runID      string
	started    time.Time
	totals     *client.RunTotals // --atomic and --dry-run: the lines' counts
	resumed    *client.Run       // the run this one continues
	runner     *lineRunner
	pool       *client.Client
	structured bool
	results    output.RowWriter
	changes    []client.BatchChange // dry run, table output

	// holder holds a line's last statements until the next round trip
	// (--atomic: a DeferringTx; default mode: chain, a CommitChain).
	holder interface{ HeldLine() int }
	chain  *client.CommitChain
	gather *client.Gather // --atomic: lines that change different users run side by side
	// pending are the lines run but not yet reported: the held one and
	// any after it.
	pending               []lineResult
	ok, failed, firstCode int
	bar                   *progressBar
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
	switch {
	case b.o.atomic || b.o.dryRun:
		b.totals = &client.RunTotals{}
		var err error
		if tx, err = b.pool.DB().Begin(ctx); err != nil {
			return err
		}
		// Rollback after Commit is a no-op; a dropped connection rolls back
		// on the server anyway (a killed process applies nothing).
		defer tx.Rollback(context.WithoutCancel(ctx))
		if allNameUsers(cmds) {
			if err := client.PreferGenericPlans(ctx, tx); err != nil {
				return err
			}
		}
		if !b.o.continueOnError {
			// All or nothing: no savepoints, and each line's writes ride on
			// the next round trip (client.DeferringTx).
			d := client.NewDeferringTx(tx)
			tx, b.holder = d, d
			b.inv.UseClient(b.pool.WithDB(tx))
			if !b.o.dryRun {
				b.gather = client.NewGather(d)
			}
		}
	case !b.o.continueOnError:
		// Each line its own transaction, its COMMIT riding on the next
		// line's first round trip (client.CommitChain).
		c, chain, err := b.pool.NewCommitChain()
		if err != nil {
			return err
		}
		b.chain, b.holder = chain, chain
		defer chain.Close(context.WithoutCancel(ctx)) // after a fatal error: settled already otherwise
		b.inv.UseClient(c)
	default:
		b.inv.UseClient(b.pool)
	}
	b.bar = newProgress(b.inv, "batch", int64(len(cmds)))
	stop := make(chan struct{})
	defer close(stop)
	ahead := b.readyAhead(cmds, stop)
	var stoppedAt *batchCommand
	for i := 0; i < len(cmds); i++ {
		bc := &cmds[i]
		if ctx.Err() != nil {
			stoppedAt = bc
			break
		}
		if n := b.window(cmds[i:]); n > 1 {
			rls := make([]readyLine, n)
			for k := range rls {
				rls[k] = <-ahead
			}
			stop, failed, err := b.runWindow(ctx, rls)
			if err != nil {
				b.bar.Done()
				return err
			}
			b.bar.Set(int64(i + n))
			if failed {
				stoppedAt = stop
				if stop == nil && i+n < len(cmds) {
					stoppedAt = &cmds[i+n]
				}
				break
			}
			i += n - 1
			continue
		}
		r, err := b.runOne(ctx, tx, <-ahead)
		if err != nil {
			b.bar.Done()
			return err
		}
		b.bar.Set(int64(i + 1))
		if r.heldFailure != 0 {
			// An earlier line's held statements failed as this line sent
			// them: that line failed, and this one did not run.
			if err := b.failHeld(r.heldFailure, r.code, r.msg); err != nil {
				return err
			}
			stoppedAt = bc
			break
		}
		b.pending = append(b.pending, r)
		if err := b.settle(); err != nil {
			return err
		}
		if r.code != ExitOK && !b.o.continueOnError {
			if i+1 < len(cmds) {
				stoppedAt = &cmds[i+1]
			}
			break
		}
	}
	if b.chain != nil {
		// The last COMMIT is sent whatever stopped the batch: its line ran.
		if err := b.chain.Close(context.WithoutCancel(ctx)); err != nil {
			line, _ := client.HeldLineOf(err)
			code, msg := classify(err)
			if err := b.failHeld(line, code, oneLine(msg)); err != nil {
				return err
			}
		}
		if err := b.settle(); err != nil {
			return err
		}
	}
	return b.finish(ctx, tx, len(cmds), stoppedAt)
}

// allNameUsers reports whether every line changes only the users it
// names (no selector, no read of other users).
func allNameUsers(cmds []batchCommand) bool {
	for _, bc := range cmds {
		if len(bc.userIDs) == 0 {
			return false
		}
	}
	return true
}

// maxWindow is how many lines at most run side by side: enough that a
// round trip serves dozens of lines, few enough that a window's trees and
// outputs stay small.
const maxWindow = 64

// window is how many of the lines starting at cmds[0] may run side by
// side in an --atomic batch: consecutive lines that each change only the
// users they name, no user named twice.
func (b *batchRun) window(cmds []batchCommand) int {
	if b.gather == nil {
		return 0
	}
	seen := map[int64]bool{}
	n := 0
	for n < len(cmds) && n < maxWindow && len(cmds[n].userIDs) > 0 {
		for _, id := range cmds[n].userIDs {
			if seen[id] {
				return n
			}
		}
		for _, id := range cmds[n].userIDs {
			seen[id] = true
		}
		n++
	}
	return n
}

// runWindow runs lines side by side (client.Gather) and reports them as a
// run line by line would: in order, up to the first that failed. On a
// failure it returns the window's line the batch stopped before (nil:
// none of them).
func (b *batchRun) runWindow(ctx context.Context, rls []readyLine) (stop *batchCommand, failed bool, err error) {
	results := make([]lineResult, len(rls))
	lines := make([]int, len(rls))
	for i, rl := range rls {
		lines[i] = rl.bc.Line
	}
	b.gather.Run(ctx, lines, func(i int, db client.DBTX) {
		rl := rls[i]
		rl.p.inv.own = b.pool.WithDB(db)
		code, msg, err := b.runner.exec(ctx, rl.p)
		results[i] = lineResult{bc: rl.bc, code: code, msg: msg}
		if line, ok := client.HeldLineOf(err); ok && line != rl.bc.Line {
			results[i].heldFailure = line
		}
	})
	// The first failure in line order: a line's own, or the line whose
	// statement failed as another line's were sent.
	failLine, failCode, failMsg := 0, 0, ""
	for _, r := range results {
		line := r.bc.Line
		if r.heldFailure != 0 {
			line = r.heldFailure
		} else if r.code == ExitOK {
			continue
		}
		if failLine == 0 || line < failLine {
			failLine, failCode, failMsg = line, r.code, r.msg
		}
	}
	for i, rl := range rls {
		if failLine != 0 && rl.bc.Line > failLine {
			if failLine < rls[0].bc.Line {
				// An earlier line's held writes failed: no line here ran.
				return rls[0].bc, true, b.failHeld(failLine, failCode, failMsg)
			}
			return rl.bc, true, nil
		}
		r := results[i]
		if rl.bc.Line == failLine {
			r.code, r.msg, r.heldFailure = failCode, failMsg, 0
		}
		if s := rl.buf.String(); s != "" {
			if b.structured {
				r.out = s
			} else {
				fmt.Fprint(b.inv.IO.Out, s)
			}
		}
		b.pending = append(b.pending, r)
		if err := b.settle(); err != nil {
			return nil, false, err
		}
		if rl.bc.Line == failLine {
			if i+1 < len(rls) {
				return rls[i+1].bc, true, nil
			}
			return nil, true, nil
		}
	}
	return nil, false, nil
}

// lineResult is what one line did, reported once it is sure: a line whose
// COMMIT (or, in --atomic, whose writes) is held waits for the round trip
// that sends it.
type lineResult struct {
	bc          *batchCommand
	code        int
	msg         string
	out         any
	changes     any
	heldFailure int // the earlier line whose held statements failed as this one sent them
}

// settle reports the lines whose outcome is known, in order: those before
// the first line whose statements are still held.
func (b *batchRun) settle() error {
	held := 0
	if b.holder != nil {
		held = b.holder.HeldLine()
	}
	n := 0
	for n < len(b.pending) && (held == 0 || b.pending[n].bc.Line < held) {
		n++
	}
	for _, r := range b.pending[:n] {
		if err := b.report(r); err != nil {
			return err
		}
	}
	b.pending = b.pending[n:]
	return nil
}

// failHeld reports line as failed with the failure of its held
// statements, and the other waiting lines as they ran.
func (b *batchRun) failHeld(line, code int, msg string) error {
	for i := range b.pending {
		if b.pending[i].bc.Line == line {
			b.pending[i].code, b.pending[i].msg = code, msg
		}
	}
	return b.reportPending()
}

// reportPending reports every waiting line as it ran.
func (b *batchRun) reportPending() error {
	for _, r := range b.pending {
		if err := b.report(r); err != nil {
			return err
		}
	}
	b.pending = nil
	return nil
}

// pendingFailed reports whether a waiting line failed.
func (b *batchRun) pendingFailed() bool {
	for _, r := range b.pending {
		if r.code != ExitOK {
			return true
		}
	}
	return false
}

// report counts one line's outcome and writes its result.
func (b *batchRun) report(r lineResult) error {
	if r.code == ExitOK {
		b.ok++
	} else {
		b.failed++
		b.bar.Note(fmt.Sprintf("%s:%d: %s", b.src.name, r.bc.Line, r.msg))
		if b.firstCode == 0 {
			b.firstCode = r.code
		}
	}
	if !b.structured {
		return nil
	}
	status := map[bool]string{true: "ok", false: "failed"}[r.code == ExitOK]
	return b.results.Write([]any{r.bc.Line, r.bc.Text(), status, r.code, nullable(r.msg), r.out, r.changes})
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
	meta := &BatchLine{Run: client.RunLine{ID: b.runID, StartedAt: b.started, Mode: b.mode(), File: b.src.name,
		SHA256: b.src.sha256, Line: bc.Line, Totals: b.totals}, Confirmed: true}
	r.p = b.runner.prepare(bc.Args, meta, lineIO{in: strings.NewReader(""), out: w})
	return r
}

// readyAhead builds the lines' trees in order on another goroutine, a few
// lines ahead of the one running: building a tree is a third of a line's
// CPU, and the other core is mostly idle while a line waits for the
// server. Closing stop ends it.
func (b *batchRun) readyAhead(cmds []batchCommand, stop <-chan struct{}) <-chan readyLine {
	ch := make(chan readyLine, 8)
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

// runOne runs one line; in a transaction it gets a savepoint, so a failed
// line of a dry run leaves the transaction usable for the next.
func (b *batchRun) runOne(ctx context.Context, tx pgx.Tx, rl readyLine) (lineResult, error) {
	bc := rl.bc
	var sp pgx.Tx
	if _, deferring := tx.(*client.DeferringTx); tx != nil && !deferring {
		var err error
		if sp, err = tx.Begin(ctx); err != nil {
			if ctx.Err() != nil {
				return lineResult{bc: bc, code: ExitFailure, msg: "interrupted"}, nil
			}
			return lineResult{}, err
		}
		b.inv.UseClient(b.pool.WithDB(sp))
	}
	var saved client.RunTotals
	if b.totals != nil {
		saved = *b.totals
	}
	code, msg, err := b.runner.exec(ctx, rl.p)
	if code != ExitOK && b.totals != nil {
		*b.totals = saved // the line's savepoint is rolled back with its counts
	}
	heldFailure := 0
	if line, ok := client.HeldLineOf(err); ok && line != bc.Line {
		heldFailure = line
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
	if s := rl.buf.String(); s != "" {
		if b.structured || b.o.dryRun {
			out = s
		} else {
			fmt.Fprint(b.inv.IO.Out, s)
		}
	}
	return lineResult{bc: bc, code: code, msg: msg, out: out, changes: changes, heldFailure: heldFailure}, nil
}

// finish commits or rolls back, records how the run ended and reports the
// summary, naming the run.
func (b *batchRun) finish(ctx context.Context, tx pgx.Tx, total int, stoppedAt *batchCommand) error {
	errOut := b.inv.IO.ErrOut
	interrupted := ctx.Err() != nil
	// Recording the outcome must not be cancelled by the interrupt that
	// ended the batch.
	bg := context.WithoutCancel(ctx)
	outcome := client.RunCommitted
	var end, prefix string
	var commitErr error
	switch {
	case b.o.dryRun:
		end, outcome = "; dry run: rolled back, nothing was applied", ""
	case tx != nil && (b.failed > 0 || b.pendingFailed() || interrupted):
		// The run's record goes with everything else: exactly as before.
		// (A connection the interrupt closed was rolled back by the server.)
		_ = tx.Rollback(bg)
		end, outcome = "; rolled back, nothing was applied", ""
	case tx != nil:
		// Not cancellable: once COMMIT is sent, wait for its outcome so the
		// summary is true either way.
		recorded, err := b.pool.WithDB(tx).FinishRun(bg, b.runID, client.RunCommitted, b.totals)
		if err == nil {
			err = tx.Commit(bg)
		}
		outcome = ""
		if line, held := client.HeldLineOf(err); held {
			// The last line's held writes failed as they were sent.
			code, msg := classify(err)
			if err := b.failHeld(line, code, oneLine(msg)); err != nil {
				return err
			}
			end = "; rolled back, nothing was applied"
		} else if err != nil {
			commitErr = fmt.Errorf("commit failed, nothing was applied: %w", err)
		} else {
			end = "; committed"
			if recorded {
				prefix = "run " + b.runID + ": "
			}
		}
	}
	if err := b.reportPending(); err != nil {
		return err
	}
	b.bar.Done()
	summary := fmt.Sprintf("%d ok, %d failed", b.ok, b.failed)
	if stoppedAt != nil {
		summary += fmt.Sprintf(", %d not run (stopped before %s:%d)", total-b.ok-b.failed, b.src.name, stoppedAt.Line)
	}
	if commitErr != nil {
		fmt.Fprintln(errOut, "b2badmin: "+summary)
		return commitErr
	}
	summary = prefix + summary + end
	if outcome != "" {
		switch {
		case b.failed > 0 || interrupted:
			outcome = client.RunPartlyCommitted
			if b.ok == 0 {
				outcome = client.RunRolledBack
			}
			summary += "; " + outcome
		default:
			summary += "; committed"
		}
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
	case interrupted && b.failed == 0:
		return &ExitError{Code: ExitFailure, Msg: "interrupted"}
	case b.failed == 0:
		return nil
	case b.o.continueOnError:
		return &ExitError{Code: ExitFailure}
	}
	return &ExitError{Code: b.firstCode}
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
