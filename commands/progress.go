package commands

import (
	"fmt"
	"io"
	"time"

	"github.com/jedib0t/go-pretty/v6/progress"
)

// progressBar is a go-pretty bar on stderr when stderr is a TTY, and
// nothing otherwise, so scripts and logs stay clean.
type progressBar struct {
	errOut  io.Writer
	pw      progress.Writer
	tracker *progress.Tracker
}

func newProgress(inv *Invocation, what string, total int64) *progressBar {
	if !inv.IO.ErrTTY || inv.Batch != nil {
		return &progressBar{errOut: inv.IO.ErrOut}
	}
	pw := progress.NewWriter()
	pw.SetOutputWriter(inv.IO.ErrOut)
	pw.SetUpdateFrequency(100 * time.Millisecond)
	pw.SetAutoStop(false)
	pw.SetTrackerLength(30)
	pw.Style().Visibility.ETA = true
	pw.Style().Visibility.Speed = true
	t := &progress.Tracker{Message: what, Total: total, Units: progress.UnitsDefault}
	pw.AppendTracker(t)
	go pw.Render()
	return &progressBar{errOut: inv.IO.ErrOut, pw: pw, tracker: t}
}

// Set records progress; safe on a no-op bar.
func (p *progressBar) Set(done int64) {
	if p.tracker != nil {
		p.tracker.SetValue(done)
	}
}

// Note prints a line on stderr above the bar (or plainly when there is
// none), so that notes never interleave with its redraws.
func (p *progressBar) Note(line string) {
	if p.pw == nil {
		fmt.Fprintln(p.errOut, line)
		return
	}
	p.pw.Log("%s", line)
}

// Done finishes the bar and waits for its last render.
func (p *progressBar) Done() {
	if p.pw == nil {
		return
	}
	p.tracker.MarkAsDone()
	time.Sleep(150 * time.Millisecond)
	p.pw.Stop()
	for p.pw.IsRenderInProgress() {
		time.Sleep(10 * time.Millisecond)
	}
}
