package engine

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"automate/internal/workspace"
)

func callWorkspace(t *testing.T, url string, onError string) *workspace.Workspace {
	t.Helper()
	ws, err := workspace.Parse([]byte(`{"blocks":[
		{"id":"S","type":"StartBlock","name":"Start","inputs":[],"childId":"C"},
		{"id":"C","type":"CallUrlBlock","name":"call","inputs":[{"id":"url","value":"` + url + `"},{"id":"method","value":"POST"},
		 {"id":"body","value":"12345"}],"settings":[{"id":"blendr_on_error","value":"` + onError + `"}]}],"variables":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	return ws
}

func TestCallURLMetrics(t *testing.T) {
	t.Parallel()
	res, err := New(callWorkspace(t, outside.URL+"/text", "stop"), Options{}).Run(context.Background())
	if err != nil || res.Status != StatusFinished {
		t.Fatalf("%+v %v", res, err)
	}
	m := res.Metrics
	if m.TotalAPICalls != 1 || m.Network.TxBytes != 5 || m.Network.RxBytes != int64(len("plain text {not json}")) || len(m.Blocks) != 0 {
		t.Errorf("metrics %+v", m)
	}
}

// TestDialPolicy refuses an address at dial time.
func TestDialPolicy(t *testing.T) {
	t.Parallel()
	refused := errors.New("address not allowed")
	client := NewHTTPClient(func(network, address string) error {
		if strings.HasPrefix(address, "127.") {
			return refused
		}
		return nil
	})
	res, err := New(callWorkspace(t, outside.URL+"/text", "stop"), Options{HTTPClient: client}).Run(context.Background())
	if err != nil || res.Status != StatusFailed || !strings.Contains(res.Errors[0].Message, "address not allowed") {
		t.Fatalf("%+v %v", res, err)
	}
}

// TestStopDuringCall cancels a run while a call hangs: it ends stopped at once.
func TestStopDuringCall(t *testing.T) {
	t.Parallel()
	arrived := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body) // the server notices a closed client only once the body is read
		close(arrived)
		<-r.Context().Done()
	}))
	defer hang.Close()
	ws := callWorkspace(t, hang.URL, "stop")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan Result, 1)
	go func() {
		res, _ := New(ws, Options{}).Run(ctx)
		done <- res
	}()
	<-arrived
	start := time.Now()
	cancel()
	select {
	case res := <-done:
		if res.Status != StatusStopped {
			t.Errorf("status %q, want stopped", res.Status)
		}
		t.Logf("stopped %v after cancel", time.Since(start))
	case <-time.After(5 * time.Second):
		t.Fatal("the run did not stop during the call")
	}
}

func TestCallURLBadInput(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"ftp://x/y", "not a url", "http://"} {
		res, _ := New(callWorkspace(t, u, "stop"), Options{}).Run(context.Background())
		if res.Status != StatusFailed || !strings.Contains(res.Errors[0].Message, "is not an http(s) URL") {
			t.Errorf("%s: %+v", u, res)
		}
	}
}
