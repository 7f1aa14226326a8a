// Command gendocs writes b2badmin's man pages and Markdown command
// reference from the Cobra tree (make man, make docs), so that the
// reference is the --help text and cannot drift from it.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"

	"github.com/b2badmin/b2badmin/commands"
)

func main() {
	man := flag.String("man", "", "write man pages (section 1) into this directory")
	md := flag.String("markdown", "", "write the Markdown reference into this directory")
	flag.Parse()
	if *man == "" && *md == "" {
		fmt.Fprintln(os.Stderr, "gendocs: give -man DIR and/or -markdown DIR")
		os.Exit(2)
	}
	if *man != "" {
		if err := writeMan(*man, sourceDate()); err != nil {
			fmt.Fprintln(os.Stderr, "gendocs:", err)
			os.Exit(1)
		}
	}
	if *md != "" {
		if err := writeMarkdown(*md); err != nil {
			fmt.Fprintln(os.Stderr, "gendocs:", err)
			os.Exit(1)
		}
	}
}

// tree is the command tree as a user with no config and no environment
// sees it: defaults in the help must not depend on who generated it.
func tree() *cobra.Command {
	f := commands.NewFactory(&commands.IOStreams{In: strings.NewReader(""), Out: os.Stdout, ErrOut: os.Stderr},
		func(string) string { return "" })
	root := commands.NewRootCmd(f.NewInvocation(f.IO, nil, nil))
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		c.DisableAutoGenTag = true // no generation date: the reference is committed
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(root)
	return root
}

// writeMarkdown replaces dir's Markdown files with the reference, one page
// per command.
func writeMarkdown(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	old, _ := filepath.Glob(filepath.Join(dir, "*.md"))
	for _, f := range old {
		if err := os.Remove(f); err != nil {
			return err
		}
	}
	return doc.GenMarkdownTree(tree(), dir)
}

// writeMan writes one page per command (b2badmin-users-list.1, …).
func writeMan(dir string, date time.Time) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	old, _ := filepath.Glob(filepath.Join(dir, "*.1"))
	for _, f := range old {
		if err := os.Remove(f); err != nil {
			return err
		}
	}
	h := &doc.GenManHeader{Title: "B2BADMIN", Section: "1", Source: "b2badmin", Manual: "b2badmin manual", Date: &date}
	return doc.GenManTree(tree(), h, dir)
}

// sourceDate is $SOURCE_DATE_EPOCH (reproducible builds) or now.
func sourceDate() time.Time {
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return time.Unix(n, 0).UTC()
		}
	}
	return time.Now().UTC()
}
