package casework

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors returned by the domain and by every Store implementation.
// Callers test them with errors.Is; adapters translate them to an HTTP status or
// to bot text in exactly one place each.
var (
	// ErrNotFound is returned when a looked-up entity does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict is returned when a write loses a race: the entity changed since
	// it was read (optimistic concurrency), or a unique key is already taken.
	ErrConflict = errors.New("conflict")
	// ErrInvalidTransition is returned when an action is not allowed in a case's
	// current state. The concrete error is a *TransitionError.
	ErrInvalidTransition = errors.New("invalid transition")
	// ErrInvalid is returned for input that fails validation. The concrete error
	// is a *ValidationError naming the field.
	ErrInvalid = errors.New("invalid input")
)

// ValidationError reports which field of an input is invalid and why.
// It matches ErrInvalid with errors.Is.
type ValidationError struct {
	Field  string
	Reason string
}

func (e *ValidationError) Error() string {
	return fmt.Sprintf("invalid %s: %s", e.Field, e.Reason)
}

// Is lets errors.Is(err, ErrInvalid) match a *ValidationError.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

// Invalid returns a *ValidationError for field.
func Invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// TransitionError reports an action that is not allowed in a state.
// It matches ErrInvalidTransition with errors.Is.
type TransitionError struct {
	From   State
	Action Action
}

func (e *TransitionError) Error() string {
	return fmt.Sprintf("invalid transition: cannot %s a case that is %s", e.Action, e.From)
}

// Is lets errors.Is(err, ErrInvalidTransition) match a *TransitionError.
func (e *TransitionError) Is(target error) bool { return target == ErrInvalidTransition }

// ConflictError reports what conflicted. It matches ErrConflict with errors.Is.
type ConflictError struct {
	What string
}

func (e *ConflictError) Error() string { return "conflict: " + e.What }

// Is lets errors.Is(err, ErrConflict) match a *ConflictError.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// ErrDuplicateIntake is matched by a *DuplicateIntakeError.
var ErrDuplicateIntake = errors.New("the report is registered already")

// DuplicateIntakeError is CreateCase's answer for a case whose IntakeKey is
// already a case's: the same report, submitted again. It names the case
// registered first; nothing of the second was stored.
type DuplicateIntakeError struct {
	ID     int64
	Number string
}

func (e *DuplicateIntakeError) Error() string {
	return "the report is registered already as case " + e.Number
}

// Is lets errors.Is(err, ErrDuplicateIntake) match a *DuplicateIntakeError.
func (e *DuplicateIntakeError) Is(target error) bool { return target == ErrDuplicateIntake }

// LineError is one problem found on one line of an imported file.
type LineError struct {
	Line   int    // 1-based line number in the file, the header being line 1
	Column string // the column concerned, when one is
	Reason string
}

func (e LineError) Error() string {
	if e.Column != "" {
		return fmt.Sprintf("line %d: %s: %s", e.Line, e.Column, e.Reason)
	}
	return fmt.Sprintf("line %d: %s", e.Line, e.Reason)
}

// ImportError collects every problem of an import. Nothing of an import that
// returns an ImportError has been stored. It matches ErrInvalid with errors.Is.
type ImportError struct {
	Lines []LineError
}

func (e *ImportError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "import refused, nothing stored: %d problem(s)", len(e.Lines))
	for i, l := range e.Lines {
		if i == 50 {
			fmt.Fprintf(&b, "\n  … and %d more", len(e.Lines)-50)
			break
		}
		b.WriteString("\n  ")
		b.WriteString(l.Error())
	}
	return b.String()
}

// Is lets errors.Is(err, ErrInvalid) match an *ImportError.
func (e *ImportError) Is(target error) bool { return target == ErrInvalid }
