package pgtest

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// BouncerPackage is the Debian package that provides pgbouncer; skip
// messages name it.
const BouncerPackage = "pgbouncer"

// Bouncer is a PgBouncer in transaction pooling mode in front of a Server,
// configured as production would be: clients log in with a password,
// every server connection is lent for one transaction only, and startup
// parameters PgBouncer does not know are refused (no
// ignore_startup_parameters), so the tests see what users see.
type Bouncer struct {
	Dir  string
	Port int
	srv  *Server
	cmd  *exec.Cmd
	done chan struct{}
}

var installOnce sync.Once

// FindPgBouncer locates the pgbouncer binary. When it is missing and we are
// root with apt-get, it installs Debian's package first (once per process,
// under a lock shared with other test processes, which may try at the
// same moment).
func FindPgBouncer() (string, error) {
	find := func() (string, error) {
		if p, err := exec.LookPath("pgbouncer"); err == nil {
			return p, nil
		}
		for _, p := range []string{"/usr/sbin/pgbouncer", "/usr/bin/pgbouncer"} {
			if isExec(p) {
				return p, nil
			}
		}
		return "", errors.New("not found")
	}
	if p, err := find(); err == nil {
		return p, nil
	}
	if os.Geteuid() == 0 {
		if _, err := exec.LookPath("apt-get"); err == nil {
			installOnce.Do(func() { _ = aptInstall(BouncerPackage) })
			if p, err := find(); err == nil {
				return p, nil
			}
		}
	}
	return "", fmt.Errorf("pgbouncer is not installed (Debian package %s: apt-get install %s)", BouncerPackage, BouncerPackage)
}

// aptInstall runs apt-get update and install under an exclusive lock.
func aptInstall(pkg string) error {
	lock, err := os.OpenFile(filepath.Join(os.TempDir(), "b2badmin-apt.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return err
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if _, err := exec.LookPath(pkg); err == nil || isExec("/usr/sbin/"+pkg) {
		return nil // another process installed it while we waited
	}
	fmt.Fprintf(os.Stderr, "pgtest: installing %s (apt-get install %s)\n", pkg, pkg)
	env := append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	for _, args := range [][]string{{"update", "-qq"}, {"install", "-y", "-qq", "--no-install-recommends", pkg}} {
		cmd := exec.Command("apt-get", args...)
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("apt-get %v: %v\n%s", args, err, out)
		}
	}
	return nil
}

// StartBouncer starts PgBouncer in front of s. It runs as the cluster's
// owner (PgBouncer refuses to run as root) and reaches the server over its
// unix socket; clients use TCP on a free loopback port.
func StartBouncer(s *Server) (*Bouncer, error) {
	bin, err := FindPgBouncer()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "b2badmin-pgbouncer-")
	if err != nil {
		return nil, err
	}
	b := &Bouncer{Dir: dir, srv: s, done: make(chan struct{})}
	if b.Port, err = freePort(); err != nil {
		return nil, err
	}
	// The plain password in the auth file lets PgBouncer answer SCRAM
	// itself; the server trusts its local socket.
	users := fmt.Sprintf("%q %q\n", "postgres", s.Password)
	ini := fmt.Sprintf(`[databases]
* = host=%s port=%d

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %d
unix_socket_dir =
auth_type = scram-sha-256
auth_file = %s
admin_users = postgres
pool_mode = transaction
default_pool_size = 8
max_client_conn = 400
server_lifetime = 3600
logfile = %s
pidfile = %s
`, s.SocketDir(), s.Port, b.Port, filepath.Join(dir, "users.txt"), filepath.Join(dir, "pgbouncer.log"), filepath.Join(dir, "pgbouncer.pid"))
	if err := os.WriteFile(filepath.Join(dir, "users.txt"), []byte(users), 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "pgbouncer.ini"), []byte(ini), 0o600); err != nil {
		return nil, err
	}
	if err := s.chown(dir, filepath.Join(dir, "users.txt"), filepath.Join(dir, "pgbouncer.ini")); err != nil {
		return nil, err
	}
	b.cmd = exec.Command(bin, filepath.Join(dir, "pgbouncer.ini"))
	b.cmd.Dir = "/"
	// Its own process group: a Ctrl-C of the test run reaches it, and Stop
	// ends exactly this process.
	b.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if s.owner != nil {
		b.cmd.SysProcAttr.Credential = s.owner
	}
	if err := b.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { _ = b.cmd.Wait(); close(b.done) }()
	if err := waitListening(b.Port, 10*time.Second, b.done); err != nil {
		b.Stop()
		return nil, fmt.Errorf("pgbouncer did not start: %v\n%s", err, tail(filepath.Join(dir, "pgbouncer.log"), 20))
	}
	return b, nil
}

// DSN is dsn (a URL on the bouncer's server) sent through the bouncer.
func (b *Bouncer) DSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn
	}
	u.Host = net.JoinHostPort("127.0.0.1", strconv.Itoa(b.Port))
	return u.String()
}

// AdminDSN is PgBouncer's own console (SHOW POOLS, SHOW STATS).
func (b *Bouncer) AdminDSN() string {
	return fmt.Sprintf("postgres://postgres:%s@127.0.0.1:%d/pgbouncer?sslmode=disable&default_query_exec_mode=simple_protocol", b.srv.Password, b.Port)
}

// Stop ends PgBouncer and removes its directory.
func (b *Bouncer) Stop() {
	if b.cmd != nil && b.cmd.Process != nil {
		_ = b.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-b.done:
		case <-time.After(5 * time.Second):
			_ = b.cmd.Process.Kill()
			<-b.done
		}
	}
	_ = os.RemoveAll(b.Dir)
}

func waitListening(port int, d time.Duration, exited <-chan struct{}) error {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return errors.New("process exited")
		default:
		}
		c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return errors.New("timed out")
}
