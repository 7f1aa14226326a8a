package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Measurement is one whole-process run.
type Measurement struct {
	Wall    time.Duration
	PeakRSS int64 // bytes
}

// RunProcess runs name args with stdin, discarding stdout into out (may be
// nil), and returns its wall time and peak resident memory.
func RunProcess(stdin string, out io.Writer, name string, args ...string) (Measurement, error) {
	return runProcess(0, stdin, out, nil, name, args...)
}

// runProcess is RunProcess for a process that must exit with want, with
// its stderr also copied to errOut (may be nil).
func runProcess(want int, stdin string, out, errOut io.Writer, name string, args ...string) (Measurement, error) {
	cmd := exec.Command(name, args...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	if out == nil {
		out = io.Discard
	}
	var errBuf bytes.Buffer
	cmd.Stdout, cmd.Stderr = out, &errBuf
	if errOut != nil {
		cmd.Stderr = io.MultiWriter(&errBuf, errOut)
	}
	start := time.Now()
	err := cmd.Run()
	m := Measurement{Wall: time.Since(start)}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		m.PeakRSS = ru.Maxrss * 1024 // Linux reports KiB
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == want {
		err = nil
	}
	if err == nil && cmd.ProcessState.ExitCode() != want {
		err = fmt.Errorf("exit %d, want %d", cmd.ProcessState.ExitCode(), want)
	}
	if err != nil {
		return m, fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, errBuf.String())
	}
	return m, nil
}

// Median runs fn n times and returns the median wall time and the largest peak RSS.
func Median(n int, fn func() (Measurement, error)) (time.Duration, int64, error) {
	var ms []Measurement
	for i := 0; i < n; i++ {
		m, err := fn()
		if err != nil {
			return 0, 0, err
		}
		ms = append(ms, m)
	}
	wall, peak := medianOf(ms)
	return wall, peak, nil
}

// medianOf is the median wall time and the largest peak RSS of runs.
func medianOf(ms []Measurement) (time.Duration, int64) {
	walls := make([]time.Duration, len(ms))
	var peak int64
	for i, m := range ms {
		walls[i], peak = m.Wall, max(peak, m.PeakRSS)
	}
	return medianWall(walls), peak
}

// medianWall is the median of walls.
func medianWall(walls []time.Duration) time.Duration {
	s := slices.Clone(walls)
	slices.Sort(s)
	return s[len(s)/2]
}

// MiB formats bytes.
func MiB(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
