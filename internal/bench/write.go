package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/b2badmin/b2badmin/client"
)

// SPEC §7: deactivate 100,000 users read from stdin, with their log rows,
// tokens and sessions, against one raw UPDATE … WHERE id = ANY(…) in psql
// (also fed on stdin). Every run starts from the same state: the users
// active again, the tokens un-blacklisted, the sessions restored, the
// bench's log rows gone, and the tables vacuumed.
func init() {
	register(Scenario{Order: 30, Name: "deactivate", Run: benchDeactivate})
}

// snapshotRevoked keeps copies of the sessions, their known owners and the
// token blacklist (tables PREFIX_sessions, PREFIX_owners and
// PREFIX_blacklist, for the caller to drop) and returns the statements that
// bring back the state before a deactivation: the users of $1 active again,
// the tokens un-blacklisted, the sessions restored. Restored sessions are
// new keys to b2badmin (its trigger queues them, undecoded), as sessions
// created since its last deactivation would be; knowOwners marks them
// decoded again, for a run that cannot decode them itself (psql).
func snapshotRevoked(ctx context.Context, conn *pgx.Conn, prefix string) (restore []string, knowOwners string, err error) {
	for _, q := range []string{
		`DROP TABLE IF EXISTS ` + prefix + `_sessions, ` + prefix + `_owners, ` + prefix + `_blacklist`,
		`CREATE TABLE ` + prefix + `_sessions AS SELECT * FROM django_session`,
		`CREATE TABLE ` + prefix + `_owners AS SELECT session_key, user_id FROM b2badmin_session_owner WHERE decoded`,
		`CREATE TABLE ` + prefix + `_blacklist AS SELECT id FROM token_blacklist_blacklistedtoken`,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			return nil, "", err
		}
	}
	// Owners b2badmin has not decoded yet (an earlier run restored their
	// sessions) are decoded here, so that the copy knows every session.
	rows, _ := conn.Query(ctx, `SELECT o.session_key, s.session_data FROM b2badmin_session_owner o
		JOIN django_session s ON s.session_key = o.session_key WHERE NOT o.decoded`)
	var pending [][]any
	var key, data string
	var dec client.SessionDecoder
	if _, err := pgx.ForEachRow(rows, []any{&key, &data}, func() error {
		if id, ok := dec.Owner(data); ok {
			pending = append(pending, []any{key, id})
		}
		return nil
	}); err != nil {
		return nil, "", err
	}
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{prefix + "_owners"}, []string{"session_key", "user_id"}, pgx.CopyFromRows(pending)); err != nil {
		return nil, "", err
	}
	knowOwners = `UPDATE b2badmin_session_owner o SET user_id = k.user_id, decoded = true FROM ` + prefix + `_owners k
WHERE o.session_key = k.session_key AND NOT o.decoded`
	return []string{
		`UPDATE rbac_user SET is_active = true WHERE id = ANY($1) AND NOT is_active`,
		`DELETE FROM token_blacklist_blacklistedtoken WHERE id NOT IN (SELECT id FROM ` + prefix + `_blacklist)`,
		`INSERT INTO django_session SELECT * FROM ` + prefix + `_sessions ON CONFLICT DO NOTHING`,
	}, knowOwners, nil
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

	restore, knowOwners, err := snapshotRevoked(ctx, conn, "bench")
	if err != nil {
		return nil, err
	}
	defer conn.Exec(context.Background(), `DROP TABLE IF EXISTS bench_sessions, bench_owners, bench_blacklist`)
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

	// revoked counts the sessions deleted and the tokens blacklisted since
	// the last reset: the floor must do the tool's work, not less.
	revoked := func() (sessions, tokens int64, err error) {
		err = conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM bench_sessions) - (SELECT count(*) FROM django_session),
			(SELECT count(*) FROM token_blacklist_blacklistedtoken) - (SELECT count(*) FROM bench_blacklist)`).Scan(&sessions, &tokens)
		return sessions, tokens, err
	}
	var toolWalls, psqlWalls, floorWalls []time.Duration
	var extra string
	var toolSessions, toolTokens int64
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
			var inactive, logged, pending int64
			err := conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM rbac_user WHERE id = ANY($1) AND NOT is_active),
				(SELECT count(*) FROM api_operationlog WHERE reason = 'bench'),
				(SELECT count(*) FROM b2badmin_session_owner WHERE NOT decoded)`, ids).
				Scan(&inactive, &logged, &pending)
			if err == nil {
				toolSessions, toolTokens, err = revoked()
			}
			if err != nil {
				return nil, err
			}
			if inactive != int64(len(ids)) || logged != int64(len(ids)) {
				return nil, fmt.Errorf("deactivate: %d of %d users inactive, %d log rows", inactive, len(ids), logged)
			}
			if toolSessions == 0 || pending != 0 {
				return nil, fmt.Errorf("deactivate: %d sessions deleted, %d left undecoded; want some deleted, none left", toolSessions, pending)
			}
			extra = fmt.Sprintf("%d log rows, %d tokens blacklisted, %d sessions deleted (their owners decoded first); peak %s",
				logged, toolTokens, toolSessions, MiB(m.PeakRSS))
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
		if _, err := conn.Exec(ctx, knowOwners); err != nil {
			return nil, err
		}
		m, err = RunProcess(psqlComplete, nil, e.Psql, e.DSN, "-q", "-X", "-v", "ON_ERROR_STOP=1", "-o", "/dev/null", "-f", "-")
		if err != nil {
			return nil, err
		}
		floorWalls = append(floorWalls, m.Wall)
		if i == 0 {
			sessions, tokens, err := revoked()
			if err != nil {
				return nil, err
			}
			if sessions != toolSessions || tokens != toolTokens {
				return nil, fmt.Errorf("deactivate: psql deleted %d sessions and blacklisted %d tokens, b2badmin %d and %d",
					sessions, tokens, toolSessions, toolTokens)
			}
		}
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
