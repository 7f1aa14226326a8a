package commands

import (
	"context"
	"fmt"
	"slices"

	"github.com/b2badmin/b2badmin/client"
)

// allNameUsers reports whether every line changes only the users it
// names (no selector, no read of other users).
func allNameUsers(cmds []batchCommand) bool {
	for _, bc := range cmds {
		if len(bc.userIDs) == 0 || len(bc.userIDs) > client.MaxGenericRefs {
			return false
		}
	}
	return true
}

// maxWindow is how many lines at most run side by side: enough that a
// round trip serves dozens of lines, few enough that a window's trees and
// outputs stay small (128 ran 3-5% faster than 64 on 10,000 lines; 256 no
// faster than 128).
const maxWindow = 128

// windowLimit is how many lines a window takes at most: maxWindow, or 1
// in this package's tests, for the line-by-line run a side-by-side one
// must match.
var windowLimit = maxWindow

// window is how many of the lines starting at cmds[0] may run side by
// side in an --atomic batch: consecutive lines that each change only the
// users they name, no user named twice.
func (b *batchRun) window(cmds []batchCommand) int {
	if b.gather == nil {
		return 0
	}
	seen := map[int64]bool{}
	n := 0
	for n < len(cmds) && n < b.windowCap && len(cmds[n].userIDs) > 0 && !b.alone[cmds[n].Line] {
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
// none of them). In a dry run, a window that failed goes back to before
// it and is to run again (again): its lines are in b.redo.
func (b *batchRun) runWindow(ctx context.Context, rls []readyLine) (again bool, stop *batchCommand, failed bool, err error) {
	results := make([]lineResult, len(rls))
	lines := make([]int, len(rls))
	for i, rl := range rls {
		lines[i] = rl.bc.Line
	}
	var saved client.RunTotals
	if b.o.dryRun {
		saved = *b.totals
		if err := b.tx.Savepoint(ctx, windowSavepoint); err != nil {
			return false, nil, false, err
		}
	}
	b.gather.Run(ctx, lines, func(i int, db client.DBTX) {
		rl := rls[i]
		rl.p.inv.own = b.pool.WithDB(db)
		code, msg, err := b.runner.exec(ctx, rl.p)
		results[i] = lineResult{bc: rl.bc, code: code, msg: msg, heldFailure: earlierHeldFailure(err, rl.bc.Line)}
	})
	if windowHook != nil {
		windowHook(len(rls))
	}
	var changes map[int][]client.BatchChange
	if b.o.dryRun {
		failure := b.gather.Failed()
		if failure == nil {
			changes, failure = b.windowChanges(ctx, results)
		}
		failedAt, _ := client.HeldLineOf(failure)
		own := failedOnTheirOwn(results)
		if (failure != nil || (b.o.continueOnError && len(own) > 0)) && ctx.Err() == nil {
			// A statement failed: run line by line, the lines before it
			// would show their changes and it would fail alone. With
			// --continue-on-error, any failure: alone, a failed line runs
			// in a savepoint of its own, and leaves no write behind for
			// the lines after it.
			return true, nil, false, b.again(ctx, rls, saved, append(own, failedAt))
		}
		if changes == nil {
			// Interrupted before the window's changes were read: no line
			// of it is shown ok without its change list.
			for i := range results {
				if results[i].code == ExitOK && results[i].heldFailure == 0 {
					results[i].code, results[i].msg = ExitFailure, "interrupted"
				}
			}
		}
	}
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
				notRun, err := b.failHeld(failLine, failCode, failMsg)
				return false, earlier(notRun, rls[0].bc), true, err
			}
			return false, rl.bc, true, nil
		}
		r := results[i]
		switch {
		case rl.bc.Line == failLine:
			r.code, r.msg, r.heldFailure = failCode, failMsg, 0
		case r.heldFailure == failLine:
			// Cut short by the later line's failure: run line by line, it
			// would have run before that line failed.
			r.code, r.msg, r.heldFailure = ExitOK, "", 0
		}
		if s := rl.buf.String(); s != "" {
			if b.structured || b.o.dryRun {
				r.out = s
			} else {
				fmt.Fprint(b.inv.IO.Out, s)
			}
		}
		if changes != nil && r.code == ExitOK {
			r.changes = b.showChanges(changes[rl.bc.Line])
		}
		b.pending = append(b.pending, r)
		if err := b.settle(); err != nil {
			return false, nil, false, err
		}
		if rl.bc.Line == failLine {
			if i+1 < len(rls) {
				return false, rls[i+1].bc, true, nil
			}
			return false, nil, true, nil
		}
	}
	b.wentThrough(len(rls))
	return false, nil, false, nil
}

// windowHook, set only by this package's tests, learns the size of each
// window that ran side by side, before its changes are read.
var windowHook func(lines int)

// windowSavepoint is where a dry run goes back to when a window fails.
const windowSavepoint = "b2badmin_window"

// windowChanges reads what the window's lines wrote to the log, by line,
// in one read (their held writes are sent first), for a dry run's results.
func (b *batchRun) windowChanges(ctx context.Context, results []lineResult) (map[int][]client.BatchChange, error) {
	first, last := results[0].bc.Line, results[len(results)-1].bc.Line
	cs, err := client.BatchChanges(ctx, b.tx, b.runID, first, last)
	if err != nil {
		return nil, err
	}
	byLine := map[int][]client.BatchChange{}
	for _, c := range cs {
		byLine[c.Line] = append(byLine[c.Line], c)
	}
	return byLine, nil
}

// showChanges keeps a dry-run line's changes for the change table and
// returns them as its result's "changes".
func (b *batchRun) showChanges(cs []client.BatchChange) any {
	if cs == nil {
		cs = []client.BatchChange{}
	}
	b.changes = append(b.changes, cs...)
	return batchJSON(mustJSON(cs))
}

// take takes the next line to run, which must be want: one to run again,
// else the next built ahead.
func (b *batchRun) take(ahead <-chan readyLine, want *batchCommand) (readyLine, error) {
	var rl readyLine
	if len(b.redo) == 0 {
		rl = <-ahead
	} else {
		rl, b.redo = b.redo[0], b.redo[1:]
	}
	if rl.bc != want {
		got := "no line"
		if rl.bc != nil {
			got = fmt.Sprintf("line %d", rl.bc.Line)
		}
		return rl, fmt.Errorf("internal error: %s taken to run in place of line %d", got, want.Line)
	}
	return rl, nil
}

// wentThrough counts n more lines that went through since the last that
// failed, and doubles the window's bound once they are four times as
// many: failing lines close together keep windows small, or lines alone.
// On 3,000 lines, against line by line: every third line failing 1.1x
// (1.4x with "twice as many"), a third failing at random 1.3x, one in ten
// 0.9x, one in fifty 0.45x.
func (b *batchRun) wentThrough(n int) {
	b.okRun += n
	for b.okRun >= 4*b.windowCap && b.windowCap < windowLimit {
		b.windowCap = min(windowLimit, 2*b.windowCap)
	}
}

// failedOnTheirOwn are the lines among results that failed, not because
// another line's statement failed first.
func failedOnTheirOwn(results []lineResult) []int {
	var lines []int
	for _, r := range results {
		if r.code != ExitOK && r.heldFailure == 0 {
			lines = append(lines, r.bc.Line)
		}
	}
	return lines
}

// again takes a dry run back to before a window that failed and queues
// its lines to run again: those in alone alone (the lines that failed on
// their own; lines whose statements came after the failed one did not get
// to fail on their own, and run side by side again), and halves the next
// window's bound.
func (b *batchRun) again(ctx context.Context, rls []readyLine, saved client.RunTotals, alone []int) error {
	if err := b.tx.RollbackTo(ctx, windowSavepoint); err != nil {
		return err
	}
	b.gather.Reset()
	*b.totals = saved
	redo := make([]readyLine, 0, len(rls)+len(b.redo))
	for _, rl := range rls {
		redo = append(redo, b.ready(rl.bc))
	}
	b.redo = append(redo, b.redo...)
	b.windowCap, b.okRun = max(1, b.windowCap/2), 0
	marked := false
	for _, rl := range rls {
		if slices.Contains(alone, rl.bc.Line) {
			b.alone[rl.bc.Line], marked = true, true
		}
	}
	if !marked {
		// Not knowing which of them failed: the first alone, and the
		// rest side by side again.
		b.alone[rls[0].bc.Line] = true
	}
	return nil
}
