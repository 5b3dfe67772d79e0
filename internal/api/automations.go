package api

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"automate/internal/access"
	"automate/internal/apperr"
	"automate/internal/automation"
	"automate/internal/schedule"
	"automate/internal/service"
)

// timeFormat is Qlik's timestamp: UTC with microseconds and a Z.
const timeFormat = "2006-01-02T15:04:05.000000Z"

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeFormat)
}

// automationRequest is AutomationDetailRequestObject (and its update form).
type automationRequest struct {
	Name              *string         `json:"name"`
	Description       *string         `json:"description"`
	SpaceID           *string         `json:"spaceId"`
	Workspace         json.RawMessage `json:"workspace"`
	MaxConcurrentRuns *int            `json:"maxConcurrentRuns"`
	// Schedules null or absent keeps the schedule; [] removes it.
	Schedules *[]schedule.Spec `json:"schedules"`
}

func (q automationRequest) input() automation.Input {
	return automation.Input{Name: q.Name, Description: q.Description, SpaceID: q.SpaceID, Workspace: q.Workspace,
		MaxConcurrentRuns: q.MaxConcurrentRuns, Schedules: q.Schedules}
}

// scheduleJSON is ScheduleResponseObject.
type scheduleJSON struct {
	ID            string `json:"id"`
	Interval      int    `json:"interval"`
	Recurrence    string `json:"recurrence,omitempty"`
	StartAt       string `json:"startAt"`
	StopAt        string `json:"stopAt,omitempty"`
	Timezone      string `json:"timezone"`
	LastStartedAt string `json:"lastStartedAt,omitempty"`
	NextRunAt     string `json:"nextRunAt,omitempty"`
}

// schedulesJSON is an automation's schedules list: none or one.
func schedulesJSON(sc *schedule.Schedule) []scheduleJSON {
	if sc == nil {
		return []scheduleJSON{}
	}
	return []scheduleJSON{{ID: sc.ID, Interval: sc.Interval, Recurrence: sc.Recurrence, StartAt: sc.StartAt,
		StopAt: sc.StopAt, Timezone: sc.Timezone, LastStartedAt: formatTime(sc.LastStartedAt), NextRunAt: formatTime(sc.NextRunAt)}}
}

type linksJSON struct {
	Next *hrefJSON `json:"next,omitempty"`
	Prev *hrefJSON `json:"prev,omitempty"`
}

type hrefJSON struct {
	Href string `json:"href"`
}

func (s *Server) listAutomations(w http.ResponseWriter, r *http.Request, p access.Principal) error {
	q := r.URL.Query()
	lp := service.ListParams{Filter: q.Get("filter"), Sort: q.Get("sort"), Cursor: q.Get("cursor")}
	if err := parseLimit(q.Get("limit"), &lp); err != nil {
		return err
	}
	if v := q.Get("listAll"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return apperr.InvalidParameter("listAll must be true or false")
		}
		lp.ListAll = b
	}
	page, err := s.automations.List(r.Context(), p, lp)
	if err != nil {
		return err
	}
	linksRaw, err := json.Marshal(s.links(r, page.NextCursor, page.PrevCursor))
	if err != nil {
		return apperr.Internalf(err, "encode links")
	}
	b := make([]byte, 0, 1024*len(page.Items)+256)
	b = append(b, `{"data":[`...)
	for i, a := range page.Items {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendAutomation(b, a, false, nil)
	}
	b = append(b, `],"links":`...)
	b = append(b, linksRaw...)
	b = append(b, '}')
	writeRawJSON(w, http.StatusOK, b)
	return nil
}

// pageLink is the full URL of this request with another cursor.
func (s *Server) pageLink(r *http.Request, cursor string) string {
	q := r.URL.Query()
	q.Set("cursor", cursor)
	u := url.URL{Path: r.URL.Path, RawQuery: q.Encode()}
	return s.baseURL(r) + u.String()
}

func (s *Server) createAutomation(w http.ResponseWriter, r *http.Request, p access.Principal) error {
	var body automationRequest
	if err := s.decodeJSON(w, r, &body); err != nil {
		return err
	}
	a, err := s.automations.Create(r.Context(), p, body.input())
	if err != nil {
		return err
	}
	writeRawJSON(w, http.StatusCreated, appendAutomation(nil, a.Automation, true, a.Schedule))
	return nil
}

func (s *Server) getAutomation(w http.ResponseWriter, r *http.Request, p access.Principal) error {
	a, err := s.automations.Get(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	b := appendAutomation(nil, a.Automation, true, a.Schedule)
	if a.LastRun != nil {
		// The automation object ends with '}': the last run goes before it.
		lr, err := json.Marshal(newRunJSON(a.LastRun, false))
		if err != nil {
			return apperr.Internalf(err, "encode last run")
		}
		b = append(append(append(b[:len(b)-1], `,"lastRun":`...), lr...), '}')
	}
	writeRawJSON(w, http.StatusOK, b)
	return nil
}

func (s *Server) updateAutomation(w http.ResponseWriter, r *http.Request, p access.Principal) error {
	var body automationRequest
	if err := s.decodeJSON(w, r, &body); err != nil {
		return err
	}
	a, err := s.automations.Update(r.Context(), p, r.PathValue("id"), body.input())
	if err != nil {
		return err
	}
	writeRawJSON(w, http.StatusOK, appendAutomation(nil, a.Automation, true, a.Schedule))
	return nil
}

func (s *Server) deleteAutomation(w http.ResponseWriter, r *http.Request, p access.Principal) error {
	if err := s.automations.Delete(r.Context(), p, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) copyAutomation(w http.ResponseWriter, r *http.Request, p access.Principal) error {
	var body struct {
		Name *string `json:"name"`
	}
	if err := s.decodeJSON(w, r, &body); err != nil {
		return err
	}
	if body.Name == nil {
		return apperr.Validation("name is required")
	}
	a, err := s.automations.Copy(r.Context(), p, r.PathValue("id"), *body.Name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]string{"id": a.ID})
	return nil
}

func (s *Server) enableAutomation(w http.ResponseWriter, r *http.Request, p access.Principal) error {
	return s.setEnabled(w, r, p, true)
}

func (s *Server) disableAutomation(w http.ResponseWriter, r *http.Request, p access.Principal) error {
	return s.setEnabled(w, r, p, false)
}

func (s *Server) setEnabled(w http.ResponseWriter, r *http.Request, p access.Principal, enabled bool) error {
	if err := s.automations.SetEnabled(r.Context(), p, r.PathValue("id"), enabled); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// changeOwner serves both change-owner and move: Qlik documents them as the same action.
func (s *Server) changeOwner(w http.ResponseWriter, r *http.Request, p access.Principal) error {
	var body struct {
		UserID string `json:"userId"`
	}
	if err := s.decodeJSON(w, r, &body); err != nil {
		return err
	}
	if err := s.automations.ChangeOwner(r.Context(), p, r.PathValue("id"), body.UserID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) changeSpace(w http.ResponseWriter, r *http.Request, p access.Principal) error {
	var body struct {
		SpaceID string `json:"spaceId"`
	}
	if err := s.decodeJSON(w, r, &body); err != nil {
		return err
	}
	if err := s.automations.ChangeSpace(r.Context(), p, r.PathValue("id"), body.SpaceID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type settingsJSON struct {
	MaxConcurrentRunsPerAutomation *int `json:"maxConcurrentRunsPerAutomation"`
}

func (s *Server) getSettings(w http.ResponseWriter, r *http.Request, p access.Principal) error {
	st, err := s.automations.GetSettings(r.Context(), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, settingsJSON{MaxConcurrentRunsPerAutomation: &st.MaxConcurrentRunsPerAutomation})
	return nil
}

func (s *Server) putSettings(w http.ResponseWriter, r *http.Request, p access.Principal) error {
	var body settingsJSON
	if err := s.decodeJSON(w, r, &body); err != nil {
		return err
	}
	if body.MaxConcurrentRunsPerAutomation == nil {
		return apperr.Validation("maxConcurrentRunsPerAutomation is required")
	}
	st, err := s.automations.UpdateSettings(r.Context(), p, automation.Settings{MaxConcurrentRunsPerAutomation: *body.MaxConcurrentRunsPerAutomation})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, settingsJSON{MaxConcurrentRunsPerAutomation: &st.MaxConcurrentRunsPerAutomation})
	return nil
}
