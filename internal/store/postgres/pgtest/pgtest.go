// Package pgtest gives tests a PostgreSQL store of their own: a fresh
// schema in the database named by AUTOMATE_TEST_POSTGRES, dropped when the
// test ends. Without that variable the tests that need it are skipped.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"automate/internal/store/postgres"
)

// EnvVar names the PostgreSQL URL the tests use; .ci/run sets it.
const EnvVar = "AUTOMATE_TEST_POSTGRES"

// URL returns the test database's URL, or skips the test with a message
// saying how to run it.
func URL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv(EnvVar)
	if u == "" {
		tb.Skipf("PostgreSQL tests skipped: set %s (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable; .ci/run does)", EnvVar)
	}
	return u
}

// Schema makes a fresh schema and returns a URL whose connections use it;
// it is dropped when the test ends.
func Schema(tb testing.TB) string {
	tb.Helper()
	base := URL(tb)
	var b [6]byte
	rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	admin, err := sql.Open("pgx", base)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		admin.Close()
		tb.Fatalf("create schema: %v", err)
	}
	tb.Cleanup(func() {
		admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Open returns a migrated store in a fresh schema, closed when the test
// ends.
func Open(tb testing.TB) *postgres.DB {
	tb.Helper()
	db, err := postgres.OpenMigrated(context.Background(), Schema(tb), 8)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}
