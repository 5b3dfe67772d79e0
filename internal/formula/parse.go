// Package formula parses and evaluates the formulas inside Qlik Automate
// input values: literal text with {...} parts, references such as
// {$.block.a[0].b} and {$.list[*].name}, and nested function calls such as
// {uppercase: {$.name}} or {date: 'now', 'Y-m-d'}.
//
// Unlike Qlik's own parser, braces are only special where a formula can
// start ({$... or {name:...}); any other brace, and every brace inside
// quoted strings or inside data, is plain text.
package formula

import (
	"fmt"
	"strconv"
	"strings"
)

// MaxDepth bounds nesting, so that hostile input cannot exhaust the stack.
const MaxDepth = 64

// Error is a malformed formula, with the byte offset in the input value.
type Error struct {
	Pos int
	Msg string
}

func (e *Error) Error() string { return fmt.Sprintf("formula error at position %d: %s", e.Pos, e.Msg) }

// Template is a parsed input value.
type Template struct {
	parts []node
	// whole is set when the value is exactly one formula: it then keeps its
	// type (a list stays a list) instead of becoming text.
	whole bool
}

// IsLiteral reports whether the template holds no formula.
func (t *Template) IsLiteral() bool {
	for _, p := range t.parts {
		if _, ok := p.(text); !ok {
			return false
		}
	}
	return true
}

type node interface{ isNode() }

// text is literal text.
type text string

// ref is $.path: a root name then keys, indexes and [*].
type ref struct {
	pos  int
	path []seg
}

type seg struct {
	key   string
	index int
	kind  segKind
}

type segKind int

const (
	segKey segKind = iota
	segIndex
	segAll
)

// call is {name: args...}.
type call struct {
	pos  int
	name string
	args []arg
}

// arg is one argument: terms concatenated; a single term keeps its type.
type arg struct {
	pos   int
	terms []node
}

// str is a quoted string.
type str string

func (text) isNode()  {}
func (*ref) isNode()  {}
func (*call) isNode() {}
func (str) isNode()   {}
func (*arg) isNode()  {}

// Parse parses an input value.
func Parse(s string) (*Template, error) {
	p := &parser{s: s}
	t := &Template{}
	var lit strings.Builder
	for p.i < len(s) {
		c := s[p.i]
		if c == '{' && p.startsFormula() {
			if lit.Len() > 0 {
				t.parts = append(t.parts, text(lit.String()))
				lit.Reset()
			}
			n, err := p.formula(0)
			if err != nil {
				return nil, err
			}
			t.parts = append(t.parts, n)
			continue
		}
		lit.WriteByte(c)
		p.i++
	}
	if lit.Len() > 0 {
		t.parts = append(t.parts, text(lit.String()))
	}
	if len(t.parts) == 1 {
		_, isText := t.parts[0].(text)
		t.whole = !isText
	}
	return t, nil
}

type parser struct {
	s string
	i int
}

func (p *parser) errorf(pos int, format string, args ...any) error {
	return &Error{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

func isIdentByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// startsFormula reports whether the '{' at p.i opens a formula: "{$" or
// "{name:" or "{name}" for a known function (spaces allowed after '{').
func (p *parser) startsFormula() bool {
	j := p.i + 1
	for j < len(p.s) && p.s[j] == ' ' {
		j++
	}
	if j < len(p.s) && p.s[j] == '$' {
		return true
	}
	k := j
	for k < len(p.s) && isIdentByte(p.s[k]) {
		k++
	}
	if k == j {
		return false
	}
	name := strings.ToLower(p.s[j:k])
	for k < len(p.s) && p.s[k] == ' ' {
		k++
	}
	if k < len(p.s) && p.s[k] == ':' {
		return true
	}
	_, known := functions[name]
	return known && k < len(p.s) && p.s[k] == '}'
}

func (p *parser) skipSpace() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n' || p.s[p.i] == '\r') {
		p.i++
	}
}

// formula parses "{...}" at p.i.
func (p *parser) formula(depth int) (node, error) {
	open := p.i
	if depth >= MaxDepth {
		return nil, p.errorf(open, "formulas nest deeper than %d", MaxDepth)
	}
	p.i++ // '{'
	p.skipSpace()
	var n node
	if p.i < len(p.s) && p.s[p.i] == '$' {
		r, err := p.ref()
		if err != nil {
			return nil, err
		}
		n = r
	} else {
		start := p.i
		for p.i < len(p.s) && isIdentByte(p.s[p.i]) {
			p.i++
		}
		name := strings.ToLower(p.s[start:p.i])
		if _, ok := functions[name]; !ok {
			return nil, p.errorf(start, "unknown function %q", p.s[start:p.i])
		}
		c := &call{pos: start, name: name}
		p.skipSpace()
		if p.i < len(p.s) && p.s[p.i] == ':' {
			p.i++
			args, err := p.args(depth)
			if err != nil {
				return nil, err
			}
			c.args = args
		}
		n = c
	}
	p.skipSpace()
	if p.i >= len(p.s) || p.s[p.i] != '}' {
		return nil, p.errorf(open, `formula opened here is not closed with "}"`)
	}
	p.i++
	return n, nil
}

// ref parses "$.a.b[0][*].c" at p.i.
func (p *parser) ref() (*ref, error) {
	r := &ref{pos: p.i}
	p.i++ // '$'
	for p.i < len(p.s) {
		switch c := p.s[p.i]; {
		case c == '.':
			p.i++
			start := p.i
			for p.i < len(p.s) && !strings.ContainsRune(".[]{}, \t\n\r'\"", rune(p.s[p.i])) && !isOpByte(p.s[p.i]) {
				p.i++
			}
			if p.i == start {
				return nil, p.errorf(start, "expected a name after \".\"")
			}
			r.path = append(r.path, seg{kind: segKey, key: p.s[start:p.i]})
		case c == '[':
			end := strings.IndexByte(p.s[p.i:], ']')
			if end < 0 {
				return nil, p.errorf(p.i, `"[" is not closed with "]"`)
			}
			inner := strings.TrimSpace(p.s[p.i+1 : p.i+end])
			switch {
			case inner == "*":
				r.path = append(r.path, seg{kind: segAll})
			default:
				n, err := strconv.Atoi(inner)
				if err != nil {
					// ['key with spaces'] or ["key"]
					if len(inner) >= 2 && (inner[0] == '\'' || inner[0] == '"') && inner[len(inner)-1] == inner[0] {
						r.path = append(r.path, seg{kind: segKey, key: inner[1 : len(inner)-1]})
						break
					}
					return nil, p.errorf(p.i, "index %q is not a number, * or a quoted key", inner)
				}
				r.path = append(r.path, seg{kind: segIndex, index: n})
			}
			p.i += end + 1
		default:
			if len(r.path) == 0 {
				return nil, p.errorf(r.pos, `a reference starts with "$." and a name`)
			}
			return r, nil
		}
	}
	if len(r.path) == 0 {
		return nil, p.errorf(r.pos, `a reference starts with "$." and a name`)
	}
	return r, nil
}

func isOpByte(c byte) bool { return c == '=' || c == '!' || c == '<' || c == '>' }

// args parses "a, b, c" up to (not including) the closing '}'.
func (p *parser) args(depth int) ([]arg, error) {
	var args []arg
	for {
		a, err := p.arg(depth)
		if err != nil {
			return nil, err
		}
		args = append(args, a)
		if p.i < len(p.s) && p.s[p.i] == ',' {
			p.i++
			continue
		}
		if len(args) == 1 && len(args[0].terms) == 0 {
			return nil, nil // "{jobguid: }" has no arguments
		}
		return args, nil
	}
}

// arg parses one argument: quoted strings, references, nested formulas
// and bare text, up to a top-level ',' or '}'.
func (p *parser) arg(depth int) (arg, error) {
	p.skipSpace()
	a := arg{pos: p.i}
	var bare strings.Builder
	flush := func() {
		if s := bare.String(); s != "" {
			a.terms = append(a.terms, text(s))
			bare.Reset()
		}
	}
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == ',' || c == '}':
			flush()
			trimBare(&a)
			return a, nil
		case c == '\'' || c == '"':
			flush()
			s, err := p.quoted()
			if err != nil {
				return a, err
			}
			a.terms = append(a.terms, str(s))
		case c == '$' && p.i+1 < len(p.s) && p.s[p.i+1] == '.':
			flush()
			r, err := p.ref()
			if err != nil {
				return a, err
			}
			a.terms = append(a.terms, r)
		case c == '{':
			flush()
			if !p.startsFormula() {
				return a, p.errorf(p.i, `"{" in an argument must start a formula; quote it to use it as text`)
			}
			n, err := p.formula(depth + 1)
			if err != nil {
				return a, err
			}
			a.terms = append(a.terms, n)
		default:
			bare.WriteByte(c)
			p.i++
		}
	}
	return a, p.errorf(a.pos, `argument is not closed with "," or "}"`)
}

// trimBare drops the spaces around an argument: "{f: 'a' }" is 'a'.
func trimBare(a *arg) {
	if len(a.terms) == 0 {
		return
	}
	if t, ok := a.terms[0].(text); ok {
		a.terms[0] = text(strings.TrimLeft(string(t), " \t\r\n"))
	}
	last := len(a.terms) - 1
	if t, ok := a.terms[last].(text); ok {
		a.terms[last] = text(strings.TrimRight(string(t), " \t\r\n"))
	}
	kept := a.terms[:0]
	for _, t := range a.terms {
		if tt, ok := t.(text); ok && tt == "" {
			continue
		}
		kept = append(kept, t)
	}
	a.terms = kept
}

// quoted parses a '...' or "..." string with backslash escapes.
func (p *parser) quoted() (string, error) {
	q := p.s[p.i]
	start := p.i
	p.i++
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '\\' && p.i+1 < len(p.s) && (p.s[p.i+1] == q || p.s[p.i+1] == '\\'):
			// Only the quote and the backslash are escaped; any other
			// backslash is kept, so that date formats such as 'jS \o\f F' work.
			b.WriteByte(p.s[p.i+1])
			p.i += 2
		case c == q:
			p.i++
			return b.String(), nil
		default:
			b.WriteByte(c)
			p.i++
		}
	}
	return "", p.errorf(start, "string is not closed")
}
