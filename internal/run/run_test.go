package run

import (
	"testing"
	"time"
)

func TestStatuses(t *testing.T) {
	t.Parallel()
	live := []string{StatusNotStarted, StatusStarting, StatusQueued, StatusRunning, StatusMustStop}
	final := []string{StatusFinished, StatusFinishedWithWarnings, StatusFailed, StatusStopped, StatusExceededLimit}
	for _, s := range live {
		if !IsLive(s) || IsFinal(s) {
			t.Errorf("%s: live %v final %v", s, IsLive(s), IsFinal(s))
		}
	}
	for _, s := range final {
		if IsLive(s) || !IsFinal(s) {
			t.Errorf("%s: live %v final %v", s, IsLive(s), IsFinal(s))
		}
	}
	if IsLive("paused") || IsFinal("paused") {
		t.Error("paused is an automation's lastRunStatus only")
	}
}

func TestDuration(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1000, 0)
	r := &Run{StartTime: t0}
	if r.Duration() != 0 {
		t.Error("a running run has a duration")
	}
	r.StopTime = t0.Add(2500 * time.Millisecond)
	if r.Duration() != 2 {
		t.Errorf("duration %d", r.Duration())
	}
}
