package commands

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
)

// realBinary builds cmd/b2badmin once per test process (the process tests
// signal and pipe the real thing) and returns its path; removeRealBinary
// deletes it when the tests end.
var realBin struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func realBinary(t *testing.T) string {
	t.Helper()
	realBin.once.Do(func() {
		realBin.dir, realBin.err = os.MkdirTemp("", "b2badmin-bin-")
		if realBin.err != nil {
			return
		}
		realBin.path = filepath.Join(realBin.dir, "b2badmin")
		build := exec.Command("go", "build", "-o", realBin.path, "../cmd/b2badmin")
		build.Env = append(os.Environ(), "PATH="+os.Getenv("PATH")+":/usr/local/go/bin")
		if out, err := build.CombinedOutput(); err != nil {
			realBin.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if realBin.err != nil {
		t.Fatal(realBin.err)
	}
	return realBin.path
}

func removeRealBinary() {
	if realBin.dir != "" {
		_ = os.RemoveAll(realBin.dir)
	}
}

// realCmd runs the built binary on dsn with no config file.
func realCmd(t *testing.T, dsn string, args ...string) *exec.Cmd {
	cmd := exec.Command(realBinary(t), args...)
	cmd.Env = append(os.Environ(), "B2BADMIN_DSN="+dsn, "XDG_CONFIG_HOME="+t.TempDir(), "B2BADMIN_PROFILE=", "B2BADMIN_CONFIG=")
	return cmd
}

// manyUsers inserts n plain users in one statement.
func manyUsers(t *testing.T, conn *pgx.Conn, n int) {
	t.Helper()
	_, err := conn.Exec(context.Background(), `
INSERT INTO rbac_user (password, is_superuser, email, first_name, last_name, phone, ip_white_list, language,
    communication_language, is_staff, is_active, type, uuid, date_joined, is_company_owner)
SELECT '!unusable', false, 'user' || i || '@example.com', 'First' || i, 'Last' || i, '', '', 'en', 'en',
    false, true, 'merchant', gen_random_uuid(), now(), false
FROM generate_series(1, $1) AS i`, n)
	if err != nil {
		t.Fatal(err)
	}
}
