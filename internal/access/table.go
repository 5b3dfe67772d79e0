package access

import (
	"fmt"
	"slices"
	"strings"
)

// describe orders the actions of the generated table and names what each
// is in the API.
var describe = []struct {
	action Action
	what   string
}{
	{CreateAutomation, "create an automation (`POST /automations`)"},
	{ListAutomations, "list automations (`GET /automations`): own, and those of member spaces"},
	{ListAllAutomations, "list every automation of the tenant (`listAll=true`)"},
	{ReadAutomation, "read an automation"},
	{UpdateAutomation, "update an automation"},
	{CopyAutomation, "copy an automation"},
	{DeleteAutomation, "delete an automation"},
	{EnableAutomation, "enable an automation"},
	{DisableAutomation, "disable an automation"},
	{ChangeOwner, "change-owner, move"},
	{ChangeSpace, "change-space (and the target space's add-content rule)"},
	{RunAutomation, "start a run (`POST /{id}/runs`)"},
	{ManageAutomationRun, "stop a run; retry (which also needs the start rule)"},
	{ReadAutomationRuns, "list and read runs, the debug log, export"},
	{ReadSettings, "read settings"},
	{UpdateSettings, "update settings"},
	{ReadUsage, "read usage"},
	{CreateSpace, "create a shared space"},
	{ListSpaces, "list spaces (those the caller may read)"},
	{ReadSpace, "read a space and its assignments"},
	{UpdateSpace, "update a space"},
	{DeleteSpace, "delete a space (409 while it holds automations)"},
	{ManageAssignments, "add, change, remove a space's members"},
	{AddToSpace, "put an automation in a shared space"},
	{CreateAPIKey, "create an API key for oneself"},
	{ListAPIKeys, "list one's API keys"},
	{ListAllAPIKey, "list every API key of the tenant"},
	{ReadAPIKey, "read an API key"},
	{DeleteAPIKey, "revoke an API key"},
	{ReadMe, "`GET /api/v1/users/me`"},
}

// Table renders the policy as the README's "who may do what" table.
func Table() string {
	var b strings.Builder
	b.WriteString("| action | granted to | a scoped token needs one of |\n|---|---|---|\n")
	for _, d := range describe {
		r := policy[d.action]
		var who []string
		if r.anyone {
			who = append(who, "every user of the tenant")
		}
		if r.owner {
			if len(r.ownerRoles) == 0 {
				who = append(who, "the owner")
			} else {
				who = append(who, "the owner with "+strings.Join(r.ownerRoles, " or "))
			}
		}
		if len(r.roles) > 0 {
			who = append(who, strings.Join(r.roles, ", "))
		}
		if len(r.spaceRoles) > 0 {
			if slices.Equal(r.spaceRoles, SpaceRoles) {
				who = append(who, "every member of its shared space")
			} else {
				who = append(who, "space "+strings.Join(r.spaceRoles, ", "))
			}
		}
		if r.noAPIKey {
			who = append(who, "not with an API key")
		}
		scopes := "`" + strings.Join(r.scopes, "`, `") + "`"
		if len(r.private) > 0 {
			scopes += fmt.Sprintf("; personal space: `%s`; shared space: `%s`",
				strings.Join(r.private, "`, `"), strings.Join(r.shared, "`, `"))
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", d.what, strings.Join(who, "; "), scopes)
	}
	return b.String()
}
