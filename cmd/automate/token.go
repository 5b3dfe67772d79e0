package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"automate/internal/access"
	"automate/internal/token"
)

// runToken prints an HS256 token signed with the configured secret, for
// development and for the README's curl example.
func runToken(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var (
		c                       config
		sub, name, roles, scope string
		tenant                  string
		ttl                     time.Duration
	)
	fs := newFlagSet("token", stderr)
	jwtFlags(fs, &c)
	fs.StringVar(&sub, "sub", "", "user id (required)")
	fs.StringVar(&name, "name", "", "display name")
	fs.StringVar(&roles, "roles", "", "comma-separated roles, e.g. AutomationCreator,TenantAdmin")
	fs.StringVar(&scope, "scope", "", "space-separated OAuth scopes")
	fs.StringVar(&tenant, "tenant", token.DefaultTenant, "tenant id")
	fs.DurationVar(&ttl, "ttl", 24*time.Hour, "how long the token is valid")
	if err := parseFlags(fs, args, getenv); err != nil {
		return err
	}
	if sub == "" {
		return errors.New("token: --sub is required")
	}
	if c.JWTSecret == "" {
		return errors.New("token: --jwt-secret (or AUTOMATE_JWT_SECRET) is required")
	}
	p := access.Principal{TenantID: tenant, UserID: sub, Name: name, Scopes: strings.Fields(scope)}
	for _, r := range strings.Split(roles, ",") {
		if r = strings.TrimSpace(r); r != "" {
			p.Roles = append(p.Roles, r)
		}
	}
	tok, err := token.MintHS256([]byte(c.JWTSecret), p, time.Now(), ttl)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, tok)
	return nil
}
