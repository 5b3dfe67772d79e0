// Command automate is a self-hosted server for Qlik Automate automations.
//
//	automate serve     run the HTTP API on the embedded database
//	automate migrate   apply database migrations and exit
//	automate token     print a signed JWT for a development user
//	automate validate  check a workspace file
//	automate run       run a workspace file locally
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signalContext()
	defer stop()
	if err := Main(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "automate:", err)
		os.Exit(1)
	}
}

// signalContext is cancelled by SIGINT or SIGTERM: the start of a graceful shutdown.
func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

const usage = `usage: automate <command> [flags]

commands:
  serve     run the HTTP API (flags: automate serve -h)
  migrate   apply database migrations and exit
  token     print a signed JWT for a development user
  apikey    apikey create --user U --roles R1,R2: make an API key (bootstrap an admin)
  validate  check a workspace file and print its problems
  run       run a workspace file locally and print its output and status
`

// Main runs one subcommand. It is main without the process: tests call it.
func Main(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("no command given")
	}
	switch args[0] {
	case "serve":
		return runServe(ctx, args[1:], getenv, stderr)
	case "migrate":
		return runMigrate(ctx, args[1:], getenv, stdout, stderr)
	case "token":
		return runToken(args[1:], getenv, stdout, stderr)
	case "apikey":
		return runAPIKey(ctx, args[1:], getenv, stdout, stderr)
	case "validate":
		return runValidate(args[1:], stdout, stderr)
	case "run":
		return runRun(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}
