package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"automate/internal/engine"
	"automate/internal/workspace"
)

// errRunNotFinished makes `automate run` exit 1 when the run did not finish.
var errRunNotFinished = errors.New("the run did not finish")

// runRun runs a workspace file locally, without a server.
func runRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("run", stderr)
	input := fs.String("input", "", "JSON given to the StartBlock (what a webhook or API call would send)")
	asJSON := fs.Bool("json", false, "print one JSON object with status, title, output, error and metrics")
	runContext := fs.String("context", "api", "run context, e.g. api or test_run (test_run processes a few list items only)")
	// Go's flag package stops at the first non-flag; let FILE stand anywhere.
	var files []string
	for {
		if err := fs.Parse(args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(files) != 1 {
		fmt.Fprintln(stderr, "usage: automate run FILE [--input JSON] [--json]")
		return errors.New("run takes one workspace file")
	}
	raw, err := os.ReadFile(files[0])
	if err != nil {
		return err
	}
	ws, err := workspace.Parse(unwrapAutomation(raw))
	if err != nil {
		return err
	}
	var inputs any = map[string]any{}
	if *input != "" {
		if err := json.Unmarshal([]byte(*input), &inputs); err != nil {
			return fmt.Errorf("--input is not JSON: %w", err)
		}
	}
	res, err := engine.New(ws, engine.Options{RunID: "local", Context: *runContext, Inputs: inputs}).Run(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return err
		}
	} else {
		for _, o := range res.Output {
			b, _ := json.Marshal(o)
			fmt.Fprintln(stdout, string(b))
		}
		fmt.Fprintf(stdout, "status: %s\n", res.Status)
		if res.Title != "" {
			fmt.Fprintf(stdout, "title: %s\n", res.Title)
		}
		for _, e := range res.Errors {
			fmt.Fprintf(stdout, "%s: block %q: %s\n", e.Level, e.Name, e.Message)
		}
	}
	if res.Status != engine.StatusFinished && res.Status != engine.StatusFinishedWithWarnings {
		return fmt.Errorf("%w: %s", errRunNotFinished, res.Status)
	}
	return nil
}
