package formula

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"fmt"
	"math"
	"math/rand/v2"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode"
)

// fn is a function: it gets its evaluated arguments.
type fn struct {
	min, max int // argument count; max -1 is any
	call     func(env Env, args []any) (any, error)
}

// functions is the function table; names are lower case.
var functions map[string]fn

func init() {
	functions = map[string]fn{
		// text
		"uppercase":      {1, 1, text1(strings.ToUpper)},
		"lowercase":      {1, 1, text1(strings.ToLower)},
		"capitalizename": {1, 1, text1(capitalize)},
		"trim":           {1, 2, trimWith(strings.Trim, strings.TrimSpace)},
		"ltrim":          {1, 2, trimWith(strings.TrimLeft, func(s string) string { return strings.TrimLeftFunc(s, unicode.IsSpace) })},
		"rtrim":          {1, 2, trimWith(strings.TrimRight, func(s string) string { return strings.TrimRightFunc(s, unicode.IsSpace) })},
		"replace": {3, 3, func(_ Env, a []any) (any, error) {
			return strings.ReplaceAll(String(a[0]), String(a[1]), String(a[2])), nil
		}},
		"regexparse":    {2, 2, regexParse},
		"regexparseall": {2, 2, regexParseAll},
		"explode":       {2, 2, explode},
		"base64encode":  {1, 1, text1(func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) })},
		"base64decode":  {1, 1, base64Decode},
		// lists
		"count":    {1, 1, count},
		"getkeys":  {1, 1, getKeys},
		"implode":  {1, 2, implode},
		"sort":     {1, 2, sortList(false)},
		"sortdesc": {1, 2, sortList(true)},
		"csv":      {1, 2, toCSV},
		// dates
		"date": {1, 4, dateFn},
		// math
		"add":          {2, -1, fold(func(a, b float64) (float64, error) { return a + b, nil })},
		"subtract":     {2, -1, fold(func(a, b float64) (float64, error) { return a - b, nil })},
		"multiply":     {2, -1, fold(func(a, b float64) (float64, error) { return a * b, nil })},
		"divide":       {2, -1, fold(divide)},
		"mod":          {2, 2, fold(mod)},
		"round":        {1, 2, round},
		"max":          {1, -1, extreme(func(a, b float64) bool { return a > b })},
		"min":          {1, -1, extreme(func(a, b float64) bool { return a < b })},
		"randomnumber": {2, 2, randomNumber},
		// other
		"if":                    {2, 3, nil}, // evaluated lazily by evalIf
		"map":                   {2, 2, mapField},
		"object":                {0, -1, object},
		"removeemptyproperties": {1, 1, removeEmpty},
		"jobguid":               {0, 0, func(env Env, _ []any) (any, error) { return env.RunID(), nil }},
		"randomtext":            {0, 1, randomText},
	}
}

func evalCall(c *call, env Env) (any, error) {
	f := functions[c.name]
	if len(c.args) < f.min || (f.max >= 0 && len(c.args) > f.max) {
		want := fmt.Sprintf("%d", f.min)
		switch {
		case f.max < 0:
			want = fmt.Sprintf("at least %d", f.min)
		case f.max != f.min:
			want = fmt.Sprintf("%d to %d", f.min, f.max)
		}
		return nil, &Error{Pos: c.pos, Msg: fmt.Sprintf("%s takes %s arguments, got %d", c.name, want, len(c.args))}
	}
	if c.name == "if" {
		return evalIf(c, env)
	}
	args := make([]any, len(c.args))
	for i, a := range c.args {
		v, err := evalArg(a, env)
		if err != nil {
			return nil, err
		}
		args[i] = v
	}
	v, err := f.call(env, args)
	if err != nil {
		return nil, &Error{Pos: c.pos, Msg: c.name + ": " + err.Error()}
	}
	return v, nil
}

func text1(f func(string) string) func(Env, []any) (any, error) {
	return func(_ Env, a []any) (any, error) { return f(String(a[0])), nil }
}

func trimWith(withChars func(string, string) string, spaces func(string) string) func(Env, []any) (any, error) {
	return func(_ Env, a []any) (any, error) {
		if len(a) == 2 {
			return withChars(String(a[0]), String(a[1])), nil
		}
		return spaces(String(a[0])), nil
	}
}

func capitalize(s string) string {
	words := strings.Fields(strings.ToLower(s))
	for i, w := range words {
		r := []rune(w)
		r[0] = unicode.ToUpper(r[0])
		words[i] = string(r)
	}
	return strings.Join(words, " ")
}

// maxRegexLength keeps hostile patterns small; Go's RE2 is linear-time.
const maxRegexLength = 1000

func compileRegex(pattern string) (*regexp.Regexp, error) {
	if len(pattern) > maxRegexLength {
		return nil, fmt.Errorf("pattern longer than %d bytes", maxRegexLength)
	}
	// Accept PHP-style delimiters: /pattern/flags.
	if len(pattern) >= 2 && pattern[0] == '/' {
		if end := strings.LastIndexByte(pattern, '/'); end > 0 {
			flags := pattern[end+1:]
			pattern = pattern[1:end]
			if strings.ContainsAny(flags, "imsU") {
				pattern = "(?" + strings.Map(func(r rune) rune {
					if strings.ContainsRune("imsU", r) {
						return r
					}
					return -1
				}, flags) + ")" + pattern
			}
		}
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("bad regular expression: %v", err)
	}
	return re, nil
}

// regexParse returns the first match, or its first group when it has one.
func regexParse(_ Env, a []any) (any, error) {
	re, err := compileRegex(String(a[1]))
	if err != nil {
		return nil, err
	}
	m := re.FindStringSubmatch(String(a[0]))
	switch {
	case m == nil:
		return "", nil
	case len(m) > 1:
		return m[1], nil
	}
	return m[0], nil
}

func regexParseAll(_ Env, a []any) (any, error) {
	re, err := compileRegex(String(a[1]))
	if err != nil {
		return nil, err
	}
	out := []any{}
	for _, m := range re.FindAllStringSubmatch(String(a[0]), -1) {
		if len(m) > 1 {
			out = append(out, m[1])
		} else {
			out = append(out, m[0])
		}
	}
	return out, nil
}

func explode(_ Env, a []any) (any, error) {
	sep := String(a[1])
	if sep == "" {
		return nil, fmt.Errorf("the delimiter is empty")
	}
	parts := strings.Split(String(a[0]), sep)
	out := make([]any, len(parts))
	for i, p := range parts {
		out[i] = p
	}
	return out, nil
}

func base64Decode(_ Env, a []any) (any, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(String(a[0])))
	if err != nil {
		return nil, fmt.Errorf("not base64")
	}
	return string(b), nil
}

func count(_ Env, a []any) (any, error) {
	switch v := a[0].(type) {
	case []any:
		return float64(len(v)), nil
	case map[string]any:
		return float64(len(v)), nil
	case nil:
		return float64(0), nil
	case string:
		if v == "" {
			return float64(0), nil
		}
	}
	return float64(1), nil
}

func getKeys(_ Env, a []any) (any, error) {
	m, ok := a[0].(map[string]any)
	if !ok {
		return []any{}, nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys) // Go maps have no order; sorted keys are stable
	out := make([]any, len(keys))
	for i, k := range keys {
		out[i] = k
	}
	return out, nil
}

func asList(v any) []any {
	switch v := v.(type) {
	case []any:
		return v
	case nil:
		return nil
	}
	return []any{v}
}

func implode(_ Env, a []any) (any, error) {
	sep := ","
	if len(a) == 2 {
		sep = String(a[1])
	}
	items := asList(a[0])
	parts := make([]string, len(items))
	for i, it := range items {
		parts[i] = String(it)
	}
	return strings.Join(parts, sep), nil
}

// compareValues orders numbers numerically and everything else as text.
func compareValues(x, y any) int {
	fx, okx := Number(x)
	fy, oky := Number(y)
	if okx && oky {
		switch {
		case fx < fy:
			return -1
		case fx > fy:
			return 1
		}
		return 0
	}
	return strings.Compare(String(x), String(y))
}

func sortList(desc bool) func(Env, []any) (any, error) {
	return func(_ Env, a []any) (any, error) {
		items := slices.Clone(asList(a[0]))
		key := ""
		if len(a) == 2 {
			key = String(a[1])
		}
		val := func(v any) any {
			if key == "" {
				return v
			}
			if m, ok := v.(map[string]any); ok {
				return m[key]
			}
			return nil
		}
		slices.SortStableFunc(items, func(x, y any) int {
			c := compareValues(val(x), val(y))
			if desc {
				return -c
			}
			return c
		})
		if items == nil {
			items = []any{}
		}
		return items, nil
	}
}

// toCSV writes a list of objects (header from the first item's keys, in
// sorted order) or a list of values as CSV text.
func toCSV(_ Env, a []any) (any, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if len(a) == 2 {
		if d := []rune(String(a[1])); len(d) == 1 {
			w.Comma = d[0]
		}
	}
	items := asList(a[0])
	if len(items) > 0 {
		if first, ok := items[0].(map[string]any); ok {
			keys := make([]string, 0, len(first))
			for k := range first {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			w.Write(keys)
			for _, it := range items {
				m, _ := it.(map[string]any)
				row := make([]string, len(keys))
				for i, k := range keys {
					row[i] = String(m[k])
				}
				w.Write(row)
			}
		} else {
			for _, it := range items {
				w.Write([]string{String(it)})
			}
		}
	}
	w.Flush()
	return strings.TrimRight(buf.String(), "\n"), w.Error()
}

func numbers(a []any) ([]float64, error) {
	var out []float64
	for _, v := range a {
		for _, it := range asList(v) {
			f, ok := Number(it)
			if !ok {
				return nil, fmt.Errorf("%q is not a number", String(it))
			}
			out = append(out, f)
		}
	}
	return out, nil
}

func fold(op func(a, b float64) (float64, error)) func(Env, []any) (any, error) {
	return func(_ Env, a []any) (any, error) {
		ns, err := numbers(a)
		if err != nil {
			return nil, err
		}
		if len(ns) == 0 {
			return float64(0), nil
		}
		acc := ns[0]
		for _, n := range ns[1:] {
			if acc, err = op(acc, n); err != nil {
				return nil, err
			}
		}
		return acc, nil
	}
}

func divide(a, b float64) (float64, error) {
	if b == 0 {
		return 0, fmt.Errorf("division by zero")
	}
	return a / b, nil
}

func mod(a, b float64) (float64, error) {
	if b == 0 {
		return 0, fmt.Errorf("modulo by zero")
	}
	return math.Mod(a, b), nil
}

func round(_ Env, a []any) (any, error) {
	ns, err := numbers(a[:1])
	if err != nil || len(ns) != 1 {
		return nil, fmt.Errorf("%q is not a number", String(a[0]))
	}
	places := 0.0
	if len(a) == 2 {
		p, ok := Number(a[1])
		if !ok || p < 0 || p > 15 {
			return nil, fmt.Errorf("decimals must be 0 to 15")
		}
		places = math.Trunc(p)
	}
	scale := math.Pow(10, places)
	return math.Round(ns[0]*scale) / scale, nil
}

func extreme(better func(a, b float64) bool) func(Env, []any) (any, error) {
	return func(_ Env, a []any) (any, error) {
		ns, err := numbers(a)
		if err != nil {
			return nil, err
		}
		if len(ns) == 0 {
			return nil, nil
		}
		best := ns[0]
		for _, n := range ns[1:] {
			if better(n, best) {
				best = n
			}
		}
		return best, nil
	}
}

func randomNumber(_ Env, a []any) (any, error) {
	lo, ok1 := Number(a[0])
	hi, ok2 := Number(a[1])
	if !ok1 || !ok2 || hi < lo || hi-lo > 1<<53 {
		return nil, fmt.Errorf("takes two numbers, the lower first")
	}
	l, h := int64(math.Ceil(lo)), int64(math.Floor(hi))
	if h < l {
		return nil, fmt.Errorf("no whole number between %v and %v", lo, hi)
	}
	return float64(l + rand.Int64N(h-l+1)), nil
}

// mapField reads one field of every object of a list.
func mapField(_ Env, a []any) (any, error) {
	key := String(a[1])
	items := asList(a[0])
	out := make([]any, len(items))
	for i, it := range items {
		if m, ok := it.(map[string]any); ok {
			out[i] = m[key]
		}
	}
	return out, nil
}

func object(_ Env, a []any) (any, error) {
	if len(a)%2 != 0 {
		return nil, fmt.Errorf("takes key, value pairs")
	}
	m := make(map[string]any, len(a)/2)
	for i := 0; i < len(a); i += 2 {
		m[String(a[i])] = a[i+1]
	}
	return m, nil
}

func isEmpty(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case string:
		return v == ""
	case []any:
		return len(v) == 0
	case map[string]any:
		return len(v) == 0
	}
	return false
}

func removeEmpty(_ Env, a []any) (any, error) {
	m, ok := a[0].(map[string]any)
	if !ok {
		return a[0], nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		if sub, ok := v.(map[string]any); ok {
			cleaned, _ := removeEmpty(nil, []any{sub})
			v = cleaned
		}
		if !isEmpty(v) {
			out[k] = v
		}
	}
	return out, nil
}

const randomAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func randomText(_ Env, a []any) (any, error) {
	n := 10.0
	if len(a) == 1 {
		var ok bool
		if n, ok = Number(a[0]); !ok || n < 0 || n > 10_000 {
			return nil, fmt.Errorf("length must be 0 to 10000")
		}
	}
	b := make([]byte, int(n))
	for i := range b {
		b[i] = randomAlphabet[rand.IntN(len(randomAlphabet))]
	}
	return string(b), nil
}

// ifOperators are tried longest first.
var ifOperators = []string{">=", "<=", "!=", "==", "=", ">", "<"}

// evalIf evaluates {if: a op b, then[, else]}: only the branch taken is
// evaluated.
func evalIf(c *call, env Env) (any, error) {
	cond := c.args[0]
	var holds bool
	if left, op, right, ok := splitCondition(cond); ok {
		l, err := evalArg(left, env)
		if err != nil {
			return nil, err
		}
		r, err := evalArg(right, env)
		if err != nil {
			return nil, err
		}
		holds, err = Compare(l, op, r)
		if err != nil {
			return nil, &Error{Pos: cond.pos, Msg: err.Error()}
		}
	} else {
		v, err := evalArg(cond, env)
		if err != nil {
			return nil, err
		}
		holds = Truthy(v)
	}
	switch {
	case holds:
		return evalArg(c.args[1], env)
	case len(c.args) == 3:
		return evalArg(c.args[2], env)
	}
	return "", nil
}

// splitCondition finds the first comparison operator in the bare text of
// an argument and splits the argument around it.
func splitCondition(a arg) (left arg, op string, right arg, ok bool) {
	for i, t := range a.terms {
		tx, isText := t.(text)
		if !isText {
			continue
		}
		s := string(tx)
		for j := 0; j < len(s); j++ {
			for _, o := range ifOperators {
				if strings.HasPrefix(s[j:], o) {
					left = arg{pos: a.pos, terms: append(slices.Clone(a.terms[:i]), text(s[:j]))}
					right = arg{pos: a.pos, terms: append([]node{text(s[j+len(o):])}, a.terms[i+1:]...)}
					trimBare(&left)
					trimBare(&right)
					if o == "==" {
						o = "="
					}
					return left, o, right, true
				}
			}
		}
	}
	return a, "", a, false
}
