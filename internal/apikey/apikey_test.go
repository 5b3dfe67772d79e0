package apikey

import (
	"strings"
	"testing"
	"time"
)

func TestExpiry(t *testing.T) {
	t.Parallel()
	from := time.Date(2026, 1, 31, 10, 0, 0, 0, time.UTC)
	good := map[string]time.Time{
		"P7D":              from.AddDate(0, 0, 7),
		"PT12H":            from.Add(12 * time.Hour),
		"P1M":              from.AddDate(0, 1, 0), // calendar months
		"P1Y2M3DT4H5M6.5S": from.AddDate(1, 2, 3).Add(4*time.Hour + 5*time.Minute + 6500*time.Millisecond),
		"P2W":              from.AddDate(0, 0, 14),
		"PT90M":            from.Add(90 * time.Minute),
	}
	for in, want := range good {
		if got, err := Expiry(in, from); err != nil || !got.Equal(want) {
			t.Errorf("Expiry(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "P", "PT", "7D", "P7", "PD", "P1.5D", "P1DT", "PT1H1H", "P11Y", "P0D", "PT-1H", "P1X", "P1D2", "p7d", "P1234567890D"} {
		if got, err := Expiry(in, from); err == nil {
			t.Errorf("Expiry(%q) = %v, want an error", in, got)
		} else if !strings.Contains(err.Error(), "ISO 8601") {
			t.Errorf("Expiry(%q) error %q does not say what is expected", in, err)
		}
	}
}

func TestKeyStatusAndRoles(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	k := &Key{Roles: []string{"TenantAdmin", "AutomationCreator"}, ExpiresAt: now.Add(time.Hour)}
	if s := k.Status(now); s != StatusActive {
		t.Errorf("status %s", s)
	}
	if s := k.Status(now.Add(time.Hour)); s != StatusExpired {
		t.Errorf("status at expiry %s", s)
	}
	k.Revoked = true
	if s := k.Status(now); s != StatusRevoked {
		t.Errorf("revoked status %s", s)
	}
	// A key never has more than its user now has.
	if got := k.EffectiveRoles([]string{"AutomationCreator", "AnalyticsAdmin"}); len(got) != 1 || got[0] != "AutomationCreator" {
		t.Errorf("effective roles %v", got)
	}
	secret, hash := NewSecret()
	if !IsSecret(secret) || Hash(secret) != hash || len(secret) < 40 {
		t.Errorf("secret %q hash %q", secret, hash)
	}
}

func FuzzExpiry(f *testing.F) {
	for _, s := range []string{"P7D", "PT12H", "P1Y2M3DT4H5M6.5S", "P", "PT1.S", "P9999999D"} {
		f.Add(s)
	}
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		end, err := Expiry(s, from)
		if err != nil {
			return
		}
		if !end.After(from) || end.Sub(from) > MaxLifetime {
			t.Fatalf("Expiry(%q) = %v: outside (0, ten years]", s, end)
		}
	})
}
