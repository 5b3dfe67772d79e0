package engine

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// RenderDebugLog writes the text debug log of a run from its journal: one
// entry per executed block with its input and output. Censored blocks show
// neither.
func RenderDebugLog(w io.Writer, entries []Entry) error {
	for _, e := range entries {
		var sb strings.Builder
		fmt.Fprintf(&sb, "#%d %s %s (%s, %s)", e.Seq, e.Start.UTC().Format(time.RFC3339Nano), e.Name, e.Type, e.BlockID)
		if len(e.LoopPath) > 0 {
			parts := make([]string, len(e.LoopPath))
			for i, p := range e.LoopPath {
				parts[i] = strconv.Itoa(p)
			}
			sb.WriteString(" loop " + strings.Join(parts, "."))
		}
		fmt.Fprintf(&sb, " %s\n", e.Stop.Sub(e.Start).Round(time.Microsecond))
		if e.Censored {
			sb.WriteString("  input: (censored)\n  output: (censored)\n")
		} else {
			sb.WriteString("  input: " + compactJSON(e.Inputs) + "\n")
			sb.WriteString("  output: " + compactJSON(e.Output) + "\n")
		}
		if e.Error != "" {
			sb.WriteString("  error: " + e.Error + "\n")
		}
		if _, err := io.WriteString(w, sb.String()); err != nil {
			return err
		}
	}
	return nil
}

func compactJSON(v any) string {
	if v == nil {
		return "null"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
