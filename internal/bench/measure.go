package main

import (
	"bytes"
	"fmt"
	"io"
	"os/exec"
	"sort"
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
	cmd := exec.Command(name, args...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	if out == nil {
		out = io.Discard
	}
	var errBuf bytes.Buffer
	cmd.Stdout, cmd.Stderr = out, &errBuf
	start := time.Now()
	err := cmd.Run()
	m := Measurement{Wall: time.Since(start)}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		m.PeakRSS = ru.Maxrss * 1024 // Linux reports KiB
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
	sort.Slice(walls, func(i, j int) bool { return walls[i] < walls[j] })
	return walls[len(walls)/2], peak
}

// MiB formats bytes.
func MiB(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
