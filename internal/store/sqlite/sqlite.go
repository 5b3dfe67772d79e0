// Package sqlite is the embedded store: SQLite through modernc.org/sqlite,
// in WAL mode, with one writer connection and a pool of readers.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // the database/sql driver "sqlite"

	"automate/internal/apperr"
	"automate/internal/automation"
	"automate/internal/store"
	"automate/internal/store/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// FileName is the database file inside the data directory.
const FileName = "automate.db"

// pragmas are set on every connection. NORMAL synchronous in WAL mode loses
// no commit when the process dies, only (at worst) the last ones on power loss.
const pragmas = "_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)"

// DB is the SQLite store. It implements store.Store.
type DB struct {
	writer      *sql.DB // one connection: SQLite has one writer, and this avoids SQLITE_BUSY
	reader      *sql.DB
	writerStmts *sqlstore.StmtCache
	readerStmts *sqlstore.StmtCache
	sqlstore.Queries
}

var _ store.Store = (*DB)(nil)

// Open opens (creating if needed) the database in dataDir. It does not
// migrate; call Migrate.
func Open(ctx context.Context, dataDir string) (*DB, error) {
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	path := filepath.Join(dataDir, FileName)
	writer, err := sql.Open("sqlite", "file:"+path+"?"+pragmas+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	writer.SetMaxOpenConns(1)
	writer.SetConnMaxIdleTime(0)
	reader, err := sql.Open("sqlite", "file:"+path+"?"+pragmas)
	if err != nil {
		writer.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	n := max(4, 2*runtime.GOMAXPROCS(0))
	reader.SetMaxOpenConns(n)
	reader.SetMaxIdleConns(n)
	db := &DB{writer: writer, reader: reader, writerStmts: sqlstore.NewStmtCache(writer), readerStmts: sqlstore.NewStmtCache(reader)}
	db.Queries = sqlstore.Queries{DB: db.readerStmts}
	// The writer makes the file and switches it to WAL before readers come.
	if err := writer.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return db, nil
}

// OpenMigrated opens the database in dataDir and applies its migrations:
// what the server does on start.
func OpenMigrated(ctx context.Context, dataDir string) (*DB, error) {
	db, err := Open(ctx, dataDir)
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// Migrate applies every embedded migration not yet applied.
func (db *DB) Migrate(ctx context.Context) error {
	return sqlstore.Migrate(ctx, db.writer, goose.DialectSQLite3, migrations)
}

// Ping reports whether both pools answer.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.writer.PingContext(ctx); err != nil {
		return err
	}
	var one int
	return db.reader.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// Close closes both pools.
func (db *DB) Close() error {
	return errors.Join(db.readerStmts.Close(), db.writerStmts.Close(), db.reader.Close(), db.writer.Close())
}

// InTx runs fn in an immediate transaction on the writer connection.
func (db *DB) InTx(ctx context.Context, fn func(store.Tx) error) error {
	tx, err := db.writer.BeginTx(ctx, nil)
	if err != nil {
		return apperr.Internalf(err, "begin transaction")
	}
	stmts := db.writerStmts.Tx(tx)
	if err := sqlstore.RunTx(tx, func() error { return fn(&sqliteTx{Queries: sqlstore.Queries{DB: stmts}}) }); err != nil {
		return err
	}
	db.writerStmts.Warm(ctx, stmts.Missed)
	return nil
}

type sqliteTx struct {
	sqlstore.Queries
}

// LockSettings reads the settings. The one writer connection already
// serialises every transaction, so there is nothing more to lock.
func (t *sqliteTx) LockSettings(ctx context.Context, tenantID string) (automation.Settings, error) {
	return t.GetSettings(ctx, tenantID)
}
