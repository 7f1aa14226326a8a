package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

// SIGINT, SIGTERM and --timeout must end b2badmin within a second, even
// while stdout is blocked by a reader that stopped reading
// (`b2badmin users list --all -o jsonl | sleep 8`): the command then sits
// in write(2), where no context reaches it, and the signal was ignored
// until the reader went away. The process's streams are therefore written
// (and stdin read) from goroutines of their own, and a Write or Read
// returns the context's error as soon as the command's context ends: the
// command unwinds, pgx cancels its query, and Main exits with 130
// (SIGINT) or 143 (SIGTERM) and one line on stderr. A second signal ends
// the process at once (the server rolls back whatever was not committed).

// signalError is the cause of a context cancelled by a signal.
type signalError struct{ sig syscall.Signal }

func (e *signalError) Error() string { return "interrupted by " + signalName(e.sig) }

// Unwrap: an interruption by a signal is a cancellation like any other.
func (e *signalError) Unwrap() error { return context.Canceled }

// ExitCode is the shell's convention: 128 + the signal's number.
func (e *signalError) ExitCode() int { return 128 + int(e.sig) }

func signalName(s syscall.Signal) string {
	switch s {
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return s.String()
}

// interruptedBy returns the signal that cancelled ctx, if one did.
func interruptedBy(ctx context.Context) *signalError {
	var se *signalError
	if errors.As(context.Cause(ctx), &se) {
		return se
	}
	return nil
}

// signalContext is cancelled, with a signalError as its cause, by the
// first SIGINT or SIGTERM; the second one calls hardExit.
func signalContext(hardExit func(*signalError)) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		var first time.Time
		for {
			select {
			case s := <-ch:
				se := &signalError{sig: s.(syscall.Signal)}
				switch {
				case first.IsZero():
					first = time.Now()
					cancel(se)
				case time.Since(first) < repeatWindow:
					// One signal delivered twice: timeout(1) signals the
					// child and then its whole process group.
				default:
					hardExit(se)
				}
			case <-done:
				return
			}
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		close(done)
		cancel(nil)
	}
}

// repeatWindow: a second signal this soon after the first is the same one
// delivered twice, not a person asking again.
const repeatWindow = 500 * time.Millisecond

// grace is how long a Write or Read that was under way when its context
// ended may still take: a slow reader is not a stuck one, and the last
// line of output should not be cut for nothing.
const grace = 200 * time.Millisecond

// processStream is one of the process's standard streams, read or written
// by a goroutine of its own, so that the command waiting for it can give
// up when its context ends. After a given-up operation the stream is
// broken: every later call fails at once (the goroutine may still hold the
// buffer it was handed).
type processStream struct {
	f    *os.File
	sem  chan struct{} // one operation at a time
	req  chan []byte
	res  chan ioResult
	read bool

	mu       sync.Mutex
	watching []context.Context // innermost last
	broken   error
	buf      []byte
}

type ioResult struct {
	n   int
	err error
}

func newProcessStream(f *os.File, read bool) *processStream {
	s := &processStream{f: f, sem: make(chan struct{}, 1), req: make(chan []byte), res: make(chan ioResult), read: read}
	go func() {
		for b := range s.req {
			var r ioResult
			if s.read {
				r.n, r.err = s.f.Read(b)
			} else {
				r.n, r.err = s.f.Write(b)
			}
			s.res <- r
		}
	}()
	return s
}

// fileOf is the file behind a process stream, for a child process (the
// pager) that must inherit the terminal itself rather than a pipe.
func fileOf(w io.Writer) io.Writer {
	if s, ok := w.(*processStream); ok {
		return s.f
	}
	return w
}

// Fd is the stream's file descriptor (terminal checks, password prompts).
func (s *processStream) Fd() uintptr { return s.f.Fd() }

// watch makes operations give up when ctx ends, until the returned stop is
// called. Watches nest: the innermost (last) one counts.
func (s *processStream) watch(ctx context.Context) (stop func()) {
	s.mu.Lock()
	s.watching = append(s.watching, ctx)
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		for i := len(s.watching) - 1; i >= 0; i-- {
			if s.watching[i] == ctx {
				s.watching = append(s.watching[:i], s.watching[i+1:]...)
				return
			}
		}
	}
}

func (s *processStream) current() (context.Context, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.broken != nil {
		return nil, s.broken
	}
	if n := len(s.watching); n > 0 {
		return s.watching[n-1], nil
	}
	return context.Background(), nil
}

func (s *processStream) Write(p []byte) (int, error) { return s.do(p) }
func (s *processStream) Read(p []byte) (int, error)  { return s.do(p) }

func (s *processStream) do(p []byte) (int, error) {
	ctx, err := s.current()
	if err != nil {
		return 0, err
	}
	// A context that already ended still lets a ready stream through (the
	// one-line diagnostic after an interrupt must reach a working stderr).
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		select {
		case s.sem <- struct{}{}:
		case <-time.After(grace):
			return 0, s.giveUp(ctx, false)
		}
	}
	// The goroutine works on a buffer it owns, so that a given-up
	// operation never touches the caller's buffer later.
	if cap(s.buf) < len(p) {
		s.buf = make([]byte, len(p))
	}
	s.buf = s.buf[:len(p)]
	if !s.read {
		copy(s.buf, p)
	}
	s.req <- s.buf
	var r ioResult
	select {
	case r = <-s.res:
	case <-ctx.Done():
		select {
		case r = <-s.res:
		case <-time.After(grace):
			return 0, s.giveUp(ctx, true)
		}
	}
	if s.read {
		copy(p, s.buf[:r.n])
	}
	<-s.sem
	return r.n, r.err
}

// giveUp breaks the stream for good and returns the context's error. held:
// the goroutine keeps s.buf and the semaphore.
func (s *processStream) giveUp(ctx context.Context, held bool) error {
	err := ctx.Err()
	s.mu.Lock()
	if s.broken == nil {
		what := "stdout"
		if s.read {
			what = "stdin"
		} else if s.f == os.Stderr {
			what = "stderr"
		}
		s.broken = fmt.Errorf("%s blocked: %w", what, err)
	}
	s.mu.Unlock()
	if held {
		s.buf = nil
	}
	return err
}

// watch makes every process stream among io's give up when ctx ends; Main
// watches the signal context, commandContext each command's (--timeout).
func (io *IOStreams) watch(ctx context.Context) func() {
	var stops []func()
	for _, x := range []any{io.In, io.Out, io.ErrOut} {
		if s, ok := x.(*processStream); ok {
			stops = append(stops, s.watch(ctx))
		}
	}
	return func() {
		for _, stop := range stops {
			stop()
		}
	}
}

// processStreams are the process's standard streams behind goroutines.
func processStreams() *IOStreams {
	io := SystemStreams()
	io.In = newProcessStream(os.Stdin, true)
	io.Out = newProcessStream(os.Stdout, false)
	io.ErrOut = newProcessStream(os.Stderr, false)
	return io
}

// hardExit is the second signal: write out the stderr held behind a
// buffered stdout (release), say so, if stderr takes it at once, and go.
func hardExit(se *signalError, release func()) {
	line := fmt.Sprintf("b2badmin: %s again: exiting now; what was not committed is rolled back by the server (b2badmin log runs shows what was)\n", signalName(se.sig))
	done := make(chan struct{})
	go func() { release(); _, _ = io.WriteString(os.Stderr, line); close(done) }()
	select {
	case <-done:
	case <-time.After(grace):
	}
	os.Exit(se.ExitCode())
}
