package client

import (
	"errors"
	"fmt"
)

// ErrNotFound means a named user, group, permission or row does not exist.
// Main maps it to exit code 3.
var ErrNotFound = errors.New("not found")

// NotFoundError names what was not found; it matches ErrNotFound.
type NotFoundError struct{ What string }

func (e *NotFoundError) Error() string        { return e.What + " not found" }
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// NotFound builds a NotFoundError from a format.
func NotFound(format string, args ...any) error {
	return &NotFoundError{What: fmt.Sprintf(format, args...)}
}

// RefusedError is a validation failure or a broken rule: the request was
// understood and declined, nothing was written. Main maps it to exit code 4.
type RefusedError struct{ Msg string }

func (e *RefusedError) Error() string { return e.Msg }

// Refused builds a RefusedError from a format.
func Refused(format string, args ...any) error {
	return &RefusedError{Msg: fmt.Sprintf(format, args...)}
}

// IsRefused reports whether err is (or wraps) a RefusedError.
func IsRefused(err error) bool {
	var r *RefusedError
	return errors.As(err, &r)
}
