// Package scim parses SCIM filter expressions (RFC 7644 §3.4.2.2) into a
// syntax tree. It checks grammar only; which attributes a filter may name
// is the caller's to decide.
package scim

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Limits that keep a hostile filter cheap to reject.
const (
	MaxLength = 4096
	MaxDepth  = 32
)

// Op is a comparison operator.
type Op string

// The comparison operators of SCIM.
const (
	Eq Op = "eq"
	Ne Op = "ne"
	Co Op = "co"
	Sw Op = "sw"
	Ew Op = "ew"
	Gt Op = "gt"
	Ge Op = "ge"
	Lt Op = "lt"
	Le Op = "le"
	Pr Op = "pr"
)

var compareOps = map[string]Op{"eq": Eq, "ne": Ne, "co": Co, "sw": Sw, "ew": Ew, "gt": Gt, "ge": Ge, "lt": Lt, "le": Le, "pr": Pr}

// ValueKind is the JSON type of a comparison value.
type ValueKind int

// The kinds of comparison value.
const (
	String ValueKind = iota
	Number
	Bool
	Null
)

// Value is a comparison value. Str holds a string's decoded text, a number's
// literal text, or "true"/"false"/"null".
type Value struct {
	Kind ValueKind
	Str  string
	Num  float64
}

// Expr is a node of a filter: *Compare, *Logical or *Not.
type Expr interface {
	String() string
}

// Compare is `attr op value`, or `attr pr` (Value is zero then).
type Compare struct {
	Attr  string
	Op    Op
	Value Value
}

// Logical is `left and right` or `left or right`.
type Logical struct {
	And         bool
	Left, Right Expr
}

// Not is `not (x)`.
type Not struct {
	X Expr
}

func (c *Compare) String() string {
	if c.Op == Pr {
		return c.Attr + " pr"
	}
	var v string
	switch c.Value.Kind {
	case String:
		b, _ := json.Marshal(c.Value.Str)
		v = string(b)
	default:
		v = c.Value.Str
	}
	return c.Attr + " " + string(c.Op) + " " + v
}

func (l *Logical) String() string {
	op := "or"
	if l.And {
		op = "and"
	}
	return "(" + l.Left.String() + " " + op + " " + l.Right.String() + ")"
}

func (n *Not) String() string { return "not (" + n.X.String() + ")" }

// Error is a syntax error at a byte offset of the filter.
type Error struct {
	Pos int
	Msg string
}

func (e *Error) Error() string { return fmt.Sprintf("at position %d: %s", e.Pos, e.Msg) }

// Parse parses a filter. The keywords and operators are case-insensitive;
// attribute names are returned as written.
func Parse(s string) (Expr, error) {
	if len(s) > MaxLength {
		return nil, &Error{Pos: MaxLength, Msg: fmt.Sprintf("filter is longer than %d bytes", MaxLength)}
	}
	toks, err := lex(s)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks, end: len(s)}
	e, err := p.or(0)
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, &Error{Pos: t.pos, Msg: fmt.Sprintf("unexpected %s", t.describe())}
	}
	return e, nil
}

type tokKind int

const (
	tEOF tokKind = iota
	tWord
	tString
	tLParen
	tRParen
	tLBracket
	tRBracket
)

type token struct {
	kind tokKind
	text string // word text, or decoded string
	pos  int
}

func (t token) describe() string {
	switch t.kind {
	case tEOF:
		return "end of filter"
	case tString:
		return "string"
	case tLParen:
		return `"("`
	case tRParen:
		return `")"`
	case tLBracket:
		return `"["`
	case tRBracket:
		return `"]"`
	}
	return strconv.Quote(t.text)
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '_' || c == '-' || c == '.' || c == ':' || c == '$' || c == '+'
}

func lex(s string) ([]token, error) {
	var toks []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(':
			toks = append(toks, token{kind: tLParen, pos: i})
			i++
		case c == ')':
			toks = append(toks, token{kind: tRParen, pos: i})
			i++
		case c == '[':
			toks = append(toks, token{kind: tLBracket, pos: i})
			i++
		case c == ']':
			toks = append(toks, token{kind: tRBracket, pos: i})
			i++
		case c == '"':
			j := i + 1
			for ; j < len(s) && s[j] != '"'; j++ {
				if s[j] == '\\' {
					j++
				}
			}
			if j >= len(s) {
				return nil, &Error{Pos: i, Msg: "unterminated string"}
			}
			var str string
			if err := json.Unmarshal([]byte(s[i:j+1]), &str); err != nil {
				return nil, &Error{Pos: i, Msg: "invalid string escape"}
			}
			toks = append(toks, token{kind: tString, text: str, pos: i})
			i = j + 1
		case isWordByte(c):
			j := i
			for j < len(s) && isWordByte(s[j]) {
				j++
			}
			toks = append(toks, token{kind: tWord, text: s[i:j], pos: i})
			i = j
		default:
			return nil, &Error{Pos: i, Msg: fmt.Sprintf("unexpected character %q", rune(c))}
		}
	}
	return toks, nil
}

type parser struct {
	toks []token
	i    int
	end  int
}

func (p *parser) peek() token {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return token{kind: tEOF, pos: p.end}
}

func (p *parser) next() token {
	t := p.peek()
	if p.i < len(p.toks) {
		p.i++
	}
	return t
}

func (p *parser) keyword(kw string) bool {
	t := p.peek()
	return t.kind == tWord && strings.EqualFold(t.text, kw)
}

func (p *parser) or(depth int) (Expr, error) {
	left, err := p.and(depth)
	if err != nil {
		return nil, err
	}
	for p.keyword("or") {
		p.next()
		right, err := p.and(depth)
		if err != nil {
			return nil, err
		}
		left = &Logical{Left: left, Right: right}
	}
	return left, nil
}

func (p *parser) and(depth int) (Expr, error) {
	left, err := p.unary(depth)
	if err != nil {
		return nil, err
	}
	for p.keyword("and") {
		p.next()
		right, err := p.unary(depth)
		if err != nil {
			return nil, err
		}
		left = &Logical{And: true, Left: left, Right: right}
	}
	return left, nil
}

func (p *parser) unary(depth int) (Expr, error) {
	if depth >= MaxDepth {
		return nil, &Error{Pos: p.peek().pos, Msg: fmt.Sprintf("filter nests deeper than %d", MaxDepth)}
	}
	if p.keyword("not") {
		notTok := p.next()
		if p.peek().kind != tLParen {
			return nil, &Error{Pos: notTok.pos, Msg: `"not" must be followed by "("`}
		}
		x, err := p.group(depth + 1)
		if err != nil {
			return nil, err
		}
		return &Not{X: x}, nil
	}
	if p.peek().kind == tLParen {
		return p.group(depth + 1)
	}
	return p.compare()
}

func (p *parser) group(depth int) (Expr, error) {
	p.next() // "("
	x, err := p.or(depth)
	if err != nil {
		return nil, err
	}
	if t := p.next(); t.kind != tRParen {
		return nil, &Error{Pos: t.pos, Msg: fmt.Sprintf(`expected ")", found %s`, t.describe())}
	}
	return x, nil
}

func (p *parser) compare() (Expr, error) {
	attr := p.next()
	if attr.kind != tWord || !isAttrName(attr.text) {
		return nil, &Error{Pos: attr.pos, Msg: fmt.Sprintf("expected an attribute name, found %s", attr.describe())}
	}
	if p.peek().kind == tLBracket {
		return nil, &Error{Pos: p.peek().pos, Msg: "value filters (attr[...]) are not supported"}
	}
	opTok := p.next()
	op, ok := compareOps[strings.ToLower(opTok.text)]
	if opTok.kind != tWord || !ok {
		return nil, &Error{Pos: opTok.pos, Msg: fmt.Sprintf("expected an operator (eq ne co sw ew gt ge lt le pr), found %s", opTok.describe())}
	}
	c := &Compare{Attr: attr.text, Op: op}
	if op == Pr {
		return c, nil
	}
	vt := p.next()
	switch vt.kind {
	case tString:
		c.Value = Value{Kind: String, Str: vt.text}
	case tWord:
		switch strings.ToLower(vt.text) {
		case "true", "false":
			c.Value = Value{Kind: Bool, Str: strings.ToLower(vt.text)}
		case "null":
			c.Value = Value{Kind: Null, Str: "null"}
		default:
			f, err := strconv.ParseFloat(vt.text, 64)
			if err != nil || !json.Valid([]byte(vt.text)) {
				return nil, &Error{Pos: vt.pos, Msg: fmt.Sprintf("expected a value (a quoted string, number, true, false or null), found %s", vt.describe())}
			}
			c.Value = Value{Kind: Number, Str: vt.text, Num: f}
		}
	default:
		return nil, &Error{Pos: vt.pos, Msg: fmt.Sprintf("expected a value after %q, found %s", op, vt.describe())}
	}
	return c, nil
}

// isAttrName accepts attrPath = [URI ":"] ATTRNAME *1subAttr, loosely: it
// must start with a letter and not end with a separator.
func isAttrName(s string) bool {
	if s == "" {
		return false
	}
	c := s[0]
	if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
		return false
	}
	last := s[len(s)-1]
	return last != '.' && last != ':' && last != '-' && last != '+'
}
