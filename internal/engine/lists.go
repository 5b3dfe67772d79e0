package engine

import (
	"maps"
	"strings"

	"automate/internal/formula"
	"automate/internal/workspace"
)

// listBlock runs the list blocks. Those that evaluate something per item
// (FilterList, LookupItem, TransformList) expose the item as
// {$.<block name>.item} while they do. An iterable list block with a loop
// body then loops over its result.
func (e *Engine) listBlock(b *workspace.Block, in map[string]any) (any, error) {
	lv, err := e.input(b, "list", in)
	if err != nil {
		return nil, err
	}
	list := listOf(lv)
	var out any
	switch b.Type {
	case "FilterListBlock", "LookupItemBlock":
		kept := []any{}
		for i, it := range list {
			holds, err := e.perItem(b, i, it, func() (bool, error) {
				raw, _ := b.Input("conditions")
				c, err := e.resolve(raw)
				if err != nil {
					return false, err
				}
				return conditionGroup(c)
			})
			if err != nil {
				return nil, err
			}
			if holds {
				if b.Type == "LookupItemBlock" {
					return it, nil
				}
				kept = append(kept, it)
			}
		}
		if b.Type == "LookupItemBlock" {
			return nil, nil // nothing matched: the output is empty
		}
		out = kept
	case "LimitBlock":
		lim, err := e.input(b, "limit", in)
		if err != nil {
			return nil, err
		}
		n, ok := formula.Number(lim)
		if !ok || n < 0 {
			return nil, failf("limit %q is not a number", formula.String(lim))
		}
		out = list[:min(int(n), len(list))]
	case "DeduplicateListBlock":
		kv, err := e.input(b, "key", in)
		if err != nil {
			return nil, err
		}
		key, fold := formula.String(kv), truthySetting(b, "case_insensitive")
		seen := map[string]bool{}
		kept := []any{}
		for _, it := range list {
			k := identity(it, key, fold)
			if !seen[k] {
				seen[k] = true
				kept = append(kept, it)
			}
		}
		out = kept
	case "CompareListsBlock":
		l2, err := e.input(b, "list2", in)
		if err != nil {
			return nil, err
		}
		if l1, err := e.input(b, "list1", in); err != nil {
			return nil, err
		} else if l1 != nil {
			list = listOf(l1)
		}
		k1, k2, fold := b.SettingString("list1_unique_key"), b.SettingString("list2_unique_key"), truthySetting(b, "case_insensitive")
		in2 := map[string]bool{}
		for _, it := range listOf(l2) {
			in2[identity(it, k2, fold)] = true
		}
		diff := b.SettingString("compare_mode") == "diff"
		kept := []any{}
		for _, it := range list {
			if in2[identity(it, k1, fold)] != diff {
				kept = append(kept, it)
			}
		}
		out = kept
	case "MergeListsBlock":
		out, err = e.mergeLists(b, in)
		if err != nil {
			return nil, err
		}
	case "ReplaceFieldNamesBlock":
		mv, err := e.input(b, "mapping", in)
		if err != nil {
			return nil, err
		}
		keep := b.SettingString("keepOtherFields") == "keep"
		mapping := pairs(mv)
		res := make([]any, 0, len(list))
		for _, it := range list {
			m, _ := it.(map[string]any)
			n := map[string]any{}
			if keep {
				maps.Copy(n, m)
			}
			for _, kv := range mapping {
				if v, ok := m[kv[0]]; ok {
					delete(n, kv[0])
					n[kv[1]] = v
				}
			}
			res = append(res, n)
		}
		out = res
	case "TransformListBlock":
		raw, _ := b.Input("mapping")
		res := make([]any, 0, len(list))
		for i, it := range list {
			var obj map[string]any
			_, err := e.perItem(b, i, it, func() (bool, error) {
				mv, err := e.resolve(raw)
				if err != nil {
					return false, err
				}
				obj = map[string]any{}
				for _, entry := range listOf(mv) {
					if m, ok := entry.(map[string]any); ok && formula.String(m["key"]) != "" {
						obj[formula.String(m["key"])] = m["value"]
					}
				}
				return true, nil
			})
			if err != nil {
				return nil, err
			}
			res = append(res, obj)
		}
		out = res
	}
	return out, nil
}

// perItem exposes one item as the block's output while fn evaluates.
func (e *Engine) perItem(b *workspace.Block, i int, it any, fn func() (bool, error)) (bool, error) {
	e.state.Outputs[b.Name] = map[string]any{"item": it, "index": float64(i)}
	defer delete(e.state.Outputs, b.Name)
	return fn()
}

func truthySetting(b *workspace.Block, id string) bool {
	raw, ok := b.Setting(id)
	if !ok {
		return false
	}
	v, _ := decodeJSON(raw)
	return formula.Truthy(v)
}

// identity is what makes two items the same: one field, or the whole item.
func identity(it any, key string, fold bool) string {
	var v any = it
	if key != "" {
		m, _ := it.(map[string]any)
		v = m[key]
	}
	s := formula.String(v)
	if fold {
		s = strings.ToLower(s)
	}
	return s
}

// mergeLists joins list1 and list2. merge_strategy "merge" combines
// matching items (list1's fields win unless on_existing_item_key is
// keep_list2) and appends list2 items without a match; "set" nests the
// matching list2 items of every list1 item under children_key.
func (e *Engine) mergeLists(b *workspace.Block, in map[string]any) (any, error) {
	l1, err := e.input(b, "list1", in)
	if err != nil {
		return nil, err
	}
	l2, err := e.input(b, "list2", in)
	if err != nil {
		return nil, err
	}
	list1, list2 := listOf(l1), listOf(l2)
	if b.SettingString("merge_strategy") == "set" {
		k1, k2, children := b.SettingString("list1_key"), b.SettingString("list2_key"), b.SettingString("children_key")
		if children == "" {
			children = "children"
		}
		out := make([]any, 0, len(list1))
		for _, it := range list1 {
			m, _ := it.(map[string]any)
			n := maps.Clone(m)
			if n == nil {
				n = map[string]any{}
			}
			kids := []any{}
			for _, c := range list2 {
				if identity(c, k2, false) == identity(it, k1, false) {
					kids = append(kids, c)
				}
			}
			n[children] = kids
			out = append(out, n)
		}
		return out, nil
	}
	k1, k2 := b.SettingString("list1_unique_key"), b.SettingString("list2_unique_key")
	list2Wins := b.SettingString("on_existing_item_key") == "keep_list2"
	used := make([]bool, len(list2))
	out := make([]any, 0, len(list1)+len(list2))
	for _, it := range list1 {
		m, _ := it.(map[string]any)
		n := maps.Clone(m)
		if n == nil {
			n = map[string]any{}
		}
		for j, c := range list2 {
			if used[j] || identity(c, k2, false) != identity(it, k1, false) {
				continue
			}
			used[j] = true
			cm, _ := c.(map[string]any)
			for k, v := range cm {
				if _, exists := n[k]; !exists || list2Wins {
					n[k] = v
				}
			}
			break
		}
		out = append(out, n)
	}
	for j, c := range list2 {
		if !used[j] {
			out = append(out, c)
		}
	}
	return out, nil
}
