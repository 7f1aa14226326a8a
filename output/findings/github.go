package findings

import (
	"bufio"
	"io"
	"strconv"
	"strings"
)

// githubWriter writes GitHub Actions workflow commands: one
// ::error (a finding that fails the run) or ::warning (one that does not)
// per finding, with file and line when the findings point into a file, so
// that the job's summary and the file's view show an annotation there.
// Passing subjects print nothing.
type githubWriter struct {
	w   *bufio.Writer
	r   *Report
	err error
}

func newGitHub(w io.Writer, r *Report) *githubWriter {
	return &githubWriter{w: bufio.NewWriterSize(w, 64<<10), r: r}
}

// Workflow command escaping (actions/toolkit, command.ts): data escapes
// %, CR and LF; property values also : and ,.
var (
	ghData     = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A")
	ghProperty = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C")
)

func (g *githubWriter) Finding(f *Finding) error {
	if g.err != nil {
		return g.err
	}
	var b strings.Builder
	if f.Fails {
		b.WriteString("::error ")
	} else {
		b.WriteString("::warning ")
	}
	if g.r.File != "" {
		b.WriteString("file=" + ghProperty.Replace(g.r.File))
		if f.Line > 0 {
			b.WriteString(",line=" + strconv.Itoa(f.Line))
		}
		b.WriteString(",")
	}
	b.WriteString("title=" + ghProperty.Replace(g.r.Tool+" "+f.RuleID))
	b.WriteString("::" + ghData.Replace(f.Message+stateNote(f.State)) + "\n")
	_, g.err = g.w.WriteString(b.String())
	return g.err
}

func (g *githubWriter) Pass(string, string) error { return g.err }

func (g *githubWriter) Close(s Summary) error {
	if g.err != nil {
		return g.err
	}
	if s.Failure != "" {
		g.w.WriteString("::error title=" + ghProperty.Replace(g.r.Tool+" "+g.r.Command) + "::" + ghData.Replace("the run failed, findings are incomplete: "+s.Failure) + "\n")
	}
	return g.w.Flush()
}
