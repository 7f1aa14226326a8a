package output

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/itchyny/gojq"
)

// JQ is a compiled --jq expression (gojq: jq's language in Go, so scripts
// need no jq binary).
type JQ struct {
	expr string
	code *gojq.Code
}

// CompileJQ parses and compiles expr; a syntax error is the caller's usage
// error.
func CompileJQ(expr string) (*JQ, error) {
	q, err := gojq.Parse(expr)
	if err != nil {
		return nil, fmt.Errorf("--jq: %v", err)
	}
	code, err := gojq.Compile(q)
	if err != nil {
		return nil, fmt.Errorf("--jq: %v", err)
	}
	return &JQ{expr: expr, code: code}, nil
}

// JQError is a failure of the expression on the data (".foo" on an array).
type JQError struct{ Err error }

func (e *JQError) Error() string { return "--jq: " + e.Err.Error() }
func (e *JQError) Unwrap() error { return e.Err }

// NewJQWriter returns a writer that takes JSON (one document, or JSON
// Lines) and writes the expression's results to w: strings raw, other
// values as compact JSON, one per line — what `jq -r -c` prints. Each JSON
// value is filtered as soon as it is complete, so JSON Lines stream.
// Close returns the first error of the expression. The filter starts at
// the first Write: a writer made for a command that never runs (its
// checks failed, or a batch stopped before it) holds nothing.
func NewJQWriter(w io.Writer, q *JQ) io.WriteCloser {
	return &jqWriter{w: w, q: q}
}

type jqWriter struct {
	w    io.Writer
	q    *JQ
	pw   *io.PipeWriter // nil until the first Write
	done chan error
}

func (j *jqWriter) start() {
	pr, pw := io.Pipe()
	j.pw, j.done = pw, make(chan error, 1)
	go func() {
		err := j.q.run(pr, j.w)
		// The producer's next write fails with the expression's error
		// instead of blocking on a reader that stopped.
		if err != nil {
			pr.CloseWithError(err)
		} else {
			_, _ = io.Copy(io.Discard, pr) // after halt: drain
		}
		j.done <- err
	}()
}

func (j *jqWriter) Write(p []byte) (int, error) {
	if j.pw == nil {
		j.start()
	}
	return j.pw.Write(p)
}

func (j *jqWriter) Close() error {
	if j.pw == nil {
		return nil // no JSON: no results
	}
	j.pw.Close()
	return <-j.done
}

func (q *JQ) run(r io.Reader, w io.Writer) error {
	dec := json.NewDecoder(r)
	dec.UseNumber() // gojq takes json.Number: IDs and amounts keep every digit
	var line []byte
	for {
		var v any
		if err := dec.Decode(&v); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return fmt.Errorf("--jq: reading the JSON output: %w", err)
		}
		iter := q.code.Run(v)
		for {
			x, ok := iter.Next()
			if !ok {
				break
			}
			if err, ok := x.(error); ok {
				var halt *gojq.HaltError
				if errors.As(err, &halt) && halt.Value() == nil {
					return nil
				}
				return &JQError{Err: err}
			}
			line = line[:0]
			if s, ok := x.(string); ok {
				line = append(line, s...)
			} else {
				b, err := gojq.Marshal(x)
				if err != nil {
					return &JQError{Err: err}
				}
				line = append(line, b...)
			}
			line = append(line, '\n')
			if _, err := w.Write(line); err != nil {
				return err
			}
		}
	}
}
