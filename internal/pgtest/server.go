// Package pgtest runs a throwaway PostgreSQL server from the system's
// binaries. The tests, `make demo` and `make bench` all use it, so there is
// one way to get a database on a fresh machine.
package pgtest

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Server is one running throwaway cluster.
type Server struct {
	Dir      string // holds data/, sock/, the log and the state file
	BinDir   string
	Port     int
	Password string // of the "postgres" superuser, for TCP logins
	owner    *syscall.Credential
	settings []string
}

// FindBinDir locates initdb and pg_ctl: first on PATH, then under
// /usr/lib/postgresql/*/bin, newest major version first.
func FindBinDir() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if _, err := exec.LookPath("pg_ctl"); err == nil {
			// Through symlinks (/usr/local/bin/initdb → …/15/bin/initdb):
			// the real directory also holds pg_basebackup and psql.
			if real, err := filepath.EvalSymlinks(p); err == nil {
				p = real
			}
			return filepath.Dir(p), nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return majorOf(dirs[i]) > majorOf(dirs[j]) })
	for _, d := range dirs {
		if isExec(filepath.Join(d, "initdb")) && isExec(filepath.Join(d, "pg_ctl")) && isExec(filepath.Join(d, "postgres")) {
			return d, nil
		}
	}
	return "", errors.New("no PostgreSQL server binaries (initdb, pg_ctl) on PATH or under /usr/lib/postgresql/*/bin; install the Debian package postgresql (apt-get install postgresql)")
}

func majorOf(binDir string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(binDir)), 64)
	return v
}

func isExec(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

// Start initialises a cluster in dir (a new temporary directory when dir is
// "") and starts it on a unix socket in dir/sock and a free loopback port.
// As root it runs the server as the "postgres" OS user, which initdb demands.
// settings are extra name=value server settings (the bench's bulk loading).
func Start(dir string, settings ...string) (*Server, error) {
	bin, err := FindBinDir()
	if err != nil {
		return nil, err
	}
	s := &Server{BinDir: bin, settings: settings}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, errors.New("running as root needs the \"postgres\" OS user to own the cluster (initdb refuses root); install the Debian package postgresql or run as a normal user")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		s.owner = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	if dir == "" {
		if dir, err = os.MkdirTemp("", "b2badmin-pg-"); err != nil {
			return nil, err
		}
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	s.Dir, _ = filepath.Abs(dir)
	if err := s.initdb(); err != nil {
		return nil, err
	}
	if err := s.start(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Server) dataDir() string { return filepath.Join(s.Dir, "data") }

// SocketDir is where the server's unix socket lives.
func (s *Server) SocketDir() string { return filepath.Join(s.Dir, "sock") }

func (s *Server) logFile() string { return filepath.Join(s.Dir, "postgres.log") }

func (s *Server) initdb() error {
	pw := make([]byte, 12)
	_, _ = rand.Read(pw)
	s.Password = hex.EncodeToString(pw)
	for _, d := range []string{s.dataDir(), s.SocketDir()} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
	}
	pwFile := filepath.Join(s.Dir, "pwfile")
	if err := os.WriteFile(pwFile, []byte(s.Password+"\n"), 0o600); err != nil {
		return err
	}
	if err := s.chown(s.Dir, s.dataDir(), s.SocketDir(), pwFile); err != nil {
		return err
	}
	defer os.Remove(pwFile)
	args := []string{"-D", s.dataDir(), "-U", "postgres", "--pwfile", pwFile,
		"--auth-local=trust", "--auth-host=scram-sha-256", "--encoding=UTF8", "--no-sync", "--no-instructions"}
	// Collation C sorts by bytes, which for UTF-8 is the code-point order
	// C.UTF-8 gives, but lets PostgreSQL compare with memcmp and
	// abbreviated keys instead of strcoll: the seed's text indexes
	// (lower(name), lower(email)) build faster. LC_CTYPE stays C.UTF-8, so
	// lower() and upper() still know non-ASCII letters.
	out, err := s.run("initdb", append(args, "--locale=C.UTF-8", "--lc-collate=C")...)
	if err != nil {
		// Some systems lack the C.UTF-8 locale; plain C still works for our use.
		_ = os.RemoveAll(s.dataDir())
		_ = os.MkdirAll(s.dataDir(), 0o700)
		_ = s.chown(s.dataDir())
		if out2, err2 := s.run("initdb", append(args, "--locale=C")...); err2 != nil {
			return fmt.Errorf("initdb failed: %v\n%s\n%s", err2, out, out2)
		}
	}
	return nil
}

func (s *Server) start() error {
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		port, err := freePort()
		if err != nil {
			return err
		}
		s.Port = port
		// Throwaway settings: durability off, because the data is disposable
		// and a 1,000,000-user seed should take seconds, not minutes.
		opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "+
			"-c full_page_writes=off -c shared_buffers=256MB -c maintenance_work_mem=256MB -c max_wal_size=4GB "+
			"-c work_mem=32MB -c max_connections=200 -c unix_socket_permissions=0777", port, s.SocketDir())
		for _, kv := range s.settings {
			opts += " -c " + kv
		}
		out, err := s.run("pg_ctl", "-D", s.dataDir(), "-l", s.logFile(), "-w", "-t", "60", "-o", opts, "start")
		if err == nil {
			return s.writeState()
		}
		lastErr = fmt.Errorf("pg_ctl start failed: %v\n%s\n%s", err, out, tail(s.logFile(), 20))
	}
	return lastErr
}

// Stop shuts the server down fast and removes its directory.
func (s *Server) Stop() error {
	_, err := s.run("pg_ctl", "-D", s.dataDir(), "-m", "immediate", "-w", "stop")
	if rmErr := os.RemoveAll(s.Dir); err == nil {
		err = rmErr
	}
	return err
}

// DSN is a TCP URL for database db, with the superuser's password.
func (s *Server) DSN(db string) string {
	return fmt.Sprintf("postgres://postgres:%s@127.0.0.1:%d/%s?sslmode=disable", s.Password, s.Port, db)
}

// SocketDSN connects over the unix socket (trusted, no password).
func (s *Server) SocketDSN(db string) string {
	return fmt.Sprintf("host=%s port=%d user=postgres dbname=%s sslmode=disable", s.SocketDir(), s.Port, db)
}

func (s *Server) run(tool string, args ...string) ([]byte, error) {
	cmd := exec.Command(filepath.Join(s.BinDir, tool), args...)
	cmd.Dir = "/"
	cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8")
	if s.owner != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.owner}
	}
	// pg_ctl's server keeps stdout/stderr open; a file avoids waiting on a pipe.
	f, err := os.CreateTemp("", "b2badmin-pgtool-")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	cmd.Stdout, cmd.Stderr = f, f
	runErr := cmd.Run()
	out, _ := os.ReadFile(f.Name())
	return out, runErr
}

func (s *Server) chown(paths ...string) error {
	if s.owner == nil {
		return nil
	}
	for _, p := range paths {
		if err := os.Chown(p, int(s.owner.Uid), int(s.owner.Gid)); err != nil {
			return err
		}
	}
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// state is what Load needs to find a server started by another process.
const stateFile = "server.env"

func (s *Server) writeState() error {
	body := fmt.Sprintf("BIN_DIR=%s\nPORT=%d\nPASSWORD=%s\n", s.BinDir, s.Port, s.Password)
	return os.WriteFile(filepath.Join(s.Dir, stateFile), []byte(body), 0o600)
}

// Load finds the server a previous Start left running in dir.
func Load(dir string) (*Server, error) {
	abs, _ := filepath.Abs(dir)
	b, err := os.ReadFile(filepath.Join(abs, stateFile))
	if err != nil {
		return nil, err
	}
	s := &Server{Dir: abs}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(line, "=")
		switch k {
		case "BIN_DIR":
			s.BinDir = v
		case "PORT":
			s.Port, _ = strconv.Atoi(v)
		case "PASSWORD":
			s.Password = v
		}
	}
	if os.Geteuid() == 0 {
		if u, err := user.Lookup("postgres"); err == nil {
			uid, _ := strconv.Atoi(u.Uid)
			gid, _ := strconv.Atoi(u.Gid)
			s.owner = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		}
	}
	return s, nil
}

// Running reports whether the server answers pg_ctl status.
func (s *Server) Running() bool {
	_, err := s.run("pg_ctl", "-D", s.dataDir(), "status")
	return err == nil
}

// WaitGone waits until the postmaster pid file disappears.
func (s *Server) WaitGone(d time.Duration) {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(filepath.Join(s.dataDir(), "postmaster.pid")); err != nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}
