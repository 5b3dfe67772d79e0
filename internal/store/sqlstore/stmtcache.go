package sqlstore

import (
	"context"
	"database/sql"
	"sync"
)

// maxCachedStatements bounds the cache: list queries vary with the shape of
// their filter, and a client must not be able to grow it without end.
const maxCachedStatements = 512

// StmtCache is a DBTX over a *sql.DB that prepares each distinct query once
// and reuses it. Parsing SQL is a large share of a point read in SQLite.
type StmtCache struct {
	db    *sql.DB
	mu    sync.RWMutex
	stmts map[string]*sql.Stmt
}

// NewStmtCache returns a cache over db.
func NewStmtCache(db *sql.DB) *StmtCache {
	return &StmtCache{db: db, stmts: make(map[string]*sql.Stmt)}
}

// stmt returns the prepared statement for query, or nil when the cache is
// full or preparing fails (the caller then runs the query unprepared, which
// reports any error the usual way).
func (c *StmtCache) stmt(ctx context.Context, query string) *sql.Stmt {
	c.mu.RLock()
	s := c.stmts[query]
	c.mu.RUnlock()
	if s != nil {
		return s
	}
	if full := func() bool {
		c.mu.RLock()
		defer c.mu.RUnlock()
		return len(c.stmts) >= maxCachedStatements
	}(); full {
		return nil
	}
	// Prepare without holding the lock: preparing may wait for a
	// connection that a transaction holds while it looks statements up.
	s, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev := c.stmts[query]; prev != nil {
		s.Close() // another goroutine prepared it first
		return prev
	}
	c.stmts[query] = s
	return s
}

// ExecContext runs a statement.
func (c *StmtCache) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if s := c.stmt(ctx, query); s != nil {
		return s.ExecContext(ctx, args...)
	}
	return c.db.ExecContext(ctx, query, args...)
}

// QueryContext runs a query.
func (c *StmtCache) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if s := c.stmt(ctx, query); s != nil {
		return s.QueryContext(ctx, args...)
	}
	return c.db.QueryContext(ctx, query, args...)
}

// QueryRowContext runs a query that returns at most one row.
func (c *StmtCache) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if s := c.stmt(ctx, query); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	return c.db.QueryRowContext(ctx, query, args...)
}

// lookup returns the prepared statement for query, without preparing it.
func (c *StmtCache) lookup(query string) *sql.Stmt {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.stmts[query]
}

// Tx returns a DBTX that runs cached statements inside tx. It never
// prepares in the cache: with a one-connection pool the transaction holds
// the only connection, and preparing there would wait for it forever. A
// query it finds uncached is prepared on the transaction itself (so a
// batch that repeats it parses it once) and remembered; call Warm with
// them after the transaction ends.
func (c *StmtCache) Tx(tx *sql.Tx) *TxStmts { return &TxStmts{c: c, tx: tx} }

// Warm prepares queries that are not cached yet.
func (c *StmtCache) Warm(ctx context.Context, queries []string) {
	for _, q := range queries {
		c.stmt(ctx, q)
	}
}

// Close closes every cached statement.
func (c *StmtCache) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, s := range c.stmts {
		s.Close()
		delete(c.stmts, q)
	}
	return nil
}

// TxStmts is a DBTX inside one transaction.
type TxStmts struct {
	c      *StmtCache
	tx     *sql.Tx
	local  map[string]*sql.Stmt // prepared on tx, for queries the cache lacks
	Missed []string             // queries the cache lacks, to Warm later
}

// stmt returns a statement for query usable in the transaction, or nil
// when preparing fails (the caller then runs the query unprepared, which
// reports any error the usual way).
func (t *TxStmts) stmt(ctx context.Context, query string) *sql.Stmt {
	if s := t.c.lookup(query); s != nil {
		return t.tx.StmtContext(ctx, s)
	}
	if s := t.local[query]; s != nil {
		return s
	}
	if len(t.Missed) >= 16 {
		return nil // an odd transaction; do not grow without end
	}
	t.Missed = append(t.Missed, query)
	s, err := t.tx.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	if t.local == nil {
		t.local = map[string]*sql.Stmt{}
	}
	t.local[query] = s
	return s
}

func (t *TxStmts) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if s := t.stmt(ctx, query); s != nil {
		return s.ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, query, args...)
}

func (t *TxStmts) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if s := t.stmt(ctx, query); s != nil {
		return s.QueryContext(ctx, args...)
	}
	return t.tx.QueryContext(ctx, query, args...)
}

func (t *TxStmts) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if s := t.stmt(ctx, query); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, query, args...)
}
