package postgres_test

import (
	"context"
	"testing"

	"automate/internal/store"
	"automate/internal/store/postgres/pgtest"
	"automate/internal/store/storetest"
)

func TestStore(t *testing.T) {
	pgtest.URL(t)
	storetest.Run(t, func(t *testing.T) store.Store { return pgtest.Open(t) })
}

func TestMigrateTwice(t *testing.T) {
	t.Parallel()
	db := pgtest.Open(t)
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatalf("second migrate: %v", err)
	}
}

// FuzzListFilter: every filter, sort and cursor becomes SQL that
// PostgreSQL runs or refuses as Invalid (storetest.FuzzListFilter).
func FuzzListFilter(f *testing.F) {
	storetest.FuzzListFilter(f, pgtest.Open(f))
}
