package commands

import (
	"context"
	"fmt"
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
	// Width is the terminal's width when Out is one (0: unknown).
	Width int
}

// SystemStreams are the process's own streams.
func SystemStreams() *IOStreams {
	s := &IOStreams{
		In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr,
		InTTY:  term.IsTerminal(int(os.Stdin.Fd())),
		OutTTY: term.IsTerminal(int(os.Stdout.Fd())),
		ErrTTY: term.IsTerminal(int(os.Stderr.Fd())),
	}
	if s.OutTTY {
		if w, _, err := term.GetSize(int(os.Stdout.Fd())); err == nil {
			s.Width = w
		}
	}
	return s
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
	Raw       bool
	Debug     bool
	Actor     string
	Timeout   time.Duration
	ReadOnly  bool
	// LockTimeout is the session's lock_timeout (--lock-timeout, else the
	// profile's lock_timeout, else DefaultLockTimeout); LockTimeoutSet
	// says the flag was given.
	LockTimeout    time.Duration
	LockTimeoutSet bool
	JQ             string // --jq: filter the JSON output (output_setup.go)
	Quiet          bool   // --quiet: no notes on stderr
	NoPager        bool   // --no-pager
}

// BatchLine is set while a batch runs one of its lines.
type BatchLine struct {
	Run client.RunLine // the batch's run and this line
	// Confirmed: inside a batch the file is the confirmation.
	Confirmed bool
}

// Factory holds what is shared by every command line a process runs: the
// process's streams, its environment, the config file, and the lazily
// opened connections that every line of a batch reuses. Anything that
// differs from one command line to the next lives in an Invocation.
type Factory struct {
	IO     *IOStreams
	Getenv func(string) string
	// LookupEnv tells a variable set empty from one unset (B2BADMIN_PAGER=
	// turns the pager off); by default, set means non-empty.
	LookupEnv func(string) (string, bool)

	mu     sync.Mutex
	client *client.Client
	// readClient is the replica (--read-dsn / a profile's read_dsn), opened once.
	readClient *client.Client
	config     *Config
	clientFor  func(ctx context.Context, o client.Options) (*client.Client, error)
	// shared is set by batch: every line runs on this client (a pool or a
	// transaction) and Close leaves it open.
	shared *client.Client
	// targets memoises DescribeDSN: every change (every batch line) names
	// its target, and parsing a DSN costs more than many a line's work.
	targets map[string]string
	// held are the stderr streams waiting for their stdout (setupOutput):
	// a second signal's exit writes them out first.
	held map[*heldStream]bool
}

// holding records (or forgets) a held stderr.
func (f *Factory) holding(h *heldStream, on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !on {
		delete(f.held, h)
		return
	}
	if f.held == nil {
		f.held = map[*heldStream]bool{}
	}
	f.held[h] = true
}

// releaseHeld writes out every held stderr: the process is about to exit
// without finishing its commands.
func (f *Factory) releaseHeld() {
	f.mu.Lock()
	held := make([]*heldStream, 0, len(f.held))
	for h := range f.held {
		held = append(held, h)
	}
	f.mu.Unlock()
	for _, h := range held {
		h.release()
	}
}

// NewFactory builds a factory on the given streams.
func NewFactory(io *IOStreams, getenv func(string) string) *Factory {
	if getenv == nil {
		getenv = os.Getenv
	}
	lookup := func(k string) (string, bool) { v := getenv(k); return v, v != "" }
	return &Factory{IO: io, Getenv: getenv, LookupEnv: lookup, clientFor: client.Connect}
}

// Invocation is one command line being run: its streams (a batch line has
// no stdin and may write into a buffer), its global flags, its words, the
// profile it resolved and, inside a batch, which line it is. Every command
// tree is built on a fresh one, so a batch line never saves or restores
// anything.
type Invocation struct {
	*Factory
	IO      *IOStreams
	Global  *GlobalOptions
	Args    []string
	Batch   *BatchLine // nil outside a batch
	profile *Profile
	// quiet silences the notes a command writes about its work (batch
	// lines: the batch prints one summary).
	quiet bool
	// own is the client of a batch line running side by side with others
	// (its own view of the batch's transaction); nil: the Factory's.
	own *client.Client
	// withoutSelectors builds the tree without the selector flags (see
	// leanFirst): a batch line that uses none parses the same without them.
	withoutSelectors bool
}

// NewInvocation starts a command line on f's connections.
func (f *Factory) NewInvocation(streams *IOStreams, args []string, batch *BatchLine) *Invocation {
	return &Invocation{Factory: f, IO: streams, Global: &GlobalOptions{}, Args: args, Batch: batch, quiet: batch != nil}
}

// UseClient makes every later command run on c (batch uses it).
func (f *Factory) UseClient(c *client.Client) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.shared = c
}

// Client connects once (per process or batch) and returns the service layer.
func (inv *Invocation) Client(ctx context.Context) (*client.Client, error) {
	if inv.own != nil {
		return inv.own, nil
	}
	f := inv.Factory
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.shared != nil {
		return f.shared, nil
	}
	if f.client != nil {
		return f.client, nil
	}
	c, err := f.clientFor(ctx, inv.connectOptions())
	if err != nil {
		return nil, inv.connectHint(ctx, err)
	}
	f.client = c
	return c, nil
}

// ReadClient is for read-only commands (list, show, audit, log): it uses the
// profile's or --read-dsn's replica when one is configured.
func (inv *Invocation) ReadClient(ctx context.Context) (*client.Client, error) {
	if inv.own != nil {
		return inv.own, nil
	}
	readDSN := inv.Global.ReadDSN
	if readDSN == "" && inv.profile != nil {
		readDSN = inv.profile.ReadDSN
	}
	f := inv.Factory
	if readDSN == "" || f.shared != nil {
		return inv.Client(ctx)
	}
	o := inv.connectOptions()
	o.DSN, o.ReadOnly = readDSN, true
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.readClient == nil {
		c, err := f.clientFor(ctx, o)
		if err != nil {
			return nil, inv.connectHint(ctx, err)
		}
		f.readClient = c
	}
	return f.readClient, nil
}

func (inv *Invocation) connectOptions() client.Options {
	g := inv.Global
	dsn, _ := inv.resolvedDSN()
	o := client.Options{DSN: dsn, ReadOnly: inv.ReadOnly(), LockTimeout: inv.lockTimeout(),
		// scale helper's hook: --timeout also bounds each statement server-side.
		StatementTimeout: g.Timeout}
	if g.Debug {
		o.Debug = inv.IO.ErrOut
	}
	return o
}

// DefaultLockTimeout is how long a statement waits for another session's
// lock before it fails: an unattended job behind a forgotten open
// transaction fails clearly instead of hanging for ever.
const DefaultLockTimeout = 30 * time.Second

// lockTimeout is --lock-timeout, else the profile's lock_timeout, else
// the default (0 = wait as long as it takes).
func (inv *Invocation) lockTimeout() time.Duration {
	if inv.Global.LockTimeoutSet {
		return inv.Global.LockTimeout
	}
	if inv.profile != nil && inv.profile.lockTimeout != nil {
		return *inv.profile.lockTimeout
	}
	return DefaultLockTimeout
}

// resolvedDSN is the connection string and where it came from: --dsn,
// the profile's dsn, B2BADMIN_DSN, DATABASE_URL, else "" (pgx reads the
// libpq PG* variables). `config view` shows the source.
func (inv *Invocation) resolvedDSN() (string, string) {
	g := inv.Global
	switch {
	case strings.TrimSpace(g.DSN) != "":
		return g.DSN, "--dsn"
	case inv.profile != nil && inv.profile.DSN != "":
		return inv.profile.DSN, "profile " + inv.profile.Name
	}
	for _, k := range []string{"B2BADMIN_DSN", "DATABASE_URL"} {
		if v := inv.Getenv(k); strings.TrimSpace(v) != "" {
			return v, k
		}
	}
	return "", "PG* variables"
}

// ReadOnly reports whether mutations are refused (--read-only or a
// read_only profile).
func (inv *Invocation) ReadOnly() bool {
	return inv.Global.ReadOnly || (inv.profile != nil && inv.profile.ReadOnly)
}

// Target names the database a change goes to, for prompts and the run
// record: the profile when one is used, else host/database of the DSN.
func (inv *Invocation) Target() string {
	if inv.profile != nil && inv.profile.Name != "" {
		return "profile " + inv.profile.Name
	}
	dsn := inv.connectOptions().DSN
	f := inv.Factory
	f.mu.Lock()
	defer f.mu.Unlock()
	if t, ok := f.targets[dsn]; ok {
		return t
	}
	if f.targets == nil {
		f.targets = map[string]string{}
	}
	f.targets[dsn] = client.DescribeDSN(dsn)
	return f.targets[dsn]
}

// Actor is who the operation log records: --actor, B2BADMIN_ACTOR, the
// profile's actor, else $USER@hostname.
func (inv *Invocation) Actor() string {
	if a := strings.TrimSpace(inv.Global.Actor); a != "" {
		return a
	}
	if a := strings.TrimSpace(inv.Getenv("B2BADMIN_ACTOR")); a != "" {
		return a
	}
	if inv.profile != nil && inv.profile.Actor != "" {
		return inv.profile.Actor
	}
	u := inv.Getenv("USER")
	if u == "" {
		// Cron jobs and containers often run without $USER.
		if cur, err := user.Current(); err == nil {
			u = cur.Username
		} else {
			u = "unknown"
		}
	}
	return u + "@" + hostName()
}

// hostName is read once: every change of a batch line names its actor.
var hostName = sync.OnceValue(func() string {
	h, _ := os.Hostname()
	return h
})

// Audit is the operation-log context for a change made by this command.
func (inv *Invocation) Audit(reason string) client.Audit {
	a := client.Audit{Actor: inv.Actor(), Command: RedactCommandLine(inv.Args), Reason: reason, Target: inv.Target()}
	if inv.Batch != nil {
		run := inv.Batch.Run
		a.Run = &run
	}
	return a
}

// OutputFormat is the parsed -o flag.
func (inv *Invocation) OutputFormat() (output.Format, error) {
	g := inv.Global
	if g.Output == "" {
		return output.Table, nil
	}
	fm, err := output.ParseFormat(g.Output)
	if err != nil {
		return "", usageError(err.Error())
	}
	if fm == output.YAML {
		// Commands render JSON; setupOutput converts it (one shape, two syntaxes).
		return output.JSON, nil
	}
	return fm, nil
}

// OutputOptions are the rendering options of this run.
func (inv *Invocation) OutputOptions() output.Options {
	return output.Options{
		NoHeaders: inv.Global.NoHeaders,
		Raw:       inv.Global.Raw,
		TTY:       inv.IO.OutTTY,
		NoColor:   inv.Getenv("NO_COLOR") != "" || inv.Getenv("TERM") == "dumb",
		Width:     inv.terminalWidth(),
	}
}

// notef writes a note about the command's work to stderr, unless quiet.
func (inv *Invocation) notef(format string, args ...any) {
	if !inv.quiet {
		fmt.Fprintf(inv.IO.ErrOut, "b2badmin: "+format+"\n", args...)
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

// selectColumns parses -o and --columns against a command's columns; an
// unknown format or column is a usage error.
func (inv *Invocation) selectColumns(cols output.Columns) (output.Format, output.Projection, error) {
	fm, err := inv.OutputFormat()
	if err != nil {
		return "", output.Projection{}, err
	}
	p, err := cols.Select(inv.Global.Columns, fm)
	if err != nil {
		return "", output.Projection{}, usageError(err.Error())
	}
	return fm, p, nil
}
