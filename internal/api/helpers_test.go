package api_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/prometheus/client_golang/prometheus"

	"automate/internal/access"
	"automate/internal/api"
	"automate/internal/clock"
	"automate/internal/dispatch"
	"automate/internal/service"
	"automate/internal/store"
	"automate/internal/store/postgres/pgtest"
	"automate/internal/store/sqlite"
	"automate/internal/token"
)

var testSecret = []byte("test-secret-of-enough-length-for-hs256")

// bundle is one running server on loopback over a fresh SQLite file.
type bundle struct {
	t         testing.TB
	url       string
	clock     *clock.Fake
	db        store.Store
	http      *http.Client
	dispatch  *dispatch.Dispatcher
	scheduler *dispatch.Scheduler
	// outside is a server standing for the outside world runs call.
	outside *httptest.Server
}

type setupOpts struct {
	cfg      api.Config
	dispatch dispatch.Config
	// realClock runs the server on the wall clock (benchmarks that time
	// runs); the bundle's fake clock then only mints tokens.
	realClock bool
	schedule  dispatch.ScheduleConfig
}

// setup starts a server with rate limits off unless the options set them.
func setup(t testing.TB, opts ...func(*setupOpts)) *bundle {
	t.Helper()
	o := setupOpts{}
	for _, f := range opts {
		f(&o)
	}
	ctx := context.Background()
	db := openStore(t)
	clk := clock.NewFake(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	var serverClock clock.Clock = clk
	if o.realClock {
		clk.Set(time.Now())
		serverClock = clock.Real{}
	}
	var logOut io.Writer = io.Discard
	if os.Getenv("AUTOMATE_TEST_LOG") != "" {
		logOut = os.Stderr // the server log of a failing test
	}
	logger := slog.New(slog.NewTextHandler(logOut, nil))
	verifier, err := token.NewVerifier(testSecret, nil, serverClock)
	if err != nil {
		t.Fatal(err)
	}
	if o.dispatch.HTTPClient == nil {
		o.dispatch.HTTPClient = http.DefaultClient
	}
	metrics := dispatch.NewMetrics(db.QueueDepth)
	d := dispatch.New(db, serverClock, logger, o.dispatch, metrics)
	d.Start(ctx)
	t.Cleanup(d.Stop)
	sched := dispatch.NewScheduler(d, o.schedule)
	sched.Start(ctx)
	t.Cleanup(sched.Stop) // before d.Stop: cleanups run last first
	srv := api.New(o.cfg, api.Deps{
		Automations: service.NewAutomations(db, d, sched, serverClock, logger),
		Runs:        service.NewRuns(db, d, serverClock, logger),
		Spaces:      service.NewSpaces(db, serverClock, logger),
		Identity:    service.NewIdentity(db, serverClock, logger),
		Collectors:  []prometheus.Collector{metrics},
		Verifier:    verifier,
		Database:    db,
		Clock:       serverClock,
		Logger:      logger,
	})
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &bundle{t: t, url: ts.URL, clock: clk, db: db, http: ts.Client(), dispatch: d, scheduler: sched}
}

// openStore opens the database the tests run on: a fresh SQLite file, or
// with AUTOMATE_TEST_DB=postgres a fresh schema of the PostgreSQL database
// (scripts/test runs this package both ways).
func openStore(t testing.TB) store.Store {
	t.Helper()
	if os.Getenv("AUTOMATE_TEST_DB") == "postgres" {
		return pgtest.Open(t)
	}
	db, err := sqlite.OpenMigrated(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// principal options for tokens.
func tok(b *bundle, p access.Principal) string {
	b.t.Helper()
	if p.TenantID == "" {
		p.TenantID = token.DefaultTenant
	}
	s, err := token.MintHS256(testSecret, p, b.clock.Now(), time.Hour)
	if err != nil {
		b.t.Fatal(err)
	}
	return s
}

// user returns a token for a user with the given roles in the default tenant.
func (b *bundle) user(sub string, roles ...string) string {
	return tok(b, access.Principal{UserID: sub, Roles: roles})
}

func (b *bundle) creator(sub string) string { return b.user(sub, access.RoleAutomationCreator) }

type response struct {
	status int
	header http.Header
	body   []byte
}

// request sends a request. body may be nil, a string/[]byte (sent as is) or
// a value (sent as JSON). The response is checked against the OpenAPI
// document unless the path is not in it.
func (b *bundle) request(method, path, bearer string, body any) response {
	b.t.Helper()
	return b.do(b.newRequest(method, path, bearer, body))
}

// newRequest builds a request as request sends it.
func (b *bundle) newRequest(method, path, bearer string, body any) *http.Request {
	b.t.Helper()
	var rd io.Reader
	switch v := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(v)
	case []byte:
		rd = bytes.NewReader(v)
	default:
		j, err := json.Marshal(v)
		if err != nil {
			b.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	target := path
	if !strings.HasPrefix(path, "http") {
		target = b.url + path
	}
	req, err := http.NewRequest(method, target, rd)
	if err != nil {
		b.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	return req
}

// do sends a request and checks the response against the contract.
func (b *bundle) do(req *http.Request) response {
	b.t.Helper()
	res, err := b.http.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	r := response{status: res.StatusCode, header: res.Header, body: raw}
	checkContract(b.t, req, res, raw)
	return r
}

func (b *bundle) get(path, bearer string) response { return b.request("GET", path, bearer, nil) }

func (b *bundle) post(path, bearer string, body any) response {
	return b.request("POST", path, bearer, body)
}

// decode unmarshals the body into v, failing on a status other than want.
func (r response) decode(t testing.TB, want int, v any) {
	t.Helper()
	if r.status != want {
		t.Fatalf("status = %d, want %d; body: %s", r.status, want, r.body)
	}
	if v != nil {
		if err := json.Unmarshal(r.body, v); err != nil {
			t.Fatalf("decode %s: %v", r.body, err)
		}
	}
}

// wantStatus fails unless the status is want.
func (r response) wantStatus(t testing.TB, want int) {
	t.Helper()
	if r.status != want {
		t.Fatalf("status = %d, want %d; body: %s", r.status, want, r.body)
	}
}

// wantError checks status, the envelope, its code and the trace header.
func (r response) wantError(t testing.TB, status int, code string) errorEnvelope {
	t.Helper()
	var env errorEnvelope
	if r.status != status {
		t.Fatalf("status = %d, want %d; body: %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type = %q, want JSON", ct)
	}
	if err := json.Unmarshal(r.body, &env); err != nil {
		t.Fatalf("error body is not the envelope: %s", r.body)
	}
	if len(env.Errors) != 1 || env.Errors[0].Code != code || env.Errors[0].Title == "" {
		t.Fatalf("errors = %+v, want one with code %s and a title", env.Errors, code)
	}
	if env.TraceID == "" || env.TraceID != r.header.Get(api.TraceHeader) {
		t.Fatalf("traceId = %q, header %q: want equal and set", env.TraceID, r.header.Get(api.TraceHeader))
	}
	return env
}

type errorEnvelope struct {
	Errors []struct {
		Code   string `json:"code"`
		Title  string `json:"title"`
		Detail string `json:"detail"`
	} `json:"errors"`
	TraceID string `json:"traceId"`
}

// automationBody is the automation as a client reads it.
type automationBody struct {
	ID                string          `json:"id"`
	Name              string          `json:"name"`
	Description       string          `json:"description"`
	State             string          `json:"state"`
	OwnerID           string          `json:"ownerId"`
	SpaceID           *string         `json:"spaceId"`
	RunMode           string          `json:"runMode"`
	Schedules         []scheduleBody  `json:"schedules"`
	Workspace         json.RawMessage `json:"workspace"`
	SnippetIDs        []string        `json:"snippetIds"`
	EndpointIDs       []string        `json:"endpointIds"`
	ConnectorIDs      []string        `json:"connectorIds"`
	ExecutionToken    string          `json:"executionToken"`
	MaxConcurrentRuns int             `json:"maxConcurrentRuns"`
	CreatedAt         string          `json:"createdAt"`
	UpdatedAt         string          `json:"updatedAt"`
}

type scheduleBody struct {
	ID            string `json:"id"`
	Interval      int    `json:"interval"`
	Recurrence    string `json:"recurrence"`
	StartAt       string `json:"startAt"`
	StopAt        string `json:"stopAt"`
	Timezone      string `json:"timezone"`
	LastStartedAt string `json:"lastStartedAt"`
	NextRunAt     string `json:"nextRunAt"`
}

type listBody struct {
	Data  []automationBody `json:"data"`
	Links struct {
		Next *struct {
			Href string `json:"href"`
		} `json:"next"`
		Prev *struct {
			Href string `json:"href"`
		} `json:"prev"`
	} `json:"links"`
}

// create makes an automation and returns it.
func (b *bundle) create(bearer string, body any) automationBody {
	b.t.Helper()
	var a automationBody
	b.post("/api/workflows/automations", bearer, body).decode(b.t, http.StatusCreated, &a)
	return a
}

var (
	contractOnce sync.Once
	contract     validator.Validator
	contractErr  error
	contractMu   sync.Mutex
)

// checkContract fails the test when a response breaks the OpenAPI document.
func checkContract(t testing.TB, req *http.Request, res *http.Response, body []byte) {
	t.Helper()
	if problems := contractProblems(t, req, res, body); len(problems) > 0 {
		t.Fatalf("%s %s -> %d does not match the OpenAPI document:\n%s\nbody: %s",
			req.Method, req.URL.Path, res.StatusCode, strings.Join(problems, "\n"), body)
	}
}

// contractProblems validates a response against the OpenAPI document.
func contractProblems(t testing.TB, req *http.Request, res *http.Response, body []byte) []string {
	t.Helper()
	contractOnce.Do(func() {
		doc, err := libopenapi.NewDocument(api.OpenAPI())
		if err != nil {
			contractErr = err
			return
		}
		v, errs := validator.NewValidator(doc)
		if len(errs) > 0 {
			contractErr = errs[0]
			return
		}
		contract = v
	})
	if contractErr != nil {
		t.Fatalf("OpenAPI document: %v", contractErr)
	}
	if !inContract(req) {
		return nil
	}
	res.Body = io.NopCloser(bytes.NewReader(body))
	contractMu.Lock()
	ok, errs := contract.ValidateHttpResponse(req, res)
	contractMu.Unlock()
	if ok {
		return nil
	}
	var problems []string
	for _, e := range errs {
		p := e.Error()
		for _, se := range e.SchemaValidationErrors {
			p += "; " + se.Reason + " at " + se.FieldPath
		}
		problems = append(problems, p)
	}
	return problems
}

// inContract reports whether the request's route is one the document
// describes; unknown routes and methods are checked by their tests instead.
func inContract(req *http.Request) bool {
	p := req.URL.Path
	const base = "/api/workflows/automations"
	switch {
	case p == base:
		return req.Method == "GET" || req.Method == "POST"
	case p == base+"/settings":
		return req.Method == "GET" || req.Method == "PUT"
	case p == "/healthz", p == "/readyz", p == "/resources/autogenerated/product-info.json", p == base+"/openapi.json",
		p == base+"/usage":
		return req.Method == "GET"
	case p == "/api/v1/spaces", p == "/api/v1/api-keys":
		return req.Method == "GET" || req.Method == "POST"
	case p == "/api/v1/users/me":
		return req.Method == "GET"
	case strings.HasPrefix(p, "/api/v1/spaces/"):
		switch rest := strings.Split(strings.TrimPrefix(p, "/api/v1/spaces/"), "/"); {
		case len(rest) == 1:
			return req.Method != "POST"
		case len(rest) == 2 && rest[1] == "assignments":
			return req.Method == "GET" || req.Method == "POST"
		case len(rest) == 3 && rest[1] == "assignments":
			return req.Method == "GET" || req.Method == "PUT" || req.Method == "DELETE"
		}
		return false
	case strings.HasPrefix(p, "/api/v1/api-keys/"):
		return !strings.Contains(strings.TrimPrefix(p, "/api/v1/api-keys/"), "/") && (req.Method == "GET" || req.Method == "DELETE")
	case strings.HasPrefix(p, "/api/v1/automations/") && strings.HasSuffix(p, "/actions/execute"):
		return req.Method == "GET" || req.Method == "POST"
	case strings.HasPrefix(p, base+"/"):
		rest := strings.Split(strings.TrimPrefix(p, base+"/"), "/")
		switch len(rest) {
		case 1:
			return req.Method == "GET" || req.Method == "PUT" || req.Method == "DELETE"
		case 2:
			return rest[1] == "runs" && (req.Method == "GET" || req.Method == "POST")
		case 3:
			if rest[1] == "runs" {
				return req.Method == "GET"
			}
			if rest[1] != "actions" || req.Method != "POST" {
				return false
			}
			switch rest[2] {
			case "copy", "enable", "disable", "change-owner", "move", "change-space":
				return true
			}
		case 4:
			return rest[1] == "runs" && rest[3] == "debug" && req.Method == "GET"
		case 5:
			return rest[1] == "runs" && rest[3] == "actions" && req.Method == "POST"
		}
	}
	return false
}

// q escapes a query value.
func q(s string) string { return url.QueryEscape(s) }

// rawCursor encodes a hand-made cursor, as a client could forge one.
func rawCursor(j string) string { return base64.RawURLEncoding.EncodeToString([]byte(j)) }

// with returns the bundle reporting to t, for use inside fuzz targets and
// subtests where the setup's t must not be used.
func (b *bundle) with(t testing.TB) *bundle {
	c := *b
	c.t = t
	return &c
}
