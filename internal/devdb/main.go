// Command devdb starts and stops the throwaway PostgreSQL behind `make demo`
// and `make bench`, using the same code as the tests (internal/pgtest).
//
//	devdb start DIR   initdb + start (or reuse a running one); prints the DSN
//	devdb dsn DIR     prints the DSN of the server running in DIR
//	devdb stop DIR    stops it and removes DIR
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/b2badmin/b2badmin/internal/pgtest"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: devdb start|dsn|stop DIR")
		os.Exit(2)
	}
	verb, dir := os.Args[1], os.Args[2]
	if err := run(verb, dir); err != nil {
		fmt.Fprintln(os.Stderr, "devdb: "+err.Error())
		os.Exit(1)
	}
}

func run(verb, dir string) error {
	switch verb {
	case "start":
		if s, err := pgtest.Load(dir); err == nil && s.Running() {
			note("PostgreSQL is already running in %s (port %d)", dir, s.Port)
			fmt.Println(s.DSN("b2badmin"))
			return nil
		}
		_ = os.RemoveAll(dir) // a stale directory from a crashed run
		note("creating and starting a PostgreSQL cluster in %s (initdb takes a few seconds)", dir)
		s, err := pgtest.Start(dir)
		if err != nil {
			return err
		}
		note("PostgreSQL is running on port %d", s.Port)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, s.DSN("postgres"))
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "CREATE DATABASE b2badmin"); err != nil {
			return err
		}
		fmt.Println(s.DSN("b2badmin"))
	case "dsn":
		s, err := pgtest.Load(dir)
		if err != nil || !s.Running() {
			return fmt.Errorf("no server running in %s (run make demo)", dir)
		}
		fmt.Println(s.DSN("b2badmin"))
	case "stop":
		s, err := pgtest.Load(dir)
		if err != nil {
			note("no demo server in %s: nothing to stop", dir)
			return nil
		}
		note("stopping PostgreSQL in %s (port %d) and removing it", dir, s.Port)
		if err := s.Stop(); err != nil {
			return err
		}
		s.WaitGone(10 * time.Second)
	default:
		return fmt.Errorf("unknown verb %q", verb)
	}
	return nil
}

// note says on stderr what a long, otherwise silent step is doing (stdout
// carries the DSN for make).
func note(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "demo: "+format+"\n", a...)
}
