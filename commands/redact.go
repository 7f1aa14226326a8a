package commands

import (
	"strings"

	"github.com/b2badmin/b2badmin/client"
)

// RedactCommandLine drops password values from a command line before it is
// logged (--password=… and the word after --password). The tool never takes
// passwords from argv, but a mistyped line must not leak one into the log.
func RedactCommandLine(args []string) string {
	out := make([]string, 0, len(args)+1)
	out = append(out, "b2badmin")
	skip := "" // the flag whose value a is
	for _, a := range args {
		switch {
		case skip == "password":
			out = append(out, "xxxxx")
			skip = ""
		case skip == "dsn":
			out = append(out, shellQuote(client.RedactDSN(a)))
			skip = ""
		case a == "--password":
			out = append(out, a)
			skip = "password"
		case a == "--dsn" || a == "--read-dsn":
			out = append(out, a)
			skip = "dsn"
		case strings.HasPrefix(a, "--password="):
			out = append(out, "--password=xxxxx")
		case strings.HasPrefix(a, "--dsn=") || strings.HasPrefix(a, "--read-dsn="):
			name, v, _ := strings.Cut(a, "=")
			out = append(out, name+"="+shellQuote(client.RedactDSN(v)))
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
