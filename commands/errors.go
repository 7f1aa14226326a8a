package commands

import (
	"errors"
	"fmt"
)

// Exit codes (SPEC §4).
const (
	ExitOK       = 0
	ExitFailure  = 1
	ExitUsage    = 2
	ExitNotFound = 3
	ExitRefused  = 4
	ExitFindings = 5
)

// UsageError is a mistake in how the command was called: exit 2.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

func usageError(msg string) error { return &UsageError{Msg: msg} }

func usageErrorf(format string, args ...any) error {
	return &UsageError{Msg: fmt.Sprintf(format, args...)}
}

// ExitError carries a specific exit code, e.g. 5 for audit findings.
// Msg may be empty when the output already says everything.
type ExitError struct {
	Code int
	Msg  string
}

func (e *ExitError) Error() string { return e.Msg }

// ErrSilent ends a command with exit 1 after it has already reported its
// problem (a batch's list of parse errors, say).
var ErrSilent = errors.New("")
