package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"

	"automate/internal/apperr"
)

// errorBody is Qlik's error envelope.
type errorBody struct {
	Errors  []errorItem `json:"errors"`
	TraceID string      `json:"traceId"`
}

type errorItem struct {
	Code   string `json:"code"`
	Title  string `json:"title"`
	Detail string `json:"detail,omitempty"`
}

// statusOf is the one place where an error kind becomes an HTTP status.
func statusOf(k apperr.Kind) int {
	switch k {
	case apperr.Invalid:
		return http.StatusBadRequest
	case apperr.Unauthenticated:
		return http.StatusUnauthorized
	case apperr.Forbidden:
		return http.StatusForbidden
	case apperr.NotFound:
		return http.StatusNotFound
	case apperr.MethodNotAllowed:
		return http.StatusMethodNotAllowed
	case apperr.Conflict:
		return http.StatusConflict
	case apperr.TooLarge:
		return http.StatusRequestEntityTooLarge
	case apperr.RateLimited:
		return http.StatusTooManyRequests
	case apperr.Unavailable:
		return http.StatusServiceUnavailable
	case apperr.RunFailed:
		return http.StatusUnprocessableEntity
	}
	return http.StatusInternalServerError
}

// writeError answers with the envelope. Internal causes are logged, never sent.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := apperr.As(err)
	status := statusOf(e.Kind)
	traceID := traceIDFrom(r.Context())
	if status >= 500 {
		s.logger.ErrorContext(r.Context(), "request failed", "traceId", traceID, "method", r.Method, "path", r.URL.Path, "err", err)
	}
	item := errorItem{Code: e.Code, Title: e.Title, Detail: e.Detail}
	if e.Kind == apperr.Internal {
		item = errorItem{Code: apperr.CodeInternal, Title: "Internal server error", Detail: "see the server log for traceId " + traceID}
	}
	writeJSON(w, status, errorBody{Errors: []errorItem{item}, TraceID: traceID})
}

// writeJSON answers with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Only a bug can get here; answer in the envelope anyway.
		status = http.StatusInternalServerError
		b = []byte(`{"errors":[{"code":"HTTP-500","title":"Internal server error"}]}`)
	}
	writeRawJSON(w, status, b)
}

// writeRawJSON answers with b, which is already JSON.
func writeRawJSON(w http.ResponseWriter, status int, b []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Del("Content-Length")
	w.WriteHeader(status)
	w.Write(b)
}

// decodeJSON reads a JSON object body into v, within the size limit.
// Unknown fields are ignored, as Qlik does.
func (s *Server) decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
	raw, err := io.ReadAll(r.Body)
	if err == nil && hasNULEscape(raw) {
		return apperr.Validation(`text may not contain the NUL character (\u0000)`)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err == nil {
		err = dec.Decode(v)
	}
	if err == nil {
		// Anything after the object is a malformed body, not a second request.
		if _, err2 := dec.Token(); err2 != io.EOF {
			err = &json.SyntaxError{Offset: dec.InputOffset()}
			if mbe := (*http.MaxBytesError)(nil); errors.As(err2, &mbe) {
				err = err2
			}
		}
	}
	if err == nil {
		return nil
	}
	var (
		mbe *http.MaxBytesError
		se  *json.SyntaxError
		te  *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &mbe):
		return apperr.E(apperr.TooLarge, apperr.CodeTooLarge, "Request body too large", "the limit is %d bytes", mbe.Limit)
	case errors.Is(err, io.EOF):
		return apperr.E(apperr.Invalid, apperr.CodeInvalidJSON, "Invalid JSON", "a JSON request body is required")
	case errors.As(err, &se), errors.Is(err, io.ErrUnexpectedEOF):
		return apperr.E(apperr.Invalid, apperr.CodeInvalidJSON, "Invalid JSON", "the request body is not valid JSON")
	case errors.As(err, &te):
		if te.Field == "" {
			return apperr.E(apperr.Invalid, apperr.CodeInvalidJSON, "Invalid JSON", "the request body must be a JSON object")
		}
		return apperr.Validation("%s must be %s, got %s", te.Field, jsonTypeName(te.Type.Kind().String()), te.Value)
	}
	return apperr.E(apperr.Invalid, apperr.CodeInvalidJSON, "Invalid JSON", "the request body could not be read")
}

func jsonTypeName(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "int", "int64", "int32":
		return "an integer"
	case "bool":
		return "a boolean"
	case "slice":
		return "a list"
	case "struct", "map":
		return "an object"
	}
	return fmt.Sprintf("a %s", goKind)
}

// hasNULEscape reports a \u0000 escape in a JSON text (one whose backslash
// is not itself escaped). PostgreSQL cannot store NUL in text, so both
// databases refuse it alike.
func hasNULEscape(raw []byte) bool {
	for i := 0; ; {
		j := bytes.Index(raw[i:], []byte(`u0000`))
		if j < 0 {
			return false
		}
		j += i
		n := 0
		for k := j - 1; k >= 0 && raw[k] == '\\'; k-- {
			n++
		}
		if n%2 == 1 {
			return true
		}
		i = j + 1
	}
}

// validText reports whether s can be stored as text: UTF-8 without NUL.
func validText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}
