package postgres

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"

	"automate/internal/store/sqlstore"
)

// Resync is passed to a Listener's handler when it (re)connects: events
// may have been missed, so everything should be looked at again.
const Resync = "resync"

// Listener delivers the events other servers send (sqlstore.Event*) over a
// connection of its own that LISTENs on sqlstore.Channel. It reconnects by
// itself; the servers' polling covers what passes while it is away.
type Listener struct {
	url     string
	logger  *slog.Logger
	handle  func(event string)
	cancel  context.CancelFunc
	done    chan struct{}
	backoff time.Duration
}

// NewListener returns a listener calling handle with each event.
func NewListener(url string, logger *slog.Logger, handle func(event string)) *Listener {
	return &Listener{url: url, logger: logger, handle: handle}
}

// Start begins listening.
func (l *Listener) Start(ctx context.Context) {
	ctx, l.cancel = context.WithCancel(context.WithoutCancel(ctx))
	l.done = make(chan struct{})
	go func() { defer close(l.done); l.loop(ctx) }()
}

// Stop stops listening and closes the connection.
func (l *Listener) Stop() {
	if l.cancel != nil {
		l.cancel()
		<-l.done
	}
}

func (l *Listener) loop(ctx context.Context) {
	wait := 500 * time.Millisecond
	for ctx.Err() == nil {
		err := l.listen(ctx)
		if ctx.Err() != nil {
			return
		}
		l.logger.Warn("database notifications lost; reconnecting", "err", err, "in", wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, 30*time.Second)
	}
}

// listen holds one connection until it fails.
func (l *Listener) listen(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, l.url)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+sqlstore.Channel); err != nil {
		return err
	}
	l.handle(Resync)
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		l.handle(n.Payload)
	}
}
