// Package token verifies and mints the JWT bearer tokens automate accepts,
// with github.com/golang-jwt/jwt/v5, and turns their claims into a Principal.
package token

import (
	"crypto/rsa"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"automate/internal/access"
	"automate/internal/clock"
)

// DefaultTenant is the tenant of a token without a tenantId claim.
const DefaultTenant = "default"

// Claims are the claims automate reads.
type Claims struct {
	Name  string   `json:"name,omitempty"`
	Roles []string `json:"roles,omitempty"`
	// Scope is nil when the token has no scope claim (nothing narrows
	// it); a present claim, even empty, limits the token to its scopes.
	Scope    *string `json:"scope,omitempty"`
	TenantID string  `json:"tenantId,omitempty"`
	jwt.RegisteredClaims
}

// Verifier checks tokens signed with an HS256 secret, an RS256 key, or both.
// It remembers tokens it has verified until they expire, since a client
// sends the same token on every request and parsing it is a tenth of a
// point read's cost.
type Verifier struct {
	secret []byte
	rsaKey *rsa.PublicKey
	parser *jwt.Parser
	clock  clock.Clock

	mu       sync.Mutex
	verified map[string]verified
}

type verified struct {
	p       access.Principal
	expires time.Time
}

// maxVerified bounds the cache of verified tokens.
const maxVerified = 10_000

// NewVerifier returns a Verifier for the given keys; at least one must be set.
// rsaPublicPEM is a PEM-encoded RSA public key.
func NewVerifier(secret []byte, rsaPublicPEM []byte, clk clock.Clock) (*Verifier, error) {
	v := &Verifier{secret: secret, clock: clk, verified: make(map[string]verified)}
	var methods []string
	if len(secret) > 0 {
		methods = append(methods, jwt.SigningMethodHS256.Alg())
	}
	if len(rsaPublicPEM) > 0 {
		k, err := jwt.ParseRSAPublicKeyFromPEM(rsaPublicPEM)
		if err != nil {
			return nil, fmt.Errorf("jwt public key: %w", err)
		}
		v.rsaKey = k
		methods = append(methods, jwt.SigningMethodRS256.Alg())
	}
	if len(methods) == 0 {
		return nil, errors.New("no JWT key configured: set --jwt-secret or --jwt-public-key")
	}
	v.parser = jwt.NewParser(
		jwt.WithValidMethods(methods), // never "none", never a method we hold no key for
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(30*time.Second),
		jwt.WithTimeFunc(clk.Now),
	)
	return v, nil
}

// Verify checks a token and returns who it names.
func (v *Verifier) Verify(raw string) (access.Principal, error) {
	now := v.clock.Now()
	v.mu.Lock()
	hit, ok := v.verified[raw]
	v.mu.Unlock()
	if ok && now.Before(hit.expires) {
		return hit.p, nil
	}
	p, exp, err := v.verify(raw)
	if err != nil {
		return p, err
	}
	v.mu.Lock()
	if len(v.verified) >= maxVerified {
		clear(v.verified) // simple and bounded; the next requests refill it
	}
	// The leeway is granted on first sight only; a cached token ends at exp.
	v.verified[raw] = verified{p: p, expires: exp}
	v.mu.Unlock()
	return p, nil
}

func (v *Verifier) verify(raw string) (access.Principal, time.Time, error) {
	var c Claims
	_, err := v.parser.ParseWithClaims(raw, &c, func(t *jwt.Token) (any, error) {
		switch t.Method.Alg() {
		case jwt.SigningMethodHS256.Alg():
			return v.secret, nil
		case jwt.SigningMethodRS256.Alg():
			return v.rsaKey, nil
		}
		return nil, fmt.Errorf("unexpected signing method %s", t.Method.Alg())
	})
	if err != nil {
		return access.Principal{}, time.Time{}, err
	}
	if c.Subject == "" {
		return access.Principal{}, time.Time{}, errors.New("token has no sub claim")
	}
	p := access.Principal{TenantID: c.TenantID, UserID: c.Subject, Name: c.Name, Roles: c.Roles}
	if c.Scope != nil {
		p.Scoped, p.Scopes = true, strings.Fields(*c.Scope)
	}
	if p.TenantID == "" {
		p.TenantID = DefaultTenant
	}
	return p, c.ExpiresAt.Time, nil
}

// MintHS256 signs a token for p with secret, valid for ttl from now.
func MintHS256(secret []byte, p access.Principal, now time.Time, ttl time.Duration) (string, error) {
	c := Claims{
		Name: p.Name, Roles: p.Roles, TenantID: p.TenantID,
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   p.UserID,
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
		},
	}
	if p.Scoped || len(p.Scopes) > 0 {
		scope := strings.Join(p.Scopes, " ")
		c.Scope = &scope
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(secret)
}
