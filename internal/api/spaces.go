package api

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"

	"automate/internal/access"
	"automate/internal/apikey"
	"automate/internal/apperr"
	"automate/internal/service"
	"automate/internal/space"
	"automate/internal/store"
)

const spacesBase = "/api/v1/spaces"

type spaceJSON struct {
	ID          string `json:"id"`
	TenantID    string `json:"tenantId"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Type        string `json:"type"`
	OwnerID     string `json:"ownerId"`
	CreatedBy   string `json:"createdBy"`
	CreatedAt   string `json:"createdAt"`
	UpdatedAt   string `json:"updatedAt"`
	Links       struct {
		Self        hrefJSON `json:"self"`
		Assignments hrefJSON `json:"assignments"`
	} `json:"links"`
	Meta struct {
		Actions         []string `json:"actions"`
		Roles           []string `json:"roles"`
		AssignableRoles []string `json:"assignableRoles"`
	} `json:"meta"`
}

func (s *Server) spaceJSON(r *http.Request, v service.SpaceView) spaceJSON {
	j := spaceJSON{ID: v.ID, TenantID: v.TenantID, Name: v.Name, Description: v.Description, Type: v.Type, OwnerID: v.OwnerID,
		CreatedBy: v.CreatedBy, CreatedAt: formatTime(v.CreatedAt), UpdatedAt: formatTime(v.UpdatedAt)}
	self := s.baseURL(r) + spacesBase + "/" + v.ID
	j.Links.Self.Href, j.Links.Assignments.Href = self, self+"/assignments"
	j.Meta.Actions, j.Meta.Roles, j.Meta.AssignableRoles = v.Actions, v.Roles, access.SpaceRoles
	return j
}

type assignmentJSON struct {
	ID         string   `json:"id"`
	TenantID   string   `json:"tenantId"`
	SpaceID    string   `json:"spaceId"`
	Type       string   `json:"type"`
	AssigneeID string   `json:"assigneeId"`
	Roles      []string `json:"roles"`
	CreatedBy  string   `json:"createdBy"`
	UpdatedBy  string   `json:"updatedBy"`
	CreatedAt  string   `json:"createdAt"`
	UpdatedAt  string   `json:"updatedAt"`
	Links      struct {
		Self  hrefJSON `json:"self"`
		Space hrefJSON `json:"space"`
	} `json:"links"`
}

func (s *Server) assignmentJSON(r *http.Request, a *space.Assignment) assignmentJSON {
	j := assignmentJSON{ID: a.ID, TenantID: a.TenantID, SpaceID: a.SpaceID, Type: a.Type, AssigneeID: a.AssigneeID, Roles: a.Roles,
		CreatedBy: a.CreatedBy, UpdatedBy: a.UpdatedBy, CreatedAt: formatTime(a.CreatedAt), UpdatedAt: formatTime(a.UpdatedAt)}
	sp := s.baseURL(r) + spacesBase + "/" + a.SpaceID
	j.Links.Self.Href, j.Links.Space.Href = sp+"/assignments/"+a.ID, sp
	return j
}

// listPage is the shape of the spaces, assignments and API-keys lists.
type listPage[T any] struct {
	Data  []T `json:"data"`
	Links struct {
		Self hrefJSON  `json:"self"`
		Next *hrefJSON `json:"next,omitempty"`
		Prev *hrefJSON `json:"prev,omitempty"`
	} `json:"links"`
	Meta *struct {
		Count int `json:"count"`
	} `json:"meta,omitempty"`
}

// withQuery is the request's own URL with query parameter key set to v
// (and drop removed).
func (s *Server) withQuery(r *http.Request, key, v string, drop ...string) string {
	q := r.URL.Query()
	for _, d := range drop {
		q.Del(d)
	}
	if key != "" {
		q.Set(key, v)
	}
	u := url.URL{Path: r.URL.Path, RawQuery: q.Encode()}
	return s.baseURL(r) + u.String()
}

func queryLimit(r *http.Request) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, apperr.InvalidParameter("limit must be a positive integer")
	}
	return n, nil
}

func (s *Server) listSpaces(w http.ResponseWriter, r *http.Request, p access.Principal) error {
	q := r.URL.Query()
	lp := service.SpaceListParams{ListParams: service.ListParams{Filter: q.Get("filter"), Sort: q.Get("sort")},
		Name: q.Get("name"), Type: q.Get("type")}
	lp.Cursor = q.Get("next")
	if lp.Cursor == "" {
		lp.Cursor = q.Get("prev")
	}
	if err := parseLimit(q.Get("limit"), &lp.ListParams); err != nil {
		return err
	}
	page, err := s.spaces.List(r.Context(), p, lp)
	if err != nil {
		return err
	}
	var out listPage[spaceJSON]
	out.Data = make([]spaceJSON, 0, len(page.Items))
	for _, v := range page.Items {
		out.Data = append(out.Data, s.spaceJSON(r, v))
	}
	out.Links.Self.Href = s.withQuery(r, "", "")
	if page.NextCursor != "" {
		out.Links.Next = &hrefJSON{Href: s.withQuery(r, "next", page.NextCursor, "prev")}
	}
	if page.PrevCursor != "" {
		out.Links.Prev = &hrefJSON{Href: s.withQuery(r, "prev", page.PrevCursor, "next")}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) createSpace(w http.ResponseWriter, r *http.Request, p access.Principal) error {
	var body service.SpaceInput
	if err := s.decodeJSON(w, r, &body); err != nil {
		return err
	}
	v, err := s.spaces.Create(r.Context(), p, body)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, s.spaceJSON(r, v))
	return nil
}

func (s *Server) getSpace(w http.ResponseWriter, r *http.Request, p access.Principal) error {
	v, err := s.spaces.Get(r.Context(), p, r.PathValue("spaceId"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.spaceJSON(r, v))
	return nil
}

func (s *Server) putSpace(w http.ResponseWriter, r *http.Request, p access.Principal) error {
	var body service.SpaceInput
	if err := s.decodeJSON(w, r, &body); err != nil {
		return err
	}
	body.Type = nil // a space's type does not change
	return s.updateSpace(w, r, p, body)
}

func (s *Server) updateSpace(w http.ResponseWriter, r *http.Request, p access.Principal, in service.SpaceInput) error {
	v, err := s.spaces.Update(r.Context(), p, r.PathValue("spaceId"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.spaceJSON(r, v))
	return nil
}

// patchSpace takes Qlik's JSON Patch: replace of /name, /description or
// /ownerId.
func (s *Server) patchSpace(w http.ResponseWriter, r *http.Request, p access.Principal) error {
	var ops []struct {
		Op    string          `json:"op"`
		Path  string          `json:"path"`
		Value json.RawMessage `json:"value"`
	}
	if err := s.decodeJSON(w, r, &ops); err != nil {
		return err
	}
	if len(ops) == 0 {
		return apperr.Validation("the patch has no operations")
	}
	var in service.SpaceInput
	for i, op := range ops {
		var v string
		if op.Op != "replace" {
			return apperr.Validation("[%d].op: only \"replace\" is supported", i)
		}
		if err := json.Unmarshal(op.Value, &v); err != nil {
			return apperr.Validation("[%d].value: a string is required", i)
		}
		switch op.Path {
		case "/name":
			in.Name = &v
		case "/description":
			in.Description = &v
		case "/ownerId":
			in.OwnerID = &v
		default:
			return apperr.Validation("[%d].path: %q is not one of /name, /description, /ownerId", i, op.Path)
		}
	}
	return s.updateSpace(w, r, p, in)
}

func (s *Server) deleteSpace(w http.ResponseWriter, r *http.Request, p access.Principal) error {
	if err := s.spaces.Delete(r.Context(), p, r.PathValue("spaceId")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listAssignments(w http.ResponseWriter, r *http.Request, p access.Principal) error {
	limit, err := queryLimit(r)
	if err != nil {
		return err
	}
	items, more, err := s.spaces.ListAssignments(r.Context(), p, r.PathValue("spaceId"), r.URL.Query().Get("next"), limit)
	if err != nil {
		return err
	}
	var out listPage[assignmentJSON]
	out.Data = make([]assignmentJSON, 0, len(items))
	for _, a := range items {
		out.Data = append(out.Data, s.assignmentJSON(r, a))
	}
	out.Links.Self.Href = s.withQuery(r, "", "")
	if more {
		out.Links.Next = &hrefJSON{Href: s.withQuery(r, "next", items[len(items)-1].ID)}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) createAssignment(w http.ResponseWriter, r *http.Request, p access.Principal) error {
	var body service.AssignmentInput
	if err := s.decodeJSON(w, r, &body); err != nil {
		return err
	}
	a, err := s.spaces.Assign(r.Context(), p, r.PathValue("spaceId"), body)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, s.assignmentJSON(r, a))
	return nil
}

func (s *Server) getAssignment(w http.ResponseWriter, r *http.Request, p access.Principal) error {
	a, err := s.spaces.GetAssignment(r.Context(), p, r.PathValue("spaceId"), r.PathValue("assignmentId"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.assignmentJSON(r, a))
	return nil
}

func (s *Server) putAssignment(w http.ResponseWriter, r *http.Request, p access.Principal) error {
	var body struct {
		Roles []string `json:"roles"`
	}
	if err := s.decodeJSON(w, r, &body); err != nil {
		return err
	}
	a, err := s.spaces.UpdateAssignment(r.Context(), p, r.PathValue("spaceId"), r.PathValue("assignmentId"), body.Roles)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.assignmentJSON(r, a))
	return nil
}

func (s *Server) deleteAssignment(w http.ResponseWriter, r *http.Request, p access.Principal) error {
	if err := s.spaces.Unassign(r.Context(), p, r.PathValue("spaceId"), r.PathValue("assignmentId")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type apiKeyJSON struct {
	ID            string `json:"id"`
	TenantID      string `json:"tenantId"`
	Description   string `json:"description"`
	Sub           string `json:"sub"`
	SubType       string `json:"subType"`
	Status        string `json:"status"`
	Expiry        string `json:"expiry"`
	Created       string `json:"created"`
	LastUpdated   string `json:"lastUpdated"`
	CreatedByUser string `json:"createdByUser"`
	Token         string `json:"token,omitempty"`
}

func (s *Server) apiKeyJSON(k *apikey.Key, secret string) apiKeyJSON {
	return apiKeyJSON{ID: k.ID, TenantID: k.TenantID, Description: k.Description, Sub: k.UserID, SubType: "user",
		Status: k.Status(s.clock.Now()), Expiry: formatTime(k.ExpiresAt), Created: formatTime(k.CreatedAt),
		LastUpdated: formatTime(k.UpdatedAt), CreatedByUser: k.CreatedBy, Token: secret}
}

func (s *Server) createAPIKey(w http.ResponseWriter, r *http.Request, p access.Principal) error {
	var body service.APIKeyInput
	if err := s.decodeJSON(w, r, &body); err != nil {
		return err
	}
	k, secret, err := s.identity.CreateAPIKey(r.Context(), p, body)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, s.apiKeyJSON(k, secret))
	return nil
}

func (s *Server) listAPIKeys(w http.ResponseWriter, r *http.Request, p access.Principal) error {
	limit, err := queryLimit(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	keys, more, err := s.identity.ListAPIKeys(r.Context(), p, service.APIKeyListParams{Limit: limit,
		StartingAfter: q.Get("startingAfter"), Sub: q.Get("sub")})
	if err != nil {
		return err
	}
	var out listPage[apiKeyJSON]
	out.Data = make([]apiKeyJSON, 0, len(keys))
	for _, k := range keys {
		out.Data = append(out.Data, s.apiKeyJSON(k, ""))
	}
	out.Links.Self.Href = s.withQuery(r, "", "")
	if more {
		out.Links.Next = &hrefJSON{Href: s.withQuery(r, "startingAfter", keys[len(keys)-1].ID)}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) getAPIKey(w http.ResponseWriter, r *http.Request, p access.Principal) error {
	k, err := s.identity.GetAPIKey(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.apiKeyJSON(k, ""))
	return nil
}

func (s *Server) deleteAPIKey(w http.ResponseWriter, r *http.Request, p access.Principal) error {
	if err := s.identity.RevokeAPIKey(r.Context(), p, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type userJSON struct {
	ID            string         `json:"id"`
	TenantID      string         `json:"tenantId"`
	Subject       string         `json:"subject"`
	Name          string         `json:"name"`
	Status        string         `json:"status"`
	AssignedRoles []roleJSON     `json:"assignedRoles"`
	CreatedAt     string         `json:"createdAt"`
	LastUpdatedAt string         `json:"lastUpdatedAt"`
	Links         map[string]any `json:"links"`
}

type roleJSON struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Type  string `json:"type"`
	Level string `json:"level"`
}

func (s *Server) me(w http.ResponseWriter, r *http.Request, p access.Principal) error {
	u, err := s.identity.Me(r.Context(), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.userJSON(r, u))
	return nil
}

func (s *Server) userJSON(r *http.Request, u *store.User) userJSON {
	j := userJSON{ID: u.ID, TenantID: u.TenantID, Subject: u.ID, Name: u.Name, Status: "active",
		AssignedRoles: []roleJSON{}, CreatedAt: formatTime(u.CreatedAt), LastUpdatedAt: formatTime(u.LastSeenAt),
		Links: map[string]any{"self": hrefJSON{Href: s.baseURL(r) + "/api/v1/users/" + u.ID}}}
	for _, role := range u.Roles {
		j.AssignedRoles = append(j.AssignedRoles, roleJSON{ID: role, Name: role, Type: "default", Level: "user"})
	}
	return j
}
