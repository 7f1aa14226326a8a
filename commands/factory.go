package commands

import (
	"context"
	"io"
	"os"
	"os/user"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/b2badmin/b2badmin/client"
	"github.com/b2badmin/b2badmin/output"
)

// IOStreams are the command's standard streams and what they are attached
// to. Tests set the TTY flags to exercise the interactive paths.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	InTTY  bool
	OutTTY bool
	ErrTTY bool
}

// SystemStreams are the process's own streams.
func SystemStreams() *IOStreams {
	return &IOStreams{
		In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr,
		InTTY:  term.IsTerminal(int(os.Stdin.Fd())),
		OutTTY: term.IsTerminal(int(os.Stdout.Fd())),
		ErrTTY: term.IsTerminal(int(os.Stderr.Fd())),
	}
}

// GlobalOptions are the root command's persistent flags. A fresh value is
// bound for every command tree (every batch line gets its own).
type GlobalOptions struct {
	DSN       string
	ReadDSN   string
	Profile   string
	Config    string
	Output    string
	Columns   []string
	NoHeaders bool
	Debug     bool
	Actor     string
	Timeout   time.Duration
	ReadOnly  bool
}

// BatchLine is set while a batch runs one of its lines.
type BatchLine struct {
	ID   string // uuid of the batch run
	File string
	Line int
	// Confirmed: inside a batch the file is the confirmation.
	Confirmed bool
}

// Factory carries what commands need: streams, environment, configuration,
// and a lazily opened client that every command of a batch shares.
type Factory struct {
	IO     *IOStreams
	Getenv func(string) string
	// Args is the command line being run (for the operation log).
	Args []string
	// Batch is non-nil while a batch line runs.
	Batch *BatchLine

	mu     sync.Mutex
	client *client.Client
	// readClient is the replica (--read-dsn / a profile's read_dsn), opened once.
	readClient *client.Client
	global     *GlobalOptions
	config     *Config
	profile    *Profile
	clientFor  func(ctx context.Context, o client.Options) (*client.Client, error)
	// shared is set by batch: every line runs on this client (a pool or a
	// transaction) and Close leaves it open.
	shared *client.Client
}

// NewFactory builds a factory on the given streams.
func NewFactory(io *IOStreams, getenv func(string) string) *Factory {
	if getenv == nil {
		getenv = os.Getenv
	}
	return &Factory{IO: io, Getenv: getenv, clientFor: client.Connect}
}

// Global returns the options of the tree being executed.
func (f *Factory) Global() *GlobalOptions {
	if f.global == nil {
		f.global = &GlobalOptions{}
	}
	return f.global
}

// UseClient makes every later command run on c (batch uses it).
func (f *Factory) UseClient(c *client.Client) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.shared = c
}

// Client connects once (per process or batch) and returns the service layer.
func (f *Factory) Client(ctx context.Context) (*client.Client, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.shared != nil {
		return f.shared, nil
	}
	if f.client != nil {
		return f.client, nil
	}
	o, err := f.connectOptions(false)
	if err != nil {
		return nil, err
	}
	c, err := f.clientFor(ctx, o)
	if err != nil {
		return nil, err
	}
	f.client = c
	return c, nil
}

// ReadClient is for read-only commands (list, show, audit, log): it uses the
// profile's or --read-dsn's replica when one is configured.
func (f *Factory) ReadClient(ctx context.Context) (*client.Client, error) {
	g := f.Global()
	readDSN := g.ReadDSN
	if readDSN == "" && f.profile != nil {
		readDSN = f.profile.ReadDSN
	}
	if readDSN == "" || f.shared != nil {
		return f.Client(ctx)
	}
	o, err := f.connectOptions(true)
	if err != nil {
		return nil, err
	}
	o.DSN, o.ReadOnly = readDSN, true
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.readClient == nil {
		c, err := f.clientFor(ctx, o)
		if err != nil {
			return nil, err
		}
		f.readClient = c
	}
	return f.readClient, nil
}

func (f *Factory) connectOptions(read bool) (client.Options, error) {
	g := f.Global()
	dsnFlag := g.DSN
	if dsnFlag == "" && f.profile != nil {
		dsnFlag = f.profile.DSN
	}
	o := client.Options{
		DSN:      client.ResolveDSN(dsnFlag, f.Getenv),
		ReadOnly: f.ReadOnly(),
		// scale helper's hook: --timeout also bounds each statement server-side.
		StatementTimeout: g.Timeout,
	}
	if g.DSN == "" && f.profile != nil && f.profile.DSN != "" {
		o.DSN = f.profile.DSN
	}
	if g.Debug {
		o.Debug = f.IO.ErrOut
	}
	return o, nil
}

// ReadOnly reports whether mutations are refused (--read-only or a
// read_only profile).
func (f *Factory) ReadOnly() bool {
	return f.Global().ReadOnly || (f.profile != nil && f.profile.ReadOnly)
}

// Actor is who the operation log records: --actor, B2BADMIN_ACTOR, the
// profile's actor, else $USER@hostname.
func (f *Factory) Actor() string {
	if a := strings.TrimSpace(f.Global().Actor); a != "" {
		return a
	}
	if a := strings.TrimSpace(f.Getenv("B2BADMIN_ACTOR")); a != "" {
		return a
	}
	if f.profile != nil && f.profile.Actor != "" {
		return f.profile.Actor
	}
	u := f.Getenv("USER")
	if u == "" {
		// Cron jobs and containers often run without $USER.
		if cur, err := user.Current(); err == nil {
			u = cur.Username
		} else {
			u = "unknown"
		}
	}
	h, _ := os.Hostname()
	return u + "@" + h
}

// Audit is the operation-log context for a change made by this command.
func (f *Factory) Audit(reason string) client.Audit {
	a := client.Audit{Actor: f.Actor(), Command: RedactCommandLine(f.Args), Reason: reason}
	if f.Batch != nil {
		a.BatchID, a.BatchFile, a.BatchLine = f.Batch.ID, f.Batch.File, f.Batch.Line
	}
	return a
}

// OutputFormat is the parsed -o flag.
func (f *Factory) OutputFormat() (output.Format, error) {
	g := f.Global()
	if g.Output == "" {
		return output.Table, nil
	}
	fm, err := output.ParseFormat(g.Output)
	if err != nil {
		return "", usageError(err.Error())
	}
	return fm, nil
}

// OutputOptions are the rendering options of this run.
func (f *Factory) OutputOptions() output.Options {
	return output.Options{
		NoHeaders: f.Global().NoHeaders,
		TTY:       f.IO.OutTTY,
		NoColor:   f.Getenv("NO_COLOR") != "" || f.Getenv("TERM") == "dumb",
	}
}

// Close releases the connection this factory opened (not a shared one).
func (f *Factory) Close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range []**client.Client{&f.client, &f.readClient} {
		if *c != nil {
			(*c).Close()
			*c = nil
		}
	}
}

// RedactCommandLine drops password values from a command line before it is
// logged (--password=… and the word after --password). The tool never takes
// passwords from argv, but a mistyped line must not leak one into the log.
func RedactCommandLine(args []string) string {
	out := make([]string, 0, len(args)+1)
	out = append(out, "b2badmin")
	skip := false
	for _, a := range args {
		switch {
		case skip:
			out = append(out, "xxxxx")
			skip = false
		case a == "--password" || a == "--dsn" || a == "--read-dsn":
			out = append(out, a)
			skip = true
		case strings.HasPrefix(a, "--password="):
			out = append(out, "--password=xxxxx")
		case strings.HasPrefix(a, "--dsn=") || strings.HasPrefix(a, "--read-dsn="):
			out = append(out, client.RedactDSN(a))
		default:
			out = append(out, shellQuote(a))
		}
	}
	return strings.Join(out, " ")
}

func shellQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n'\"\\$`;&|<>*?()[]{}#~!") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// selectColumns parses -o and --columns against a command's columns; an
// unknown format or column is a usage error.
func (f *Factory) selectColumns(cols output.Columns) (output.Format, output.Projection, error) {
	fm, err := f.OutputFormat()
	if err != nil {
		return "", output.Projection{}, err
	}
	p, err := cols.Select(f.Global().Columns, fm)
	if err != nil {
		return "", output.Projection{}, usageError(err.Error())
	}
	return fm, p, nil
}
