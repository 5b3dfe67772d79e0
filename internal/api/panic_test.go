package api

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"automate/internal/clock"
)

// TestPanicBecomesEnvelope checks that a panicking handler answers 500 in
// the envelope, is logged with its trace id, and the server keeps serving.
func TestPanicBecomesEnvelope(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	s := New(Config{}, Deps{Clock: clock.NewFake(time.Unix(0, 0)), Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	s.public("GET /test/panic", func(w http.ResponseWriter, r *http.Request) { panic("boom") })
	ts := httptest.NewServer(s)
	defer ts.Close()

	for range 2 { // the second request proves the process kept serving
		res, err := http.Get(ts.URL + "/test/panic")
		if err != nil {
			t.Fatal(err)
		}
		var env errorBody
		if err := json.NewDecoder(res.Body).Decode(&env); err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 500 || len(env.Errors) != 1 || env.Errors[0].Code != "HTTP-500" || env.TraceID != res.Header.Get(TraceHeader) {
			t.Fatalf("status %d, envelope %+v", res.StatusCode, env)
		}
		if strings.Contains(env.Errors[0].Detail, "boom") {
			t.Error("the panic value leaked to the client")
		}
		if !strings.Contains(logs.String(), `"panic":"boom"`) || !strings.Contains(logs.String(), env.TraceID) {
			t.Errorf("panic not logged with its trace id: %s", logs.String())
		}
	}
	res, err := http.Get(ts.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("healthz after panics: %d", res.StatusCode)
	}
}
