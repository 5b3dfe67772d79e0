package service

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"automate/internal/access"
	"automate/internal/apikey"
	"automate/internal/apperr"
	"automate/internal/clock"
	"automate/internal/store"
)

// Identity is the users and API keys use cases: who a caller is.
type Identity struct {
	store  store.Store
	clock  clock.Clock
	logger *slog.Logger

	mu   sync.Mutex
	seen map[string]seenUser // by tenant and user id
}

// seenUser is what was last recorded of a user, so that a user's requests
// write its record about once a minute, not on every request.
type seenUser struct {
	name    string
	roles   []string
	written time.Time
}

// seenEvery is how often a returning user's last-seen time is written.
const seenEvery = time.Minute

// maxSeen bounds the memory of recorded users.
const maxSeen = 100_000

// NewIdentity returns the identity use cases over st.
func NewIdentity(st store.Store, clk clock.Clock, logger *slog.Logger) *Identity {
	return &Identity{store: st, clock: clk, logger: logger, seen: map[string]seenUser{}}
}

// Seen records a user that authenticated with a token: on first sight,
// when its name or roles changed, and otherwise once a minute.
func (s *Identity) Seen(ctx context.Context, p access.Principal) error {
	if p.APIKeyID != "" {
		return nil // a key carries a snapshot of its user, not news of it
	}
	now := s.clock.Now().UTC()
	key := p.TenantID + "\x00" + p.UserID
	s.mu.Lock()
	last, ok := s.seen[key]
	s.mu.Unlock()
	if ok && last.name == p.Name && slices.Equal(last.roles, p.Roles) && now.Sub(last.written) < seenEvery {
		return nil
	}
	u := &store.User{TenantID: p.TenantID, ID: p.UserID, Name: p.Name, Roles: p.Roles, LastSeenAt: now.Truncate(time.Microsecond)}
	if err := s.store.InTx(ctx, func(tx store.Tx) error { return tx.SeeUser(ctx, u) }); err != nil {
		return err
	}
	s.mu.Lock()
	if len(s.seen) >= maxSeen {
		clear(s.seen)
	}
	s.seen[key] = seenUser{name: p.Name, roles: slices.Clone(p.Roles), written: now}
	s.mu.Unlock()
	return nil
}

// Me returns the caller as recorded.
func (s *Identity) Me(ctx context.Context, p access.Principal) (*store.User, error) {
	if err := tenantAction(p, access.ReadMe); err != nil {
		return nil, err
	}
	u, err := s.store.GetUser(ctx, p.TenantID, p.UserID)
	if apperr.IsKind(err, apperr.NotFound) {
		now := s.clock.Now().UTC()
		return &store.User{TenantID: p.TenantID, ID: p.UserID, Name: p.Name, Roles: p.Roles, CreatedAt: now, LastSeenAt: now}, nil
	}
	return u, err
}

// Authenticate finds the principal an API key secret stands for: its user,
// with the roles the key was made with that the user still holds. A
// revoked or expired key, or an unknown secret, is refused.
func (s *Identity) Authenticate(ctx context.Context, secret string) (access.Principal, error) {
	unauthorized := apperr.E(apperr.Unauthenticated, apperr.CodeUnauthorized, "Unauthorized", "invalid API key")
	k, err := s.store.APIKeyByHash(ctx, apikey.Hash(secret))
	if apperr.IsKind(err, apperr.NotFound) {
		return access.Principal{}, unauthorized
	}
	if err != nil {
		return access.Principal{}, err
	}
	switch k.Status(s.clock.Now()) {
	case apikey.StatusRevoked:
		return access.Principal{}, apperr.E(apperr.Unauthenticated, apperr.CodeUnauthorized, "Unauthorized", "the API key was revoked")
	case apikey.StatusExpired:
		return access.Principal{}, apperr.E(apperr.Unauthenticated, apperr.CodeUnauthorized, "Unauthorized", "the API key expired")
	}
	p := access.Principal{TenantID: k.TenantID, UserID: k.UserID, APIKeyID: k.ID}
	u, err := s.store.GetUser(ctx, k.TenantID, k.UserID)
	switch {
	case err == nil:
		p.Name, p.Roles = u.Name, k.EffectiveRoles(u.Roles)
	case !apperr.IsKind(err, apperr.NotFound):
		return access.Principal{}, err
	}
	return p, nil
}

// APIKeyInput is a key as a client asks for it.
type APIKeyInput struct {
	Description string `json:"description"`
	Expiry      string `json:"expiry"`
	Sub         string `json:"sub"`
	SubType     string `json:"subType"`
}

// CreateAPIKey makes a key for the caller, with the caller's roles, and
// returns it with its secret (shown this once).
func (s *Identity) CreateAPIKey(ctx context.Context, p access.Principal, in APIKeyInput) (*apikey.Key, string, error) {
	if err := tenantAction(p, access.CreateAPIKey); err != nil {
		if p.APIKeyID != "" {
			return nil, "", apperr.Forbiddenf("an API key cannot create API keys; sign in with a token")
		}
		return nil, "", err
	}
	if in.Sub != "" && in.Sub != p.UserID {
		return nil, "", apperr.Forbiddenf("an API key is made for its caller: sub must be %q or absent", p.UserID)
	}
	if in.SubType != "" && in.SubType != "user" {
		return nil, "", apperr.Validation(`subType %q is not supported; keys are of type "user"`, in.SubType)
	}
	if err := apikey.ValidateDescription(in.Description); err != nil {
		return nil, "", err
	}
	return NewAPIKey(ctx, s.store, s.clock.Now(), p, in.Description, in.Expiry)
}

// NewAPIKey stores a key for p (whose roles it keeps) expiring after
// expiry (ISO 8601; empty: apikey.DefaultExpiry). The CLI's bootstrap uses
// it too.
func NewAPIKey(ctx context.Context, st store.Store, now time.Time, p access.Principal, description, expiry string) (*apikey.Key, string, error) {
	if expiry == "" {
		expiry = apikey.DefaultExpiry
	}
	now = now.UTC().Truncate(time.Microsecond)
	end, err := apikey.Expiry(expiry, now)
	if err != nil {
		return nil, "", err
	}
	secret, hash := apikey.NewSecret()
	k := &apikey.Key{ID: newID(), TenantID: p.TenantID, UserID: p.UserID, Description: description, Roles: p.Roles,
		CreatedBy: p.UserID, CreatedAt: now, UpdatedAt: now, ExpiresAt: end.Truncate(time.Microsecond)}
	if k.Roles == nil {
		k.Roles = []string{}
	}
	err = st.InTx(ctx, func(tx store.Tx) error { return tx.InsertAPIKey(ctx, k, hash) })
	return k, secret, err
}

// APIKeyListParams is a keys list request.
type APIKeyListParams struct {
	Limit         int
	StartingAfter string
	Sub           string
}

// ListAPIKeys returns a page of keys: the caller's, or for TenantAdmin
// every key of the tenant (of Sub, when set).
func (s *Identity) ListAPIKeys(ctx context.Context, p access.Principal, lp APIKeyListParams) ([]*apikey.Key, bool, error) {
	if err := tenantAction(p, access.ListAPIKeys); err != nil {
		return nil, false, err
	}
	if lp.Limit == 0 {
		lp.Limit = 20
	}
	if lp.Limit < 1 || lp.Limit > 100 {
		return nil, false, apperr.InvalidParameter("limit must be between 1 and 100")
	}
	user := p.UserID
	if access.Can(p, access.ListAllAPIKey, access.Target{}) == access.Allow {
		user = lp.Sub
	} else if lp.Sub != "" && lp.Sub != p.UserID {
		return nil, false, apperr.Forbiddenf("listing other users' API keys is for TenantAdmin")
	}
	keys, err := s.store.ListAPIKeys(ctx, p.TenantID, user, lp.StartingAfter, lp.Limit+1)
	if err != nil {
		return nil, false, err
	}
	more := len(keys) > lp.Limit
	if more {
		keys = keys[:lp.Limit]
	}
	return keys, more, nil
}

func (s *Identity) apiKey(ctx context.Context, r store.Reader, p access.Principal, id string, a access.Action) (*apikey.Key, error) {
	k, err := r.GetAPIKey(ctx, p.TenantID, id)
	if err != nil {
		return nil, err
	}
	return k, authorize(p, a, access.Target{Kind: access.APIKeyKind, OwnerID: k.UserID}, "API key \""+id+"\"")
}

// GetAPIKey reads one key.
func (s *Identity) GetAPIKey(ctx context.Context, p access.Principal, id string) (*apikey.Key, error) {
	return s.apiKey(ctx, s.store, p, id, access.ReadAPIKey)
}

// RevokeAPIKey revokes a key; its next use is refused.
func (s *Identity) RevokeAPIKey(ctx context.Context, p access.Principal, id string) error {
	return s.store.InTx(ctx, func(tx store.Tx) error {
		if _, err := s.apiKey(ctx, tx, p, id, access.DeleteAPIKey); err != nil {
			return err
		}
		_, err := tx.RevokeAPIKey(ctx, p.TenantID, id, s.clock.Now().UTC().Truncate(time.Microsecond))
		return err
	})
}
