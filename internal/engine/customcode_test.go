package engine

import (
	"context"
	"strings"
	"testing"
	"time"

	"automate/internal/workspace"
)

func codeWorkspace(t *testing.T, code string) *workspace.Workspace {
	t.Helper()
	ws, err := workspace.Parse([]byte(`{"blocks":[
		{"id":"S","type":"StartBlock","name":"Start","inputs":[],"childId":"C"},
		{"id":"C","type":"CustomCodeBlock3","name":"code","inputs":[{"id":"language","value":"nodejs"},{"id":"inputs","value":[]},
		 {"id":"code","value":` + strings.ReplaceAll(`"`+code+`"`, "\n", `\n`) + `}]}],"variables":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	return ws
}

func TestCustomCodeLimits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, code string
		opt        Options
		want       string
	}{
		{"endless loop", "while (true) {}", Options{CodeTimeout: 100 * time.Millisecond}, "custom code ran longer than 100ms"},
		{"slow loop", "let x = 0; for (let i = 0; i < 1e12; i++) { x += i }", Options{CodeTimeout: 50 * time.Millisecond}, "ran longer than"},
		{"memory", "const a = []; while (true) { a.push('x'.repeat(1000) + a.length) }", Options{CodeMemory: 32 << 20, CodeTimeout: time.Minute}, "used more than 32 MiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := New(codeWorkspace(t, tt.code), tt.opt).Run(context.Background())
			if err != nil || res.Status != StatusFailed || len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Message, tt.want) {
				t.Fatalf("%+v %v", res, err)
			}
		})
	}
}

// TestStopDuringCustomCode cancels a run while its script spins.
func TestStopDuringCustomCode(t *testing.T) {
	t.Parallel()
	ws := codeWorkspace(t, "while (true) {}")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan Result, 1)
	rec := &startSignal{started: make(chan struct{})}
	go func() {
		res, _ := New(ws, Options{Journal: rec}).Run(ctx)
		done <- res
	}()
	<-rec.started // the StartBlock is done; the script runs next
	cancel()
	select {
	case res := <-done:
		if res.Status != StatusStopped {
			t.Errorf("status %q, want stopped", res.Status)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the run did not stop during custom code")
	}
}

// startSignal is a journal that signals after the first block.
type startSignal struct {
	started chan struct{}
	n       int
}

func (s *startSignal) Record(context.Context, Entry) error {
	if s.n++; s.n == 1 {
		close(s.started)
	}
	return nil
}
