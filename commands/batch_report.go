package commands

import (
	"fmt"

	"github.com/b2badmin/b2badmin/client"
)

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
// statements, and the waiting lines before it as they ran. The waiting
// lines after it ran, but a run line by line would have stopped at line:
// they are "not run"; it returns the first of them (nil: none).
func (b *batchRun) failHeld(line, code int, msg string) (*batchCommand, error) {
	var notRun *batchCommand
	for i := range b.pending {
		if b.pending[i].bc.Line == line {
			b.pending[i].code, b.pending[i].msg = code, msg
		}
		if b.pending[i].bc.Line > line {
			notRun = b.pending[i].bc
			b.pending = b.pending[:i]
			break
		}
	}
	return notRun, b.reportPending()
}

// earlierHeldFailure is the earlier line whose held statements failed as
// line sent them (0: none, or line's own failure).
func earlierHeldFailure(err error, line int) int {
	if held, ok := client.HeldLineOf(err); ok && held != line {
		return held
	}
	return 0
}

// earlier is the earlier of two lines, either of which may be nil.
func earlier(a, b *batchCommand) *batchCommand {
	if a == nil || (b != nil && b.Line < a.Line) {
		return b
	}
	return a
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
