package formula

import (
	"fmt"
	"net/mail"
	"regexp"
	"strings"
)

// Operators are the condition operators of IfElseBlock, FilterListBlock
// and {if: ...}.
var Operators = []string{"=", "!=", ">", ">=", "<", "<=", "empty", "notEmpty", "contain", "doesntContain",
	"inList", "notInList", "isText", "isNotText", "isNumber", "isNotNumber", "isObject", "isNotObject",
	"isList", "isNotList", "isEmail", "isNotEmail", "isPhone", "isNotPhone", "isTrue", "isFalse"}

var phonePattern = regexp.MustCompile(`^\+?[0-9][0-9 ()./-]{5,20}[0-9]$`)

// Compare applies a condition operator. Numbers compare as numbers when
// both sides are numeric, everything else as text.
func Compare(a any, op string, b any) (bool, error) {
	switch op {
	case "=":
		return equal(a, b), nil
	case "!=":
		return !equal(a, b), nil
	case ">":
		return compareValues(a, b) > 0, nil
	case ">=":
		return compareValues(a, b) >= 0, nil
	case "<":
		return compareValues(a, b) < 0, nil
	case "<=":
		return compareValues(a, b) <= 0, nil
	case "empty":
		return isEmpty(a), nil
	case "notEmpty":
		return !isEmpty(a), nil
	case "contain":
		return contains(a, b), nil
	case "doesntContain":
		return !contains(a, b), nil
	case "inList":
		return inList(a, b), nil
	case "notInList":
		return !inList(a, b), nil
	case "isText", "isNotText":
		_, isStr := a.(string)
		_, isNum := Number(a)
		return (isStr && !isNum) == (op == "isText"), nil
	case "isNumber", "isNotNumber":
		_, isNum := Number(a)
		_, isBool := a.(bool)
		return (isNum && !isBool) == (op == "isNumber"), nil
	case "isObject", "isNotObject":
		_, ok := a.(map[string]any)
		return ok == (op == "isObject"), nil
	case "isList", "isNotList":
		_, ok := a.([]any)
		return ok == (op == "isList"), nil
	case "isEmail", "isNotEmail":
		s := String(a)
		addr, err := mail.ParseAddress(s)
		ok := err == nil && addr.Address == s && strings.Contains(s[strings.LastIndexByte(s, '@'):], ".")
		return ok == (op == "isEmail"), nil
	case "isPhone", "isNotPhone":
		return phonePattern.MatchString(strings.TrimSpace(String(a))) == (op == "isPhone"), nil
	case "isTrue":
		return isTrue(a), nil
	case "isFalse":
		return !isTrue(a), nil
	}
	return false, fmt.Errorf("unknown operator %q", op)
}

func isTrue(v any) bool {
	switch v := v.(type) {
	case bool:
		return v
	case string:
		s := strings.ToLower(strings.TrimSpace(v))
		return s == "true" || s == "1" || s == "yes"
	}
	f, ok := Number(v)
	return ok && f == 1
}

func equal(a, b any) bool {
	fa, oka := Number(a)
	fb, okb := Number(b)
	if oka && okb {
		return fa == fb
	}
	return String(a) == String(b)
}

func contains(a, b any) bool {
	if l, ok := a.([]any); ok {
		return inList(b, l)
	}
	return strings.Contains(String(a), String(b))
}

// inList: b is a list, or text with comma-separated items.
func inList(a, b any) bool {
	var items []any
	switch l := b.(type) {
	case []any:
		items = l
	default:
		for _, s := range strings.Split(String(b), ",") {
			items = append(items, strings.TrimSpace(s))
		}
	}
	for _, it := range items {
		if equal(a, it) {
			return true
		}
	}
	return false
}
