package seed

import (
	"context"
	"fmt"
	"io"
	"runtime/debug"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/b2badmin/b2badmin/client"
)

// Options say how much demo data to make.
type Options struct {
	Users    int
	Seed     int64
	Progress func(done int64) // may be nil; done counts users up to Users

	// Now is the moment the data describes: registrations, logins, tokens
	// and transfers all lie before it, and "current month" is its month.
	// Zero means the start of today (UTC). Why not a fixed date: a fixed
	// reference (say 2026-11-01) would leave the current-month turnover of
	// every company empty from the next month on, and the Commissions tab
	// is about exactly that number. Anchoring at the start of the UTC day
	// keeps the data identical for the same seed all day long (and always
	// when Now is given, as the tests do) while keeping it "recent".
	Now time.Time

	// HashIterations is the PBKDF2 count of the few real password hashes
	// shared by the seeded users; 0 means Django 5.2 LTS's 1,000,000.
	HashIterations int

	// Trace, when set, receives one line per step with its duration
	// (db seed --debug).
	Trace io.Writer
}

// Stats counts what Seed created.
type Stats struct {
	Users, Companies, Wallets, AuthLogs, Tokens, Transfers int64

	Groups, Permissions, TOTPDevices, EmailDevices, Sessions           int64
	OutstandingTokens, BlacklistedTokens, Commissions, UserCommissions int64
}

// seededTables are the tables Seed fills, parents first.
var seededTables = []string{
	"rbac_company", "rbac_user", "rbac_user_groups", "rbac_user_user_permissions",
	"otp_totp_totpdevice", "otp_email_emaildevice", "rbac_authlog", "rbac_authtoken",
	"api_wallet", "api_transfer", "commissions_commission", "commissions_usercommission",
	"token_blacklist_outstandingtoken", "token_blacklist_blacklistedtoken", "django_session",
	"b2badmin_session_owner",
}

// Seed fills an empty database with realistic demo data, in one
// transaction: a failure or an interrupt leaves the database as it was.
//
// Speed: every table is streamed with COPY from a generator (no table is
// ever held in memory; only a compact 24-byte record per user and company).
// Before loading, the tables' secondary indexes, unique constraints and
// unreferenced primary keys are dropped and then rebuilt once at the end,
// far cheaper than maintaining them row by row; foreign-key triggers are
// switched off for the transaction when the role may (seedDisableFKTriggers),
// otherwise the foreign keys are dropped and re-validated as well. All of
// it happens inside the transaction: nobody ever sees the schema without
// them, and an interrupted seed leaves nothing behind.
//
// Determinism: every choice comes from PCG generators seeded from o.Seed
// (one sequential stream for the structure — types, companies, roles — and
// one stream per user and table for the details), and every time is an
// offset from o.Now, so the same seed and reference give identical rows.
func Run(ctx context.Context, db client.DBTX, o Options) (Stats, error) {
	if o.Users < 1 {
		return Stats{}, client.Refused("refused: the number of users to seed must be at least 1")
	}
	if o.Now.IsZero() {
		o.Now = time.Now().UTC().Truncate(24 * time.Hour)
	}
	if o.HashIterations <= 0 {
		o.HashIterations = 1_000_000
	}
	// Millions of short-lived row values: a lazier collector spends less
	// CPU (the live heap is a few tens of MB, so the peak stays modest).
	defer debug.SetGCPercent(debug.SetGCPercent(200))
	s := newSeeder(o)
	hashes := make(chan []string, 1)
	var stats Stats
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		if err := seedRefuseNonEmpty(ctx, tx); err != nil {
			return err
		}
		// The few real hashes cost a second of CPU: computed while the
		// schema is prepared and the structure is built.
		go func() { hashes <- seedPasswordHashes(uint64(o.Seed), o.HashIterations) }()
		if err := s.loadReference(ctx, tx); err != nil {
			return err
		}
		triggersOff := seedDisableFKTriggers(ctx, tx)
		if !triggersOff {
			// The session triggers would fire on the TRUNCATE (truncating
			// the owner table inside the same TRUNCATE) and the COPY (whose
			// ON CONFLICT needs the primary key we drop below): the seed
			// writes the owners itself. Re-enabled in this transaction.
			if _, err := tx.Exec(ctx, "ALTER TABLE django_session DISABLE TRIGGER b2badmin_session_queue, DISABLE TRIGGER b2badmin_session_forget_all"); err != nil {
				return err
			}
		}
		saved, err := seedDropIndexes(ctx, tx, triggersOff)
		if err != nil {
			return err
		}
		if err := seedTruncate(ctx, tx); err != nil {
			return err
		}
		s.buildCore()
		s.trace("structure")
		s.hashes = <-hashes
		s.trace("password hashes")
		if err := s.copyAll(ctx, tx, &stats); err != nil {
			return err
		}
		if err := seedRestoreIndexes(ctx, tx, saved, s.trace); err != nil {
			return err
		}
		if !triggersOff {
			if _, err := tx.Exec(ctx, "ALTER TABLE django_session ENABLE TRIGGER b2badmin_session_queue, ENABLE TRIGGER b2badmin_session_forget_all"); err != nil {
				return err
			}
		}
		return seedResetSequences(ctx, tx)
	})
	s.trace("commit")
	if err != nil {
		return Stats{}, err
	}
	if o.Progress != nil {
		o.Progress(int64(o.Users))
	}
	return stats, nil
}

// copyAll streams every table. Each step is one COPY; the weights make
// the progress bar move evenly (they are rough row costs per user).
func (s *seeder) copyAll(ctx context.Context, tx pgx.Tx, st *Stats) error {
	steps := []struct {
		table  string
		cols   []string
		weight int
		src    func() *genSource
		count  *int64
	}{
		{"rbac_company", colsCompany, 1, s.companySource, &st.Companies},
		{"rbac_user", colsUser, 8, s.userSource, &st.Users},
		{"rbac_user_groups", colsUserGroup, 3, s.groupSource, &st.Groups},
		{"rbac_user_user_permissions", colsUserPerm, 1, s.permSource, &st.Permissions},
		{"otp_totp_totpdevice", colsTOTP, 1, s.totpSource, &st.TOTPDevices},
		{"otp_email_emaildevice", colsEmailDevice, 1, s.emailDeviceSource, &st.EmailDevices},
		{"rbac_authlog", colsAuthLog, 4, s.authLogSource, &st.AuthLogs},
		{"rbac_authtoken", colsAuthToken, 2, s.authTokenSource, &st.Tokens},
		{"api_wallet", colsWallet, 2, s.walletSource, &st.Wallets},
		{"api_transfer", colsTransfer, 2, s.transferSource, &st.Transfers},
		{"commissions_commission", colsCommission, 1, s.commissionSource, &st.Commissions},
		{"commissions_usercommission", colsUserCommission, 1, s.userCommissionSource, &st.UserCommissions},
		{"token_blacklist_outstandingtoken", colsOutstanding, 2, s.outstandingSource, &st.OutstandingTokens},
		{"token_blacklist_blacklistedtoken", colsBlacklisted, 1, s.blacklistedSource, &st.BlacklistedTokens},
		{"django_session", colsSession, 1, s.sessionSource, &st.Sessions},
		{"b2badmin_session_owner", colsSessionOwner, 1, s.sessionOwnerSource, new(int64)},
	}
	total := 0
	for _, step := range steps {
		total += step.weight
	}
	s.progress.total = total
	for _, step := range steps {
		src := step.src()
		s.progress.begin(step.weight, src.n)
		src.progress = &s.progress
		n, err := tx.CopyFrom(ctx, pgx.Identifier{step.table}, step.cols, src)
		if err != nil {
			if ctx.Err() != nil { // interrupted or --timeout: say so, not "closed connection"
				return fmt.Errorf("seed %s: %w", step.table, ctx.Err())
			}
			return fmt.Errorf("seed %s: %w", step.table, err)
		}
		*step.count = n
		s.progress.end()
		s.trace(fmt.Sprintf("copy %s (%d rows)", step.table, n))
	}
	return nil
}

// trace reports the time since the previous trace.
func (s *seeder) trace(what string) {
	if s.traceW != nil {
		now := time.Now()
		fmt.Fprintf(s.traceW, "b2badmin: seed: %-50s %8s\n", what, now.Sub(s.lastTrace).Round(time.Millisecond))
		s.lastTrace = now
	}
}

// seedProgress turns "unit i of n in step k" into "users done" for the bar.
type seedProgress struct {
	fn            func(int64)
	users         int64
	total, before int // weights
	weight, n     int
}

func (p *seedProgress) begin(weight, n int) { p.weight, p.n = weight, n }
func (p *seedProgress) end()                { p.before, p.weight = p.before+p.weight, 0; p.report(0) }

func (p *seedProgress) report(i int) {
	if p.fn == nil || p.total == 0 {
		return
	}
	f := float64(p.before) / float64(p.total)
	if p.n > 0 {
		f += float64(p.weight) * float64(i) / float64(p.n) / float64(p.total)
	}
	p.fn(min(int64(f*float64(p.users)), p.users))
}

// HasUsers reports whether any user exists.
func HasUsers(ctx context.Context, db client.DBTX) (bool, error) {
	var has bool
	err := db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM rbac_user)`).Scan(&has)
	return has, err
}
