package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"automate/internal/access"
	"automate/internal/apikey"
	"automate/internal/apperr"
)

// TraceHeader carries the request's trace id in every response.
const TraceHeader = "X-Trace-Id"

type ctxKey int

const (
	traceKey ctxKey = iota
	routeKey
)

// routeState is filled in by the matched route, so that the outer
// middleware knows whether ServeMux answered by itself (404/405) and which
// pattern served the request.
type routeState struct {
	matched bool
	pattern string
}

func traceIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(traceKey).(string)
	return id
}

func newTraceID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// recorder captures the status, and replaces ServeMux's plain-text 404 and
// 405 bodies with the error envelope.
type recorder struct {
	http.ResponseWriter
	s        *Server
	r        *http.Request
	state    *routeState
	status   int
	suppress bool
}

func (w *recorder) WriteHeader(code int) {
	if w.status != 0 {
		return
	}
	if !w.state.matched && code >= 400 {
		w.status = code
		w.suppress = true // drop the mux's plain-text body that follows
		err := apperr.NotFoundf("no route for %s %s", w.r.Method, w.r.URL.Path)
		if code == http.StatusMethodNotAllowed {
			err = apperr.E(apperr.MethodNotAllowed, apperr.CodeMethodNotAllowed, "Method not allowed",
				"%s is not allowed here; allowed: %s", w.r.Method, w.Header().Get("Allow"))
		}
		w.Header().Del("X-Content-Type-Options")
		w.s.writeError(w.ResponseWriter, w.r, err)
		return
	}
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *recorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if w.suppress {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// ServeHTTP is the outermost layer: trace id, panic recovery, the envelope
// for unmatched routes, access log and metrics.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	traceID := newTraceID()
	state := &routeState{}
	ctx := context.WithValue(context.WithValue(r.Context(), traceKey, traceID), routeKey, state)
	r = r.WithContext(ctx)
	w.Header().Set(TraceHeader, traceID)
	rec := &recorder{ResponseWriter: w, s: s, r: r, state: state}
	if !validRequestText(r) {
		// No id, name, filter or cursor holds NUL or broken UTF-8; PostgreSQL
		// could not compare them, and SQLite must answer alike.
		state.matched = true
		s.writeError(rec, r, apperr.InvalidParameter("the path and query parameters must be UTF-8 text without NUL characters"))
		s.metrics.observe(r.Method, "invalid", http.StatusBadRequest, time.Since(start))
		return
	}
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			s.logger.ErrorContext(ctx, "panic", "traceId", traceID, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			if rec.status == 0 {
				state.matched = true
				s.writeError(rec, r, apperr.Internalf(fmt.Errorf("panic: %v", p), "handler"))
			}
		}
		route := state.pattern
		if route == "" {
			route = "unmatched"
		}
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		elapsed := time.Since(start)
		s.metrics.observe(r.Method, route, rec.status, elapsed)
		level := s.logLevel(rec.status)
		s.logger.Log(ctx, level, "request", "traceId", traceID, "method", r.Method, "path", r.URL.Path,
			"route", route, "status", rec.status, "duration", elapsed)
	}()
	s.mux.ServeHTTP(rec, r)
}

// handler is a route that has an authenticated caller and returns errors
// instead of writing them.
type handler func(w http.ResponseWriter, r *http.Request, p access.Principal) error

// tier is a Qlik rate-limit tier.
type tier int

const (
	tier1 tier = 1 // reads
	tier2 tier = 2 // writes
)

// route registers an authenticated, rate-limited route.
func (s *Server) route(pattern string, t tier, h handler) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		markMatched(r)
		p, err := s.authenticate(r)
		if err == nil {
			// Recording the user is bookkeeping: it never fails a request.
			if err := s.identity.Seen(r.Context(), p); err != nil {
				s.logger.WarnContext(r.Context(), "record user", "traceId", traceIDFrom(r.Context()), "err", err)
			}
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if wait, ok := s.limiter.allow(p, t); !ok {
			secs := int((wait + time.Second - 1) / time.Second)
			w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
			s.writeError(w, r, apperr.E(apperr.RateLimited, apperr.CodeRateLimited, "Too many requests",
				"rate limit of tier %d exceeded; retry after %d s", t, max(secs, 1)))
			return
		}
		if err := h(w, r, p); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// public registers a route that needs no token.
func (s *Server) public(pattern string, h http.HandlerFunc) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		markMatched(r)
		h(w, r)
	})
}

func markMatched(r *http.Request) {
	if st, ok := r.Context().Value(routeKey).(*routeState); ok {
		st.matched, st.pattern = true, r.Pattern
	}
}

// authenticate reads the bearer token.
func (s *Server) authenticate(r *http.Request) (access.Principal, error) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return access.Principal{}, apperr.E(apperr.Unauthenticated, apperr.CodeUnauthorized, "Unauthorized",
			"an Authorization: Bearer <token> header is required")
	}
	tok = strings.TrimSpace(tok)
	if apikey.IsSecret(tok) {
		return s.identity.Authenticate(r.Context(), tok)
	}
	p, err := s.verifier.Verify(tok)
	if err != nil {
		return access.Principal{}, apperr.E(apperr.Unauthenticated, apperr.CodeUnauthorized, "Unauthorized", "invalid token: %v", err)
	}
	return p, nil
}

// validRequestText checks the request's path and query parameters.
func validRequestText(r *http.Request) bool {
	if !validText(r.URL.Path) {
		return false
	}
	for k, vs := range r.URL.Query() {
		if !validText(k) {
			return false
		}
		for _, v := range vs {
			if !validText(v) {
				return false
			}
		}
	}
	return true
}
