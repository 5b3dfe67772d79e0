// Package space holds shared spaces and their members: what a space and an
// assignment are, and what a valid one is. Who may do what in a space is
// internal/access's; storing them is internal/store's.
package space

import (
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"automate/internal/access"
	"automate/internal/apperr"
)

// TypeShared is the one space type automate has; Qlik's managed and data
// spaces are refused as not supported.
const TypeShared = "shared"

// AssigneeUser is the one assignment type automate has.
const AssigneeUser = "user"

// Space is a shared space.
type Space struct {
	ID          string
	TenantID    string
	Name        string
	Description string
	Type        string
	OwnerID     string
	CreatedBy   string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Assignment makes a user a member of a space with roles.
type Assignment struct {
	ID         string
	TenantID   string
	SpaceID    string
	Type       string
	AssigneeID string
	Roles      []string
	CreatedBy  string
	UpdatedBy  string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// SortField is a field the spaces list sorts by.
type SortField string

// Sort fields of the spaces list.
const (
	SortID        SortField = "id"
	SortName      SortField = "name"
	SortType      SortField = "type"
	SortCreatedAt SortField = "createdAt"
)

// SortFields are the sortable fields; the first is the default.
var SortFields = []SortField{SortName, SortID, SortType, SortCreatedAt}

// IsNumeric reports whether f sorts by a number (Unix microseconds).
func (f SortField) IsNumeric() bool { return f == SortCreatedAt }

// SortValue is s's value of field f, as the list's keyset holds it.
func (s *Space) SortValue(f SortField) any {
	switch f {
	case SortName:
		return s.Name
	case SortType:
		return s.Type
	case SortCreatedAt:
		return s.CreatedAt.UnixMicro()
	}
	return s.ID
}

// FilterFields are the attributes a SCIM filter may name.
var FilterFields = []string{"name", "type"}

const (
	maxName        = 256
	maxDescription = 1024
)

// ValidateName checks a space name.
func ValidateName(name string) error {
	switch {
	case strings.TrimSpace(name) == "":
		return apperr.Validation("name is required")
	case utf8.RuneCountInString(name) > maxName:
		return apperr.Validation("name is longer than %d characters", maxName)
	}
	return nil
}

// ValidateDescription checks a space description.
func ValidateDescription(d string) error {
	if utf8.RuneCountInString(d) > maxDescription {
		return apperr.Validation("description is longer than %d characters", maxDescription)
	}
	return nil
}

// ValidateType checks the type of a new space.
func ValidateType(t string) error {
	switch t {
	case TypeShared:
		return nil
	case "":
		return apperr.Validation("type is required; automate has shared spaces")
	case "managed", "data":
		return apperr.Validation("type %q is not supported; automate has shared spaces only", t)
	}
	return apperr.Validation("type %q is not a space type; automate has shared spaces", t)
}

// ValidateAssignee checks an assignment's type and assignee.
func ValidateAssignee(typ, assigneeID string) error {
	switch {
	case typ != AssigneeUser:
		return apperr.Validation("type %q is not supported; assignments are of type \"user\"", typ)
	case strings.TrimSpace(assigneeID) == "":
		return apperr.Validation("assigneeId is required")
	case len(assigneeID) > 256:
		return apperr.Validation("assigneeId is longer than 256 characters")
	}
	return nil
}

// ValidateRoles checks an assignment's roles: at least one, each a role of
// a shared space, none twice.
func ValidateRoles(roles []string) error {
	if len(roles) == 0 {
		return apperr.Validation("roles: at least one role is required; one of %s", strings.Join(access.SpaceRoles, ", "))
	}
	for i, r := range roles {
		if !slices.Contains(access.SpaceRoles, r) {
			return apperr.Validation("roles[%d]: %q is not a role of a shared space; one of %s", i, r, strings.Join(access.SpaceRoles, ", "))
		}
		if slices.Contains(roles[:i], r) {
			return apperr.Validation("roles[%d]: %q is given twice", i, r)
		}
	}
	return nil
}
