package token

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"automate/internal/access"
	"automate/internal/clock"
)

func TestHS256(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC))
	v, err := NewVerifier([]byte("s"), nil, clk)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := MintHS256([]byte("s"), access.Principal{UserID: "u", Name: "U", Roles: []string{"TenantAdmin"}, Scopes: []string{"a", "b"}}, clk.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	p, err := v.Verify(raw)
	if err != nil {
		t.Fatal(err)
	}
	if p.UserID != "u" || p.Name != "U" || p.TenantID != DefaultTenant || !p.HasRole("TenantAdmin") || !p.HasScope("b") {
		t.Errorf("principal = %+v", p)
	}
	clk.Advance(time.Hour + time.Minute)
	if _, err := v.Verify(raw); err == nil {
		t.Error("expired token verified")
	}
}

func TestRS256(t *testing.T) {
	t.Parallel()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	pub := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	clk := clock.NewFake(time.Now())
	v, err := NewVerifier(nil, pub, clk)
	if err != nil {
		t.Fatal(err)
	}
	claims := jwt.MapClaims{"sub": "u", "tenantId": "t1", "roles": []string{"AutomationCreator"}, "exp": clk.Now().Add(time.Hour).Unix()}
	raw, err := jwt.NewWithClaims(jwt.SigningMethodRS256, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	p, err := v.Verify(raw)
	if err != nil || p.TenantID != "t1" || !p.HasRole("AutomationCreator") {
		t.Fatalf("RS256: %+v %v", p, err)
	}
	// An HS256 token made with the public key as secret (the classic
	// algorithm confusion) must not verify.
	forged, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(pub)
	if _, err := v.Verify(forged); err == nil {
		t.Error("HS256 token signed with the public key verified")
	}
	if _, err := NewVerifier(nil, []byte("not pem"), clk); err == nil {
		t.Error("bad PEM accepted")
	}
	if _, err := NewVerifier(nil, nil, clk); err == nil {
		t.Error("verifier without keys accepted")
	}
}
