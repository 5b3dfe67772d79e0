// Package apperr is the one error type of automate. Domain code returns
// *Error values with a Kind and a stable Code; the HTTP layer maps the Kind
// to a status in one place.
package apperr

import (
	"errors"
	"fmt"
)

// Kind classifies an error by what the caller can do about it.
type Kind int

// The kinds of error. Each maps to exactly one HTTP status in internal/api.
const (
	Internal         Kind = iota // a bug or an unreachable dependency
	Invalid                      // the request is malformed or breaks a rule
	Unauthenticated              // no or bad credentials
	Forbidden                    // the caller is known but may not do this
	NotFound                     // no such resource, or the caller may not know of it
	MethodNotAllowed             // the route exists, the method does not
	Conflict                     // the request conflicts with the current state
	TooLarge                     // the request body is over the size limit
	RateLimited                  // the caller is over its rate limit
	Unavailable                  // a dependency is down; retry later
	RunFailed                    // a run the caller waited for did not finish
)

// Stable error codes. They are part of the API contract and listed in the README.
const (
	CodeBadRequest       = "HTTP-400"
	CodeUnauthorized     = "HTTP-401"
	CodeForbidden        = "HTTP-403"
	CodeNotFound         = "HTTP-404"
	CodeMethodNotAllowed = "HTTP-405"
	CodeConflict         = "HTTP-409"
	CodeTooLarge         = "HTTP-413"
	CodeRateLimited      = "HTTP-429"
	CodeInternal         = "HTTP-500"
	CodeUnavailable      = "HTTP-503"

	CodeInvalidJSON      = "AUTOMATE-INVALID-JSON"
	CodeValidation       = "AUTOMATE-VALIDATION"
	CodeInvalidParameter = "AUTOMATE-INVALID-PARAMETER"
	CodeInvalidFilter    = "AUTOMATE-INVALID-FILTER"
	CodeInvalidCursor    = "AUTOMATE-INVALID-CURSOR"
	CodeSpaceNotFound    = "AUTOMATE-SPACE-NOT-FOUND"
	CodeSettingsConflict = "AUTOMATE-SETTINGS-CONFLICT"
	CodeDisabled         = "AUTOMATE-AUTOMATION-DISABLED"
	CodeNotTriggered     = "AUTOMATE-NOT-TRIGGERED"
	CodeRunFailed        = "AUTOMATE-RUN-FAILED"
)

// Error is an error a client may see. Title is a short summary, Detail says
// what exactly was wrong. Err, if set, is the cause and is never shown to
// clients.
type Error struct {
	Kind   Kind
	Code   string
	Title  string
	Detail string
	Err    error
}

func (e *Error) Error() string {
	s := e.Code + ": " + e.Title
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// E builds an *Error with a formatted detail.
func E(kind Kind, code, title, detailFormat string, args ...any) *Error {
	return &Error{Kind: kind, Code: code, Title: title, Detail: fmt.Sprintf(detailFormat, args...)}
}

// Validation reports a request body or parameter that breaks a rule.
func Validation(detailFormat string, args ...any) *Error {
	return E(Invalid, CodeValidation, "Validation failed", detailFormat, args...)
}

// InvalidParameter reports a bad query parameter (limit, sort, listAll).
func InvalidParameter(detailFormat string, args ...any) *Error {
	return E(Invalid, CodeInvalidParameter, "Invalid parameter", detailFormat, args...)
}

// InvalidCursor reports a cursor this server did not issue for this list.
func InvalidCursor(detailFormat string, args ...any) *Error {
	return E(Invalid, CodeInvalidCursor, "Invalid cursor", detailFormat, args...)
}

// NotFoundf reports a missing resource.
func NotFoundf(detailFormat string, args ...any) *Error {
	return E(NotFound, CodeNotFound, "Not found", detailFormat, args...)
}

// Forbiddenf reports an action the caller may not take.
func Forbiddenf(detailFormat string, args ...any) *Error {
	return E(Forbidden, CodeForbidden, "Forbidden", detailFormat, args...)
}

// Internalf wraps an unexpected failure; its detail is never shown to clients.
func Internalf(err error, format string, args ...any) *Error {
	return &Error{Kind: Internal, Code: CodeInternal, Title: "Internal server error", Err: fmt.Errorf(format+": %w", append(args, err)...)}
}

// As returns the *Error in err's chain, or an Internal error wrapping err.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Kind: Internal, Code: CodeInternal, Title: "Internal server error", Err: err}
}

// IsKind reports whether err carries an *Error of the given kind.
func IsKind(err error, kind Kind) bool {
	var e *Error
	return errors.As(err, &e) && e.Kind == kind
}
