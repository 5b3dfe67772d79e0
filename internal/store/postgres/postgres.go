// Package postgres is the store for several servers on one database:
// PostgreSQL through jackc/pgx (its database/sql driver, so that the SQL in
// sqlstore serves both databases), with row locks where SQLite relies on
// its one writer.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // the database/sql driver "pgx"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"automate/internal/apperr"
	"automate/internal/automation"
	"automate/internal/store"
	"automate/internal/store/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DefaultMaxConns is the default size of the connection pool.
const DefaultMaxConns = 20

// DB is the PostgreSQL store. It implements store.Store.
type DB struct {
	pool *sql.DB
	sqlstore.Queries
}

var _ store.Store = (*DB)(nil)

// Open connects to the database at url (postgres://...) with a pool of at
// most maxConns connections (0: DefaultMaxConns). It does not migrate.
func Open(ctx context.Context, url string, maxConns int) (*DB, error) {
	if maxConns <= 0 {
		maxConns = DefaultMaxConns
	}
	pool, err := sql.Open("pgx", url)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	pool.SetMaxOpenConns(maxConns)
	pool.SetMaxIdleConns(maxConns)
	pool.SetConnMaxIdleTime(5 * time.Minute)
	db := &DB{pool: pool, Queries: sqlstore.Queries{DB: pool, Dialect: sqlstore.Postgres}}
	if err := pool.PingContext(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to postgres: %w", err)
	}
	return db, nil
}

// OpenMigrated opens the database and applies its migrations.
func OpenMigrated(ctx context.Context, url string, maxConns int) (*DB, error) {
	db, err := Open(ctx, url, maxConns)
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// Migrate applies every embedded migration not yet applied, under a
// session advisory lock, so that several servers starting at once apply
// each migration once.
func (db *DB) Migrate(ctx context.Context) error {
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return fmt.Errorf("migration lock: %w", err)
	}
	return sqlstore.Migrate(ctx, db.pool, goose.DialectPostgres, migrations, goose.WithSessionLocker(locker))
}

// Ping reports whether the database answers.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	return db.pool.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// Close closes the pool.
func (db *DB) Close() error { return db.pool.Close() }

// maxAttempts bounds the retries of a transaction that lost a deadlock or
// a serialization conflict.
const maxAttempts = 5

// InTx runs fn in a READ COMMITTED transaction; what must not change under
// it is locked explicitly (LockAutomation, LockSettings, DueSchedules). A
// transaction chosen as a deadlock victim is run again.
func (db *DB) InTx(ctx context.Context, fn func(store.Tx) error) error {
	var err error
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		err = db.inTx(ctx, fn)
		if !retryable(err) {
			return err
		}
	}
	return err
}

func (db *DB) inTx(ctx context.Context, fn func(store.Tx) error) error {
	tx, err := db.pool.BeginTx(ctx, nil)
	if err != nil {
		return apperr.Internalf(err, "begin transaction")
	}
	return sqlstore.RunTx(tx, func() error { return fn(&pgTx{Queries: sqlstore.Queries{DB: tx, Dialect: sqlstore.Postgres}}) })
}

// retryable reports a deadlock or serialization failure.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001")
}

type pgTx struct {
	sqlstore.Queries
}

// LockSettings takes the tenant's settings lock (a transaction-scoped
// advisory lock: the settings row may not exist) and reads them.
func (t *pgTx) LockSettings(ctx context.Context, tenantID string) (automation.Settings, error) {
	if _, err := t.DB.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtextextended('automate.settings:' || $1, 0))", tenantID); err != nil {
		return automation.Settings{}, apperr.Internalf(err, "lock settings")
	}
	return t.GetSettings(ctx, tenantID)
}
