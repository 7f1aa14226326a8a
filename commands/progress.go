package commands

import (
	"time"

	"github.com/jedib0t/go-pretty/v6/progress"
)

// progressBar is a go-pretty bar on stderr when stderr is a TTY, and
// nothing otherwise, so scripts and logs stay clean.
type progressBar struct {
	pw      progress.Writer
	tracker *progress.Tracker
}

func newProgress(f *Factory, what string, total int64) *progressBar {
	if !f.IO.ErrTTY || f.Batch != nil {
		return &progressBar{}
	}
	pw := progress.NewWriter()
	pw.SetOutputWriter(f.IO.ErrOut)
	pw.SetUpdateFrequency(100 * time.Millisecond)
	pw.SetAutoStop(false)
	pw.SetTrackerLength(30)
	pw.Style().Visibility.ETA = true
	pw.Style().Visibility.Speed = true
	t := &progress.Tracker{Message: what, Total: total, Units: progress.UnitsDefault}
	pw.AppendTracker(t)
	go pw.Render()
	return &progressBar{pw: pw, tracker: t}
}

// Set records progress; safe on a no-op bar.
func (p *progressBar) Set(done int64) {
	if p.tracker != nil {
		p.tracker.SetValue(done)
	}
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
