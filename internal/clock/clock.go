// Package clock lets components read the time from an injected source, so
// that tests control it instead of sleeping.
package clock

import (
	"sync"
	"time"
)

// Clock tells the current time and waits for it.
type Clock interface {
	Now() time.Time
	// After sends the time on the channel once d has passed.
	After(d time.Duration) <-chan time.Time
	// At sends the time on the channel once it is t. Unlike After with a
	// duration computed from an earlier Now, it cannot overshoot when the
	// time moves in between.
	At(t time.Time) <-chan time.Time
}

// Real is the wall clock.
type Real struct{}

// Now returns time.Now().
func (Real) Now() time.Time { return time.Now() }

// After is time.After.
func (Real) After(d time.Duration) <-chan time.Time { return time.After(d) }

// At is time.After until t.
func (Real) At(t time.Time) <-chan time.Time { return time.After(time.Until(t)) }

// Fake is a clock that moves only when told to. It is safe for concurrent use.
type Fake struct {
	mu      sync.Mutex
	now     time.Time
	waiters []waiter
}

type waiter struct {
	at time.Time
	c  chan time.Time
}

// After returns a channel that receives the fake time once the clock has
// been moved d past now.
func (f *Fake) After(d time.Duration) <-chan time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := make(chan time.Time, 1)
	if d <= 0 {
		c <- f.now
		return c
	}
	f.waiters = append(f.waiters, waiter{at: f.now.Add(d), c: c})
	return c
}

// At returns a channel that receives the fake time once the clock has
// been moved to t or past it.
func (f *Fake) At(t time.Time) <-chan time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := make(chan time.Time, 1)
	if !t.After(f.now) {
		c <- f.now
		return c
	}
	f.waiters = append(f.waiters, waiter{at: t, c: c})
	return c
}

// fire wakes the waiters whose time has come; f.mu is held.
func (f *Fake) fire() {
	kept := f.waiters[:0]
	for _, w := range f.waiters {
		if !w.at.After(f.now) {
			w.c <- f.now
			continue
		}
		kept = append(kept, w)
	}
	f.waiters = kept
}

// NewFake returns a Fake clock set to t.
func NewFake(t time.Time) *Fake { return &Fake{now: t} }

// Now returns the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// Advance moves the fake time forward by d.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.fire()
	f.mu.Unlock()
}

// Set moves the fake time to t.
func (f *Fake) Set(t time.Time) {
	f.mu.Lock()
	f.now = t
	f.fire()
	f.mu.Unlock()
}
