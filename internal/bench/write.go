package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// SPEC §7: deactivate 100,000 users read from stdin, with their log rows,
// tokens and sessions, against one raw UPDATE … WHERE id = ANY(…) in psql
// (also fed on stdin). Every run starts from the same state: the users
// active again, the tokens un-blacklisted, the sessions restored, the
// bench's log rows gone, and the tables vacuumed.
func init() {
	register(Scenario{Order: 30, Name: "deactivate", Run: benchDeactivate})
}

// snapshotRevoked keeps copies of the sessions and the token blacklist
// (tables PREFIX_sessions and PREFIX_blacklist, for the caller to drop) and
// returns the statements that bring back the state before a deactivation:
// the users of $1 active again, the tokens un-blacklisted, the sessions
// restored.
func snapshotRevoked(ctx context.Context, conn *pgx.Conn, prefix string) ([]string, error) {
	for _, q := range []string{
		`DROP TABLE IF EXISTS ` + prefix + `_sessions, ` + prefix + `_blacklist`,
		`CREATE TABLE ` + prefix + `_sessions AS SELECT * FROM django_session`,
		`CREATE TABLE ` + prefix + `_blacklist AS SELECT id FROM token_blacklist_blacklistedtoken`,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			return nil, err
		}
	}
	return []string{
		`UPDATE rbac_user SET is_active = true WHERE id = ANY($1) AND NOT is_active`,
		`DELETE FROM token_blacklist_blacklistedtoken WHERE id NOT IN (SELECT id FROM ` + prefix + `_blacklist)`,
		`INSERT INTO django_session SELECT * FROM ` + prefix + `_sessions ON CONFLICT DO NOTHING`,
	}, nil
}

func benchDeactivate(ctx context.Context, e *Env) ([]Row, error) {
	conn, err := pgx.Connect(ctx, e.DSN)
	if err != nil {
		return nil, err
	}
	defer conn.Close(ctx)
	n := 100_000
	if e.Users < 2*n {
		n = e.Users / 2
	}
	rows, err := conn.Query(ctx, `SELECT id FROM rbac_user ORDER BY id LIMIT $1`, n)
	if err != nil {
		return nil, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, err
	}
	var stdin, literal strings.Builder
	for i, id := range ids {
		stdin.WriteString(strconv.FormatInt(id, 10) + "\n")
		if i > 0 {
			literal.WriteByte(',')
		}
		literal.WriteString(strconv.FormatInt(id, 10))
	}
	arr := "'{" + literal.String() + "}'::bigint[]"
	psqlSQL := "UPDATE rbac_user SET is_active = false WHERE id = ANY(" + arr + ");\n"
	// The floor: psql doing in one transaction what the tool's deactivation
	// does on the server — lock the users in id order, blacklist their
	// outstanding tokens, delete their sessions, flip them, write the run
	// and one log row per user — with none of the tool's reads back to the
	// client and session owners taken as known (psql cannot decode a
	// Django session; the tool decodes the ones it has not seen yet).
	psqlComplete := "BEGIN;\n" +
		"SELECT count(*) FROM (SELECT id FROM rbac_user WHERE id = ANY(" + arr + ") ORDER BY id FOR UPDATE) s;\n" +
		"INSERT INTO token_blacklist_blacklistedtoken (token_id, blacklisted_at) SELECT t.id, now() FROM token_blacklist_outstandingtoken t " +
		"WHERE t.user_id = ANY(" + arr + ") AND NOT EXISTS (SELECT 1 FROM token_blacklist_blacklistedtoken b WHERE b.token_id = t.id) ON CONFLICT (token_id) DO NOTHING;\n" +
		"DELETE FROM django_session s USING b2badmin_session_owner o WHERE o.user_id = ANY(" + arr + ") AND s.session_key = o.session_key;\n" +
		psqlSQL +
		"INSERT INTO api_operationrun (id, started_at, ended_at, actor, command, target, mode, outcome, users_changed, changes, tokens_blacklisted, sessions_deleted, devices_deleted, batch_file, batch_sha256, last_line) " +
		"VALUES ('00000000-0000-0000-0000-00000000be9c', now(), now(), 'psql', 'psql', '', 'command', 'committed', 0, 0, 0, 0, 0, '', '', NULL);\n" +
		"INSERT INTO api_operationlog (created_at, actor, action, target_user_id, before, after, detail, reason, command, run_id, batch_file, batch_line) " +
		"SELECT now(), 'psql', 'users.deactivate', id, '{\"is_active\": true}', '{\"is_active\": false}', '{}', 'bench', 'psql', '00000000-0000-0000-0000-00000000be9c', '', 0 FROM unnest(" + arr + ") AS t(id);\n" +
		"COMMIT;\n"

	restore, err := snapshotRevoked(ctx, conn, "bench")
	if err != nil {
		return nil, err
	}
	defer conn.Exec(context.Background(), `DROP TABLE IF EXISTS bench_sessions, bench_blacklist`)
	reset := func() error {
		for _, q := range append(restore,
			`DELETE FROM api_operationlog WHERE reason = 'bench'`,
			`DELETE FROM api_operationrun WHERE id = '00000000-0000-0000-0000-00000000be9c'`,
			`VACUUM ANALYZE rbac_user, api_operationlog, django_session, token_blacklist_blacklistedtoken`,
		) {
			args := []any{}
			if strings.Contains(q, "$1") {
				args = append(args, ids)
			}
			if _, err := conn.Exec(ctx, q, args...); err != nil {
				return fmt.Errorf("reset: %w", err)
			}
		}
		return nil
	}

	var toolWalls, psqlWalls, floorWalls []time.Duration
	var extra string
	for i := 0; i < e.Runs; i++ {
		if err := reset(); err != nil {
			return nil, err
		}
		m, err := RunProcess(stdin.String(), nil, e.Bin, "--dsn", e.DSN, "users", "deactivate", "-", "--yes", "--reason", "bench")
		if err != nil {
			return nil, err
		}
		toolWalls = append(toolWalls, m.Wall)
		if i == 0 {
			var inactive, logged, sessions, tokens int64
			err := conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM rbac_user WHERE id = ANY($1) AND NOT is_active),
				(SELECT count(*) FROM api_operationlog WHERE reason = 'bench'),
				(SELECT count(*) FROM bench_sessions) - (SELECT count(*) FROM django_session),
				(SELECT count(*) FROM token_blacklist_blacklistedtoken) - (SELECT count(*) FROM bench_blacklist)`, ids).
				Scan(&inactive, &logged, &sessions, &tokens)
			if err != nil {
				return nil, err
			}
			if inactive != int64(len(ids)) || logged != int64(len(ids)) {
				return nil, fmt.Errorf("deactivate: %d of %d users inactive, %d log rows", inactive, len(ids), logged)
			}
			extra = fmt.Sprintf("%d log rows, %d tokens blacklisted, %d sessions deleted; peak %s", logged, tokens, sessions, MiB(m.PeakRSS))
		}
		if err := reset(); err != nil {
			return nil, err
		}
		m, err = RunProcess(psqlSQL, nil, e.Psql, e.DSN, "-q", "-X", "-v", "ON_ERROR_STOP=1", "-f", "-")
		if err != nil {
			return nil, err
		}
		psqlWalls = append(psqlWalls, m.Wall)
		if err := reset(); err != nil {
			return nil, err
		}
		m, err = RunProcess(psqlComplete, nil, e.Psql, e.DSN, "-q", "-X", "-v", "ON_ERROR_STOP=1", "-o", "/dev/null", "-f", "-")
		if err != nil {
			return nil, err
		}
		floorWalls = append(floorWalls, m.Wall)
	}
	if err := reset(); err != nil {
		return nil, err
	}
	return []Row{{
		Name:   fmt.Sprintf("deactivate %d users from stdin (psql: bare UPDATE)", len(ids)),
		Tool:   medianWall(toolWalls),
		Psql:   medianWall(psqlWalls),
		Target: "≤ 1.2×",
		Extra:  extra,
	}, {
		Name:   fmt.Sprintf("deactivate %d users (psql: the same work, lock to log rows)", len(ids)),
		Tool:   medianWall(toolWalls),
		Psql:   medianWall(floorWalls),
		Target: "-",
		Extra:  fmt.Sprintf("bare UPDATE alone %s", medianWall(psqlWalls).Round(time.Millisecond)),
	}}, nil
}
