package commands

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/b2badmin/b2badmin/client"
	"github.com/b2badmin/b2badmin/output"
)

// batchRun is one execution of a checked batch: one run, whose id every
// line's changes carry.
type batchRun struct {
	inv        *Invocation
	o          *batchOptions
	src        batchSource
	runID      string
	command    string // the batch's command line, redacted: its run's
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
	gather *client.Gather      // --atomic, --dry-run: lines that change different users run side by side
	tx     *client.DeferringTx // their transaction
	// redo are lines to run again, prepared afresh: a dry-run window that
	// failed, rolled back to before it. They run before the next lines
	// ahead, in windows again, except those in alone: the lines that
	// failed there on their own run alone. windowCap bounds the next
	// window: halved after a window that failed, doubled once four times
	// as many lines as it went through in a row (okRun), so that failing
	// lines close together cost about what they cost line by line.
	redo      []readyLine
	alone     map[int]bool
	windowCap int
	okRun     int
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
	b.command = RedactCommandLine(b.inv.Args)
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
		// Each line's writes ride on the next round trip
		// (client.DeferringTx), and lines that change different users run
		// side by side (client.Gather). No savepoint in --atomic, where a
		// failure rolls everything back; a dry run's windows and its
		// --continue-on-error lines run alone get one each.
		d := client.NewDeferringTx(tx)
		tx, b.holder, b.tx = d, d, d
		b.inv.UseClient(b.pool.WithDB(tx))
		b.gather = client.NewGather(d)
	case !b.o.continueOnError:
		defer oneProcessor()()
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
		defer oneProcessor()()
		b.inv.UseClient(b.pool)
	}
	b.alone, b.windowCap = map[int]bool{}, windowLimit
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
				var err error
				if rls[k], err = b.take(ahead, &cmds[i+k]); err != nil {
					b.bar.Done()
					return err
				}
			}
			again, before, failed, err := b.runWindow(ctx, rls)
			if err != nil {
				b.bar.Done()
				return err
			}
			if again {
				i-- // the window's lines again, its failed lines alone
				continue
			}
			b.bar.Set(int64(i + n))
			if failed {
				stoppedAt = before
				if before == nil && i+n < len(cmds) {
					stoppedAt = &cmds[i+n]
				}
				break
			}
			i += n - 1
			continue
		}
		rl, err := b.take(ahead, bc)
		if err != nil {
			b.bar.Done()
			return err
		}
		delete(b.alone, bc.Line)
		r, err := b.runOne(ctx, tx, rl)
		if err != nil {
			b.bar.Done()
			return err
		}
		if r.code == ExitOK {
			b.wentThrough(1)
		} else {
			b.okRun = 0
		}
		b.bar.Set(int64(i + 1))
		if r.heldFailure != 0 {
			// An earlier line's held statements failed as this line sent
			// them: that line failed, and this one did not run.
			notRun, err := b.failHeld(r.heldFailure, r.code, r.msg)
			if err != nil {
				return err
			}
			stoppedAt = earlier(notRun, bc)
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
			notRun, err := b.failHeld(line, code, oneLine(msg))
			if err != nil {
				return err
			}
			stoppedAt = earlier(notRun, stoppedAt)
		}
		if err := b.settle(); err != nil {
			return err
		}
	}
	return b.finish(ctx, tx, len(cmds), stoppedAt)
}

// runOne runs one line; in a dry run with --continue-on-error it gets a
// savepoint, so a failed line leaves the transaction usable for the next.
func (b *batchRun) runOne(ctx context.Context, tx pgx.Tx, rl readyLine) (lineResult, error) {
	bc := rl.bc
	var sp pgx.Tx
	if tx != nil && b.o.continueOnError {
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
	heldFailure := earlierHeldFailure(err, bc.Line)
	var changes any
	if b.o.dryRun && code == ExitOK && tx != nil {
		on := sp
		if on == nil {
			on = tx
		}
		// Reading sends the line's held writes first: a failure there is
		// the line's own.
		cs, err := client.BatchChanges(ctx, on, b.runID, bc.Line, bc.Line)
		if err == nil {
			changes = b.showChanges(cs)
		} else {
			code, msg = classify(err)
			msg = oneLine(msg)
			heldFailure = earlierHeldFailure(err, bc.Line)
			*b.totals = saved
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
		// summary is true either way. Read-only, no line recorded the run.
		var recorded bool
		var err error
		if !b.inv.ReadOnly() {
			recorded, err = b.pool.WithDB(tx).FinishRun(bg, b.runID, client.RunCommitted, b.totals)
		}
		if err == nil {
			err = tx.Commit(bg)
		}
		outcome = ""
		if line, held := client.HeldLineOf(err); held {
			// The last line's held writes failed as they were sent.
			code, msg := classify(err)
			notRun, err := b.failHeld(line, code, oneLine(msg))
			if err != nil {
				return err
			}
			stoppedAt = earlier(notRun, stoppedAt)
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
	// Read-only, no line wrote: there is no run to record an end for (and
	// the server would refuse the UPDATE).
	if outcome != "" && !b.inv.ReadOnly() {
		stopped := b.failed > 0 || interrupted
		if stopped {
			outcome = client.RunPartlyCommitted
			// A resumed run keeps the lines it committed before.
			if b.ok == 0 && (b.resumed == nil || b.resumed.LastLine == nil) {
				outcome = client.RunRolledBack
			}
		}
		fctx, cancel := context.WithTimeout(bg, 10*time.Second)
		defer cancel()
		recorded, err := b.pool.FinishRun(fctx, b.runID, outcome, nil)
		switch {
		case err != nil:
			fmt.Fprintf(errOut, "b2badmin: could not record how run %s ended: %v\n", b.runID, client.Scrub(err.Error()))
		case !recorded && stopped:
			// No line wrote anything: there is no run, and nothing committed.
			outcome = "nothing was committed"
		}
		if stopped {
			summary += "; " + outcome
		} else {
			summary += "; committed"
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

// oneProcessor runs Go on one processor until the returned func restores
// the setting. A batch whose lines commit one by one is a chain of round
// trips: a second processor has nothing to run beside it (the next lines
// are prepared while a round trip waits), but a reply then wakes the line
// through another thread, and idle threads spin on CPU the database may
// need. Measured on 2 cores with the database beside it: 10,000 lines in
// 6.7 s against 7.8 s, in alternate runs. --atomic and --dry-run keep
// every processor: their lines are pipelined, and preparing them is the
// work. A GOMAXPROCS the user set is left alone, and so is a test binary
// (batches run side by side there: one would slow all the others).
func oneProcessor() (restore func()) {
	if os.Getenv("GOMAXPROCS") != "" || keepProcessors {
		return func() {}
	}
	prev := runtime.GOMAXPROCS(1)
	return func() { runtime.GOMAXPROCS(prev) }
}

// keepProcessors turns oneProcessor off in tests but its own.
var keepProcessors = testing.Testing()
