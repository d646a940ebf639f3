// Command ferretdb-server runs FerretDB 1.x, embedded, on its SQLite backend: a MongoDB
// wire-protocol server for the tests, with no database process of its own.
//
//	ferretdb-server -dir /tmp/x [-listen 127.0.0.1:0]
//
// It prints the server's URI (mongodb://127.0.0.1:PORT/) on one line of standard output once
// it accepts connections, and stops on SIGINT or SIGTERM, or when its standard input closes,
// so that a test run that dies never leaves a server behind.
//
// FerretDB 1.x runs a conditional update (findAndModify, update with a filter, $inc) as a read
// followed by a separate write: two concurrent clients can both match the same precondition,
// where MongoDB applies each single-document update atomically. Clients therefore reach
// FerretDB through serialize.go, which runs one command at a time (docs/mongodb.md).
//
// Built by scripts/test-setup.sh; started by test/support/ferretdb.ts. An own main package,
// rather than `go install .../cmd/ferretdb`, because that command refuses to start when built
// outside FerretDB's repository (no build/version/version.txt in the module).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	dir := flag.String("dir", "", "directory of the SQLite databases (required)")
	listen := flag.String("listen", "127.0.0.1:0", "TCP address to listen on; port 0 picks a free one")
	logLevel := flag.String("log-level", "error", "debug, info, warn or error")
	flag.Parse()
	if *dir == "" {
		fmt.Fprintln(os.Stderr, "ferretdb-server: -dir is required")
		os.Exit(2)
	}
	abs, err := filepath.Abs(*dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ferretdb-server:", err)
		os.Exit(2)
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintln(os.Stderr, "ferretdb-server:", err)
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		// EOF on stdin: the parent is gone.
		_, _ = io.Copy(io.Discard, os.Stdin)
		stop()
	}()

	front, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ferretdb-server:", err)
		os.Exit(1)
	}
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: "127.0.0.1:0"},
		Logger:    slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})),
		Handler:   "sqlite",
		SQLiteURL: "file:" + abs + "/",
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "ferretdb-server:", err)
		os.Exit(1)
	}
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	// FerretDB's listener is bound once New returns.
	backend, err := url.Parse(f.MongoDBURI())
	if err != nil {
		fmt.Fprintln(os.Stderr, "ferretdb-server:", err)
		os.Exit(1)
	}
	go serialize(ctx, front, backend.Host)
	fmt.Printf("mongodb://%s/\n", front.Addr().String())
	if err := <-done; err != nil {
		fmt.Fprintln(os.Stderr, "ferretdb-server:", err)
		os.Exit(1)
	}
}
