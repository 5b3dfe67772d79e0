package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"automate/internal/access"
	"automate/internal/service"
	"automate/internal/store"
)

// runAPIKey handles `automate apikey create`: it makes an API key straight
// in the database, for bootstrapping a first admin without a JWT issuer.
// The user is recorded with the roles given, and the key carries them.
func runAPIKey(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return errors.New("usage: automate apikey create --user U [--tenant T] [--roles R1,R2] [--description D] [--expiry P365D]")
	}
	var (
		c                                       config
		tenant, user, name, roles, desc, expiry string
	)
	fs := newFlagSet("apikey create", stderr)
	storageFlags(fs, &c)
	fs.StringVar(&tenant, "tenant", "default", "tenant id")
	fs.StringVar(&user, "user", "", "user id the key acts as (required)")
	fs.StringVar(&name, "name", "", "the user's display name")
	fs.StringVar(&roles, "roles", "", "comma-separated roles, e.g. TenantAdmin,AutomationCreator")
	fs.StringVar(&desc, "description", "bootstrap key", "the key's description")
	fs.StringVar(&expiry, "expiry", "", "ISO 8601 duration, e.g. P30D (default P365D)")
	if err := parseFlags(fs, args[1:], getenv); err != nil {
		return err
	}
	if strings.TrimSpace(user) == "" {
		return errors.New("apikey create: --user is required")
	}
	p := access.Principal{TenantID: tenant, UserID: user, Name: name}
	for _, r := range strings.Split(roles, ",") {
		if r = strings.TrimSpace(r); r != "" {
			p.Roles = append(p.Roles, r)
		}
	}
	db, err := openStore(ctx, c)
	if err != nil {
		return err
	}
	defer db.Close()
	now := time.Now().UTC()
	u := &store.User{TenantID: tenant, ID: user, Name: name, Roles: p.Roles, LastSeenAt: now.Truncate(time.Microsecond)}
	if err := db.InTx(ctx, func(tx store.Tx) error { return tx.SeeUser(ctx, u) }); err != nil {
		return err
	}
	k, secret, err := service.NewAPIKey(ctx, db, now, p, desc, expiry)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "API key %s for %s/%s (roles %s), expires %s; the secret below is shown once:\n",
		k.ID, tenant, user, strings.Join(p.Roles, ","), k.ExpiresAt.Format(time.RFC3339))
	fmt.Fprintln(stdout, secret)
	return nil
}
