package api

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"automate/internal/access"
	"automate/internal/apperr"
	"automate/internal/automation"
	"automate/internal/run"
	"automate/internal/service"
)

// runJSON is RunDetailResponseObject, and with list set RunListObject
// (which adds duration, has no metrics, and whose start and stop times are
// absent rather than null until they happen). Times are raw JSON so that
// one field can be a string, null, or (nil with omitempty) absent.
type runJSON struct {
	ID                 string          `json:"id"`
	Title              string          `json:"title"`
	Status             string          `json:"status"`
	Context            string          `json:"context"`
	Error              json.RawMessage `json:"error"`
	Metrics            json.RawMessage `json:"metrics,omitempty"`
	OwnerID            string          `json:"ownerId"`
	SpaceID            string          `json:"spaceId,omitempty"`
	ExecutedByID       string          `json:"executedById"`
	TestRun            bool            `json:"testRun"`
	IsTestRun          bool            `json:"isTestRun"`
	Archived           bool            `json:"archived"`
	IsArchived         bool            `json:"isArchived"`
	ScheduledStartTime json.RawMessage `json:"scheduledStartTime"`
	StartTime          json.RawMessage `json:"startTime,omitempty"`
	StopTime           json.RawMessage `json:"stopTime,omitempty"`
	CreatedAt          string          `json:"createdAt"`
	UpdatedAt          string          `json:"updatedAt"`
	Duration           *int64          `json:"duration,omitempty"`
}

var nullJSON = json.RawMessage("null")

// jsonTime is a time as a JSON string, or ifZero when it has not happened.
func jsonTime(t time.Time, ifZero json.RawMessage) json.RawMessage {
	if t.IsZero() {
		return ifZero
	}
	return json.RawMessage(`"` + formatTime(t) + `"`)
}

func newRunJSON(r *run.Run, list bool) runJSON {
	j := runJSON{
		ID: r.ID, Title: r.Title, Status: r.Status, Context: r.Context, Error: r.Errors,
		OwnerID: r.OwnerID, SpaceID: r.SpaceID, ExecutedByID: r.ExecutedByID,
		TestRun: r.TestRun, IsTestRun: r.TestRun, ScheduledStartTime: jsonTime(r.ScheduledStartTime, nullJSON),
		CreatedAt: formatTime(r.CreatedAt), UpdatedAt: formatTime(r.UpdatedAt),
	}
	if len(j.Error) == 0 {
		j.Error = json.RawMessage("[]")
	}
	if list {
		d := r.Duration()
		j.Duration = &d
		j.StartTime, j.StopTime = jsonTime(r.StartTime, nil), jsonTime(r.StopTime, nil)
	} else {
		j.StartTime, j.StopTime = jsonTime(r.StartTime, nullJSON), jsonTime(r.StopTime, nullJSON)
		j.Metrics = r.Metrics
		if len(j.Metrics) == 0 {
			j.Metrics = json.RawMessage("{}")
		}
	}
	return j
}

func (s *Server) listRuns(w http.ResponseWriter, r *http.Request, p access.Principal) error {
	q := r.URL.Query()
	lp := service.ListParams{Filter: q.Get("filter"), Sort: q.Get("sort"), Cursor: q.Get("cursor")}
	if err := parseLimit(q.Get("limit"), &lp); err != nil {
		return err
	}
	page, err := s.runs.List(r.Context(), p, r.PathValue("id"), lp)
	if err != nil {
		return err
	}
	data := make([]runJSON, len(page.Items))
	for i, it := range page.Items {
		data[i] = newRunJSON(it, true)
	}
	writeJSON(w, http.StatusOK, struct {
		Data  []runJSON `json:"data"`
		Links linksJSON `json:"links"`
	}{data, s.links(r, page.NextCursor, page.PrevCursor)})
	return nil
}

// parseLimit reads the limit query parameter.
func parseLimit(v string, lp *service.ListParams) error {
	if v == "" {
		return nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return apperr.InvalidParameter("limit must be an integer between 1 and %d", service.MaxListLimit)
	}
	if n == 0 {
		n = -1 // an explicit 0 is out of range, not "the default"
	}
	lp.Limit = n
	return nil
}

func (s *Server) links(r *http.Request, next, prev string) linksJSON {
	var links linksJSON
	if next != "" {
		links.Next = &hrefJSON{Href: s.pageLink(r, next)}
	}
	if prev != "" {
		links.Prev = &hrefJSON{Href: s.pageLink(r, prev)}
	}
	return links
}

func (s *Server) createRun(w http.ResponseWriter, r *http.Request, p access.Principal) error {
	var body service.RunInput
	if err := s.decodeJSON(w, r, &body); err != nil {
		return err
	}
	run, err := s.runs.Create(r.Context(), p, r.PathValue("id"), body)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, newRunJSON(run, false))
	return nil
}

func (s *Server) getRun(w http.ResponseWriter, r *http.Request, p access.Principal) error {
	run, err := s.runs.Get(r.Context(), p, r.PathValue("id"), r.PathValue("runId"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newRunJSON(run, false))
	return nil
}

func (s *Server) stopRun(w http.ResponseWriter, r *http.Request, p access.Principal) error {
	if err := s.runs.Stop(r.Context(), p, r.PathValue("id"), r.PathValue("runId")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) retryRun(w http.ResponseWriter, r *http.Request, p access.Principal) error {
	if _, err := s.runs.Retry(r.Context(), p, r.PathValue("id"), r.PathValue("runId")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) exportRun(w http.ResponseWriter, r *http.Request, p access.Principal) error {
	id, runID := r.PathValue("id"), r.PathValue("runId")
	if err := s.runs.Check(r.Context(), p, id, runID); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"url": s.baseURL(r) + "/api/workflows/automations/" + id + "/runs/" + runID + "/debug"})
	return nil
}

func (s *Server) runDebug(w http.ResponseWriter, r *http.Request, p access.Principal) error {
	text, err := s.runs.DebugLog(r.Context(), p, r.PathValue("id"), r.PathValue("runId"))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, text)
	return nil
}

func (s *Server) usage(w http.ResponseWriter, r *http.Request, p access.Principal) error {
	q := r.URL.Query()
	items, err := s.runs.Usage(r.Context(), p, q.Get("filter"), q.Get("breakdownBy"))
	if err != nil {
		return err
	}
	type automationJSON struct {
		GUID    string `json:"guid"`
		Name    string `json:"name"`
		OwnerID string `json:"ownerId"`
	}
	type itemJSON struct {
		Automation *automationJSON `json:"automation,omitempty"`
		Date       string          `json:"date"`
		Name       string          `json:"name"`
		Value      float64         `json:"value"`
	}
	data := make([]itemJSON, len(items))
	for i, it := range items {
		data[i] = itemJSON{Date: it.Date, Name: it.Name, Value: it.Value}
		if it.Automation != nil {
			data[i].Automation = &automationJSON{GUID: it.Automation.GUID, Name: it.Automation.Name, OwnerID: it.Automation.OwnerID}
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data})
	return nil
}

// executionTokenHeader carries a run URL's execution token.
const executionTokenHeader = "X-Execution-Token"

// execute serves an automation's run URL. It needs no bearer token: the
// automation's execution token authorises it, and the call counts toward
// the automation owner's tier 2 rate limit.
func (s *Server) execute(w http.ResponseWriter, r *http.Request) {
	if err := s.executeRun(w, r); err != nil {
		s.writeError(w, r, err)
	}
}

func (s *Server) executeRun(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	req := service.ExecuteRequest{IDOrName: r.PathValue("id"), Token: r.Header.Get(executionTokenHeader)}
	if req.Token == "" {
		req.Token = q.Get(executionTokenHeader)
	}
	if v := q.Get("async"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return apperr.InvalidParameter("async must be true or false")
		}
		req.Async = &b
	}
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return apperr.E(apperr.TooLarge, apperr.CodeTooLarge, "Request body too large", "the limit is %d bytes", s.cfg.MaxBodyBytes)
		}
		if len(bytes.TrimSpace(body)) > 0 && !json.Valid(body) {
			return apperr.E(apperr.Invalid, apperr.CodeInvalidJSON, "Invalid JSON", "the request body is not valid JSON")
		}
		req.Inputs = body
	} else {
		obj := map[string]any{}
		for k, vs := range q {
			if k == executionTokenHeader || k == "async" {
				continue
			}
			if len(vs) == 1 {
				obj[k] = vs[0]
			} else {
				obj[k] = vs
			}
		}
		req.Inputs, _ = json.Marshal(obj)
	}
	req.Charge = func(a *automation.Automation) error {
		owner := access.Principal{TenantID: a.TenantID, UserID: a.OwnerID}
		if wait, ok := s.limiter.allow(owner, tier2); !ok {
			secs := max(int((wait+time.Second-1)/time.Second), 1)
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			return apperr.E(apperr.RateLimited, apperr.CodeRateLimited, "Too many requests",
				"the automation owner's rate limit is exceeded; retry after %d s", secs)
		}
		return nil
	}
	res, err := s.runs.Execute(r.Context(), req)
	if res.Run != nil {
		w.Header().Set("X-Run-Id", res.Run.ID)
	}
	if err != nil {
		return err
	}
	rn := res.Run
	if !res.Done {
		writeJSON(w, http.StatusAccepted, map[string]string{"id": rn.ID, "status": rn.Status})
		return nil
	}
	if rn.Status != run.StatusFinished && rn.Status != run.StatusFinishedWithWarnings {
		return apperr.E(apperr.RunFailed, apperr.CodeRunFailed, "Run did not finish", "run %s ended %s%s", rn.ID, rn.Status, firstError(rn.Errors))
	}
	return writeOutput(w, rn.Output)
}

// firstError is ": <message>" of a run's first error, or "".
func firstError(raw json.RawMessage) string {
	var errs []struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(raw, &errs) != nil || len(errs) == 0 {
		return ""
	}
	return ": " + errs[0].Message
}

// writeOutput answers a finished sync run with its output: the one value
// its blocks output, or the list when there are several (or none). A
// string goes as text/plain, anything else as JSON.
func writeOutput(w http.ResponseWriter, raw json.RawMessage) error {
	var out []json.RawMessage
	if err := json.Unmarshal(raw, &out); err != nil {
		return apperr.Internalf(err, "decode run output")
	}
	body := raw
	if len(out) == 1 {
		body = out[0]
	}
	var str string
	if json.Unmarshal(body, &str) == nil {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, str)
		return nil
	}
	writeRawJSON(w, http.StatusOK, body)
	return nil
}

// baseURL is the public base of this server's URLs.
func (s *Server) baseURL(r *http.Request) string {
	if s.cfg.PublicURL != "" {
		return strings.TrimRight(s.cfg.PublicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
