package commands

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// complete drives Cobra's hidden __complete command on the tree batch
// lines use (the real tree plus the test commands) and returns the
// offered words (descriptions dropped).
func complete(t *testing.T, dsn string, words ...string) []string {
	t.Helper()
	var out, errOut bytes.Buffer
	env := map[string]string{"B2BADMIN_DSN": dsn, "XDG_CONFIG_HOME": t.TempDir()}
	f := NewFactory(&IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, func(k string) string { return env[k] })
	defer f.Close()
	root := lineRoot(f.NewInvocation(f.IO, nil, nil), nil)
	root.SetArgs(append([]string{"__complete"}, words...))
	if err := root.ExecuteContext(context.Background()); err != nil {
		t.Fatalf("__complete %q: %v", words, err)
	}
	var got []string
	for _, l := range strings.Split(strings.TrimRight(out.String(), "\n"), "\n") {
		if strings.HasPrefix(l, ":") {
			break
		}
		w, _, _ := strings.Cut(l, "\t")
		got = append(got, w)
	}
	return got
}

func TestCompletionDynamic(t *testing.T) {
	if got := complete(t, "", "t", "add-group", "1", "Mer"); !reflect.DeepEqual(got, []string{"Merchant owner", "Merchant staff"}) {
		t.Errorf("groups: %q", got)
	}
	if got := complete(t, "", "t", "add-group", "1", "API", "kyc"); !reflect.DeepEqual(got, []string{"KYC not verified"}) {
		t.Errorf("later group positions: %q", got)
	}
	if got := complete(t, "", "t", "grant", "1", "api.view_w"); !reflect.DeepEqual(got, []string{"api.view_wallet", "api.view_wallet_staking", "api.view_walletbalancesnapshot", "api.view_walletduplicaterequest"}) {
		t.Errorf("permissions: %q", got)
	}
	if got := complete(t, "", "batch", "--columns", "line,st"); !reflect.DeepEqual(got, []string{"line,status"}) {
		t.Errorf("--columns: %q", got)
	}
	if got := complete(t, "", "users", "list", "--columns", "id,first"); !reflect.DeepEqual(got, []string{"id,first_name"}) {
		t.Errorf("users list --columns: %q", got)
	}
	if got := complete(t, "", "perms", "audit", "--columns", "perm"); !reflect.DeepEqual(got, []string{"permission"}) {
		t.Errorf("perms audit --columns: %q", got)
	}
	if got := complete(t, "", "completion", ""); !reflect.DeepEqual(got, []string{"bash", "zsh", "fish", "powershell"}) {
		t.Errorf("completion: %q", got)
	}
	// -o offers every format; the shell filters by what was typed.
	if got := complete(t, "", "-o", "js"); !reflect.DeepEqual(got, []string{"table", "json", "jsonl", "yaml", "csv", "tsv", "ids"}) {
		t.Errorf("-o: %q", got)
	}
	// A command with one output of its own takes no other -o.
	if got := complete(t, "", "access", "export", "-o", ""); !reflect.DeepEqual(got, []string{"table"}) {
		t.Errorf("access export -o: %q", got)
	}
	if got := complete(t, "", "users", "list", "-o", ""); len(got) != 7 {
		t.Errorf("users list -o: %q", got)
	}
}

func TestCompletionUserEmails(t *testing.T) {
	dsn, _ := batchDB(t)
	if got := complete(t, dsn, "t", "set-name", "B"); !reflect.DeepEqual(got, []string{"bob@example.com"}) {
		t.Errorf("emails: %q", got)
	}
	// No database: nothing offered, quickly, no error.
	start := time.Now()
	if got := complete(t, "postgres://nobody@127.0.0.1:1/none?sslmode=disable", "t", "set-name", "b"); len(got) != 0 {
		t.Errorf("offline: %q", got)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("offline completion took %s", d)
	}
}

// The committed scripts are what `make completions` generates now.
func TestCompletionScriptsAreCurrent(t *testing.T) {
	for shell, file := range map[string]string{"bash": "b2badmin.bash", "zsh": "_b2badmin", "fish": "b2badmin.fish", "powershell": "b2badmin.ps1"} {
		r := runCLI(t, "", "completion", shell)
		if r.Code != 0 {
			t.Fatalf("completion %s: %d %s", shell, r.Code, r.Stderr)
		}
		want, err := os.ReadFile(filepath.Join("..", "completions", file))
		if err != nil {
			t.Fatal(err)
		}
		if r.Stdout != string(want) {
			t.Errorf("completions/%s is stale: run make completions", file)
		}
	}
	assertOneLineError(t, runCLI(t, "", "completion", "tcsh"), ExitUsage)
}

// The bash script loads, and Tab on `t add-group 1 Mer` offers the group
// names: bash runs the script's completion function, which runs the
// binary (this test binary as b2badmin, see TestBatchHelperProcess).
func TestCompletionBashScript(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatal("bash is needed for this test")
	}
	script, _ := filepath.Abs(filepath.Join("..", "completions", "b2badmin.bash"))
	if out, err := exec.Command(bash, "-c", "source "+script).CombinedOutput(); err != nil || len(out) > 0 {
		t.Fatalf("source: %v %s", err, out)
	}
	bin := t.TempDir()
	wrapper := "#!/bin/sh\nB2BADMIN_TEST_HELPER=1 exec " + os.Args[0] + " -test.run='^TestBatchHelperProcess$' -- \"$@\"\n"
	if err := os.WriteFile(filepath.Join(bin, "b2badmin"), []byte(wrapper), 0o755); err != nil {
		t.Fatal(err)
	}
	// Without the bash-completion package, a minimal _get_comp_words_by_ref.
	drive := `
_get_comp_words_by_ref() { cur="${COMP_WORDS[COMP_CWORD]}"; prev="${COMP_WORDS[COMP_CWORD-1]}"; words=("${COMP_WORDS[@]}"); cword=$COMP_CWORD; }
source "$1"
COMP_LINE="b2badmin t add-group 1 Mer"; COMP_POINT=${#COMP_LINE}
COMP_WORDS=(b2badmin t add-group 1 Mer); COMP_CWORD=4
__start_b2badmin b2badmin Mer 1 2>/dev/null
printf '%s\n' "${COMPREPLY[@]}"`
	cmd := exec.Command(bash, "-c", drive, "drive", script)
	cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "XDG_CONFIG_HOME="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("bash: %v\n%s", err, out)
	}
	got := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if !reflect.DeepEqual(got, []string{"Merchant owner", "Merchant staff"}) {
		t.Fatalf("bash offered %q", got)
	}
}
