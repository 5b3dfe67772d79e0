package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"automate/internal/formula"
	"automate/internal/workspace"
)

// IdempotencyHeader carries a key that is the same for every attempt of
// one block execution (run, block, loop path), so that a run resumed after
// a crash can be recognised by the receiver when it repeats a call.
const IdempotencyHeader = "Idempotency-Key"

// Limits of CallUrlBlock.
const (
	DefaultCallTimeout = 30 * time.Second
	MaxCallTimeout     = 10 * time.Minute
	MaxResponseBytes   = 32 << 20
)

// DialPolicy decides whether outbound HTTP may connect to an address
// (host:port after DNS). Returning an error refuses the connection.
type DialPolicy func(network, address string) error

// NewHTTPClient returns the one client outbound HTTP goes through, with
// policy (if not nil) checked at dial time, after name resolution, so that
// a hostname cannot smuggle a forbidden address past it.
func NewHTTPClient(policy DialPolicy) *http.Client {
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	if policy != nil {
		d.Control = func(network, address string, _ syscall.RawConn) error { return policy(network, address) }
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = d.DialContext
	t.Proxy = nil // a proxy would move the dial past the policy
	return &http.Client{Transport: t, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}}
}

// Metrics are a run's outbound counts, as the runs API reports them.
type Metrics struct {
	Blocks        []BlockMetrics `json:"blocks"`
	Network       Network        `json:"network"`
	TotalAPICalls int64          `json:"totalApiCalls"`
}

// Network sums bytes received and sent.
type Network struct {
	RxBytes int64 `json:"rxBytes"`
	TxBytes int64 `json:"txBytes"`
}

// BlockMetrics are the counts of one Endpoint or Snippet block.
type BlockMetrics struct {
	Type        string `json:"type"` // endpointBlock or snippetBlock
	ConnectorID string `json:"connectorId,omitempty"`
	EndpointID  string `json:"endpointId,omitempty"`
	SnippetID   string `json:"snippetId,omitempty"`
	APICalls    int64  `json:"apiCalls"`
	RxBytes     int64  `json:"rxBytes"`
	TxBytes     int64  `json:"txBytes"`
}

// countCall adds one outbound call to the run's metrics.
func (e *Engine) countCall(rx, tx int64) {
	m := &e.state.Metrics
	m.TotalAPICalls++
	m.Network.RxBytes += rx
	m.Network.TxBytes += tx
}

// idempotencyKey is stable for one block execution.
func (e *Engine) idempotencyKey(b *workspace.Block) string {
	parts := []string{e.opt.RunID, b.ID}
	for _, i := range e.state.loopPath() {
		parts = append(parts, strconv.Itoa(i))
	}
	return strings.Join(parts, ":")
}

// callURL runs a CallUrlBlock. Its output is the response body, decoded
// when it is JSON; a 4xx/5xx answer or a timeout is a block error.
func (e *Engine) callURL(ctx context.Context, b *workspace.Block, in map[string]any) (any, error) {
	get := func(id string) (any, error) { return e.input(b, id, in) }
	rawURL, err := get("url")
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(strings.TrimSpace(formula.String(rawURL)))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, failf("url %q is not an http(s) URL", formula.String(rawURL))
	}
	mv, err := get("method")
	if err != nil {
		return nil, err
	}
	method := strings.ToUpper(formula.String(mv))
	if method == "" {
		method = http.MethodGet
	}
	switch method {
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodHead:
	default:
		return nil, failf("method %q is not supported", method)
	}
	timeout := DefaultCallTimeout
	if tv, err := get("timeout"); err != nil {
		return nil, err
	} else if formula.String(tv) != "" {
		secs, ok := formula.Number(tv)
		if !ok || secs <= 0 {
			return nil, failf("timeout %q is not a number of seconds", formula.String(tv))
		}
		timeout = min(time.Duration(secs*float64(time.Second)), MaxCallTimeout)
	}
	params, err := get("params")
	if err != nil {
		return nil, err
	}
	q := u.Query()
	for _, kv := range pairs(params) {
		q.Add(kv[0], kv[1])
	}
	u.RawQuery = q.Encode()
	bodyVal, err := get("body")
	if err != nil {
		return nil, err
	}
	var body []byte
	contentType := ""
	switch v := bodyVal.(type) {
	case nil:
	case string:
		body = []byte(v)
	default:
		body, _ = json.Marshal(v)
		contentType = "application/json"
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, failf("request: %v", err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	headers, err := get("headers")
	if err != nil {
		return nil, err
	}
	for _, kv := range pairs(headers) {
		req.Header.Set(kv[0], kv[1])
	}
	req.Header.Set(IdempotencyHeader, e.idempotencyKey(b))
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", "automate")
	}
	tx := int64(len(body))
	if e.opt.HTTPClient == nil {
		e.opt.HTTPClient = NewHTTPClient(nil)
	}
	res, err := e.opt.HTTPClient.Do(req)
	if err != nil {
		e.countCall(0, tx)
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, failf("no answer from %s within %s", u.Host, timeout)
		}
		return nil, failf("call to %s failed: %v", u.Host, unwrapURLError(err))
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, MaxResponseBytes+1))
	e.countCall(int64(len(raw)), tx)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, failf("no answer from %s within %s", u.Host, timeout)
		}
		return nil, failf("reading the answer of %s: %v", u.Host, err)
	}
	if len(raw) > MaxResponseBytes {
		return nil, failf("the answer of %s is larger than %d bytes", u.Host, MaxResponseBytes)
	}
	var out any = string(raw)
	var decoded any
	if len(bytes.TrimSpace(raw)) > 0 && json.Unmarshal(raw, &decoded) == nil {
		out = decoded
	}
	if res.StatusCode >= 400 {
		return out, failf("%s %s answered %d: %s", method, u.Host, res.StatusCode, truncate(strings.TrimSpace(string(raw)), 300))
	}
	return out, nil
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// pairs reads key/value inputs: an object, a list of {key, value}, or raw
// text holding a JSON object or a query string.
func pairs(v any) [][2]string {
	var out [][2]string
	switch v := v.(type) {
	case map[string]any:
		for k, val := range v {
			out = append(out, [2]string{k, formula.String(val)})
		}
	case []any:
		for _, it := range v {
			if m, ok := it.(map[string]any); ok {
				k := formula.String(m["key"])
				if k != "" {
					out = append(out, [2]string{k, formula.String(m["value"])})
				}
			}
		}
	case string:
		s := strings.TrimSpace(v)
		if s == "" {
			return nil
		}
		var m map[string]any
		if json.Unmarshal([]byte(s), &m) == nil {
			return pairs(m)
		}
		if vals, err := url.ParseQuery(s); err == nil {
			for k, vs := range vals {
				for _, x := range vs {
					out = append(out, [2]string{k, x})
				}
			}
		}
	}
	return out
}
