package pgtest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"
)

// StartStandby makes a streaming standby of s with pg_basebackup (from the
// same server binaries) and starts it on its own socket and port. It is a
// real hot standby: read-only, replaying the primary's WAL as it streams.
// Its roles, password included, are the primary's.
func (s *Server) StartStandby() (*Server, error) {
	if !isExec(filepath.Join(s.BinDir, "pg_basebackup")) {
		return nil, fmt.Errorf("no pg_basebackup in %s (Debian package postgresql)", s.BinDir)
	}
	dir, err := os.MkdirTemp("", "b2badmin-standby-")
	if err != nil {
		return nil, err
	}
	st := &Server{Dir: dir, BinDir: s.BinDir, Password: s.Password, owner: s.owner}
	for _, d := range []string{st.SocketDir()} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	if err := st.chown(st.Dir, st.SocketDir()); err != nil {
		return nil, err
	}
	// -R writes standby.signal and primary_conninfo (the primary's socket:
	// initdb's pg_hba trusts local replication); -X stream brings the WAL
	// of the copy itself; checkpoint fast so the copy starts at once.
	out, err := st.run("pg_basebackup", "-h", s.SocketDir(), "-p", fmt.Sprint(s.Port), "-U", "postgres",
		"-D", st.dataDir(), "-X", "stream", "-R", "--checkpoint=fast", "--no-sync")
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("pg_basebackup failed: %v\n%s", err, out)
	}
	if err := st.start(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	return st, nil
}

// WaitReplayed waits until the standby has replayed everything the primary
// had written when it was called: a read after it sees every earlier write.
// The throwaway cluster runs with synchronous_commit off, so a commit may
// not be written yet: we flush first.
func WaitReplayed(ctx context.Context, primaryDSN, standbyDSN string) error {
	p, err := pgx.Connect(ctx, primaryDSN)
	if err != nil {
		return err
	}
	defer p.Close(ctx)
	// A transaction that commits with a local flush flushes every WAL
	// record before it; the flush position then covers all earlier writes.
	// It must write WAL itself (the logical message): a commit without WAL
	// of its own is treated as asynchronous and flushes nothing.
	if _, err := p.Exec(ctx, `BEGIN; SET LOCAL synchronous_commit = local; SELECT pg_logical_emit_message(true, 'b2badmin-pgtest', 'flush'); COMMIT`); err != nil {
		return err
	}
	var lsn string
	if err := p.QueryRow(ctx, `SELECT pg_current_wal_flush_lsn()::text`).Scan(&lsn); err != nil {
		return err
	}
	// The maintenance database: the one being waited for may not be there yet.
	sb, err := pgx.Connect(ctx, WithDatabase(standbyDSN, "postgres"))
	if err != nil {
		return err
	}
	defer sb.Close(ctx)
	deadline := time.Now().Add(30 * time.Second)
	for {
		var done bool
		if err := sb.QueryRow(ctx, `SELECT coalesce(pg_last_wal_replay_lsn() >= $1::pg_lsn, false)`, lsn).Scan(&done); err != nil {
			return err
		}
		if done {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("standby has not replayed %s after 30 s", lsn)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
