// Package apikey holds API keys: long-lived bearer credentials a user makes
// for themself. A key's secret is shown once, at creation, and only its
// SHA-256 is stored.
package apikey

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"slices"
	"strings"
	"time"

	"automate/internal/apperr"
)

// Prefix starts every API key secret, so that authentication tells a key
// from a JWT without parsing it.
const Prefix = "ak_"

// Statuses of a key.
const (
	StatusActive  = "active"
	StatusExpired = "expired"
	StatusRevoked = "revoked"
)

// DefaultExpiry applies when a key is created without one (Qlik defaults
// to the tenant's maximum, one year unless configured).
const DefaultExpiry = "P365D"

// MaxLifetime bounds a key's expiry.
const MaxLifetime = 10 * 366 * 24 * time.Hour

// Key is an API key, without its secret.
type Key struct {
	ID          string
	TenantID    string
	UserID      string // the key acts as this user
	Description string
	// Roles are the user's roles when the key was made; the key never has
	// more (and loses those the user loses).
	Roles     []string
	Revoked   bool
	CreatedBy string
	CreatedAt time.Time
	UpdatedAt time.Time
	ExpiresAt time.Time
}

// Status is the key's status at now.
func (k *Key) Status(now time.Time) string {
	switch {
	case k.Revoked:
		return StatusRevoked
	case !now.Before(k.ExpiresAt):
		return StatusExpired
	}
	return StatusActive
}

// EffectiveRoles are the roles a key acts with: those it was made with
// that its user still holds.
func (k *Key) EffectiveRoles(current []string) []string {
	var out []string
	for _, r := range k.Roles {
		if slices.Contains(current, r) {
			out = append(out, r)
		}
	}
	return out
}

// NewSecret returns a new key secret and the hash to store.
func NewSecret() (secret, hash string) {
	var b [32]byte
	rand.Read(b[:])
	secret = Prefix + base64.RawURLEncoding.EncodeToString(b[:])
	return secret, Hash(secret)
}

// Hash is what is stored of a secret.
func Hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// IsSecret reports whether a bearer credential looks like a key secret.
func IsSecret(s string) bool { return strings.HasPrefix(s, Prefix) }

// ValidateDescription checks a key's description.
func ValidateDescription(d string) error {
	switch {
	case strings.TrimSpace(d) == "":
		return apperr.Validation("description is required")
	case len(d) > 256:
		return apperr.Validation("description is longer than 256 characters")
	}
	return nil
}

// Expiry reads an ISO 8601 duration (PnYnMnWnDTnHnMnS, whole numbers; a
// fraction only in the seconds) and returns the instant it ends at, from
// from. Calendar parts are added on the calendar.
func Expiry(duration string, from time.Time) (time.Time, error) {
	bad := func(why string) (time.Time, error) {
		return time.Time{}, apperr.Validation("expiry %q is not an ISO 8601 duration such as P30D or PT12H: %s", duration, why)
	}
	s := duration
	if !strings.HasPrefix(s, "P") || len(s) < 3 {
		return bad("it must start with P and name at least one part")
	}
	s = s[1:]
	var (
		y, mo, d    int
		clock       time.Duration
		inTime      bool
		seen        string
		sawAnything bool
	)
	for s != "" {
		if s[0] == 'T' {
			if inTime {
				return bad("T twice")
			}
			inTime, s = true, s[1:]
			if s == "" {
				return bad("nothing after T")
			}
			continue
		}
		i := 0
		for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
			i++
		}
		if i == 0 || i == len(s) || i > 9 {
			return bad("each part is a number of at most 9 digits and a unit")
		}
		num, unit := s[:i], s[i]
		s = s[i+1:]
		key := string(unit)
		if inTime {
			key = "T" + key
		}
		if strings.Contains(seen, key+",") {
			return bad("a unit given twice")
		}
		seen += key + ","
		whole, frac, hasFrac := strings.Cut(num, ".")
		if whole == "" || strings.Contains(frac, ".") || (hasFrac && (unit != 'S' || !inTime || frac == "")) {
			return bad("only seconds may have a fraction")
		}
		n := 0
		for _, c := range whole {
			n = n*10 + int(c-'0')
		}
		sawAnything = true
		switch {
		case !inTime && unit == 'Y':
			y += n
		case !inTime && unit == 'M':
			mo += n
		case !inTime && unit == 'W':
			d += 7 * n
		case !inTime && unit == 'D':
			d += n
		case inTime && unit == 'H':
			clock += time.Duration(n) * time.Hour
		case inTime && unit == 'M':
			clock += time.Duration(n) * time.Minute
		case inTime && unit == 'S':
			clock += time.Duration(n) * time.Second
			if hasFrac {
				f, _ := time.ParseDuration("0." + frac + "s")
				clock += f
			}
		default:
			return bad("unknown unit " + string(unit))
		}
		if y > 100 || mo > 1200 || d > 36600 || clock > MaxLifetime {
			return bad("longer than ten years")
		}
	}
	if !sawAnything {
		return bad("no parts")
	}
	end := from.AddDate(y, mo, d).Add(clock)
	switch {
	case !end.After(from):
		return bad("it must be longer than zero")
	case end.Sub(from) > MaxLifetime:
		return bad("longer than ten years")
	}
	return end, nil
}
