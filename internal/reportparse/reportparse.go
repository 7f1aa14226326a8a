// Package reportparse reads back the CI report formats b2badmin writes
// (JUnit XML, SARIF 2.1.0, GitHub workflow commands, TAP 13) the way their
// consumers would, for tests: with encoding/xml, encoding/json, a YAML
// parser for TAP's diagnostic blocks, and strict line grammars. It is
// written from the formats' specifications, not from b2badmin's writers.
package reportparse

import (
	"bufio"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ---- JUnit ----

// JUnit is a <testsuites> document.
type JUnit struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Errors   int          `xml:"errors,attr"`
	Suites   []JUnitSuite `xml:"testsuite"`
}

// JUnitSuite is one <testsuite>.
type JUnitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Errors     int             `xml:"errors,attr"`
	Time       string          `xml:"time,attr"`
	Properties []JUnitProperty `xml:"properties>property"`
	Cases      []JUnitCase     `xml:"testcase"`
}

// JUnitProperty is a suite property.
type JUnitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

// JUnitCase is one <testcase>.
type JUnitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	File      string        `xml:"file,attr"`
	Line      int           `xml:"line,attr"`
	Failure   *JUnitMessage `xml:"failure"`
	Skipped   *JUnitMessage `xml:"skipped"`
	Error     *JUnitMessage `xml:"error"`
}

// JUnitMessage is a <failure> or <skipped>.
type JUnitMessage struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// ParseJUnit decodes a document and checks that its counts add up.
func ParseJUnit(r io.Reader) (*JUnit, error) {
	var j JUnit
	dec := xml.NewDecoder(r)
	dec.Strict = true
	if err := dec.Decode(&j); err != nil {
		return nil, fmt.Errorf("junit: %w", err)
	}
	tests, fails, skips, errs := 0, 0, 0, 0
	for _, s := range j.Suites {
		f, k, e := 0, 0, 0
		for _, c := range s.Cases {
			if c.Name == "" || c.Classname == "" {
				return nil, fmt.Errorf("junit: a test case without name or classname: %+v", c)
			}
			if c.Failure != nil {
				f++
			}
			if c.Skipped != nil {
				k++
			}
			if c.Error != nil {
				e++
			}
		}
		if s.Tests != len(s.Cases) || s.Failures != f || s.Skipped != k || s.Errors != e {
			return nil, fmt.Errorf("junit: suite %q says %d tests, %d failures, %d skipped, %d errors; has %d, %d, %d, %d",
				s.Name, s.Tests, s.Failures, s.Skipped, s.Errors, len(s.Cases), f, k, e)
		}
		tests, fails, skips, errs = tests+s.Tests, fails+f, skips+k, errs+e
	}
	if j.Tests != tests || j.Failures != fails || j.Skipped != skips || j.Errors != errs {
		return nil, fmt.Errorf("junit: testsuites says %d/%d/%d/%d, suites add up to %d/%d/%d/%d", j.Tests, j.Failures, j.Skipped, j.Errors, tests, fails, skips, errs)
	}
	return &j, nil
}

// ---- SARIF ----

// SARIF is the part of a SARIF 2.1.0 log the checks read.
type SARIF struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []SARIFRun `json:"runs"`
}

// SARIFRun is one run.
type SARIFRun struct {
	Tool struct {
		Driver struct {
			Name  string `json:"name"`
			Rules []struct {
				ID               string         `json:"id"`
				ShortDescription *SARIFMessage  `json:"shortDescription"`
				FullDescription  *SARIFMessage  `json:"fullDescription"`
				Properties       map[string]any `json:"properties"`
			} `json:"rules"`
		} `json:"driver"`
	} `json:"tool"`
	Results     []SARIFResult    `json:"results"`
	Invocations []map[string]any `json:"invocations"`
}

// SARIFMessage is a message object.
type SARIFMessage struct {
	Text string `json:"text"`
}

// SARIFResult is one result.
type SARIFResult struct {
	RuleID              string            `json:"ruleId"`
	RuleIndex           *int              `json:"ruleIndex"`
	Level               string            `json:"level"`
	Message             *SARIFMessage     `json:"message"`
	BaselineState       string            `json:"baselineState"`
	PartialFingerprints map[string]string `json:"partialFingerprints"`
	Properties          map[string]any    `json:"properties"`
	Locations           []struct {
		PhysicalLocation *struct {
			ArtifactLocation struct {
				URI string `json:"uri"`
			} `json:"artifactLocation"`
			Region *struct {
				StartLine int `json:"startLine"`
			} `json:"region"`
		} `json:"physicalLocation"`
		LogicalLocations []struct {
			Name               string `json:"name"`
			FullyQualifiedName string `json:"fullyQualifiedName"`
			Kind               string `json:"kind"`
		} `json:"logicalLocations"`
	} `json:"locations"`
}

var sarifLevels = map[string]bool{"none": true, "note": true, "warning": true, "error": true}
var sarifBaselineStates = map[string]bool{"": true, "new": true, "unchanged": true, "updated": true, "absent": true}

// ParseSARIF decodes a log and checks what the 2.1.0 schema requires
// (version "2.1.0", runs, tool.driver.name, rule ids, result message text,
// enumerated levels and baseline states, a ruleIndex inside the rules, a
// region's startLine ≥ 1) and what GitHub code scanning needs besides
// (a ruleId, at least one location, the $schema).
func ParseSARIF(r io.Reader) (*SARIF, error) {
	var s SARIF
	dec := json.NewDecoder(r)
	dec.UseNumber()
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("sarif: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("sarif: data after the log")
	}
	switch {
	case s.Version != "2.1.0":
		return nil, fmt.Errorf("sarif: version %q", s.Version)
	case !strings.Contains(s.Schema, "sarif") || !strings.Contains(s.Schema, "2.1.0"):
		return nil, fmt.Errorf("sarif: $schema %q", s.Schema)
	case s.Runs == nil:
		return nil, fmt.Errorf("sarif: no runs")
	}
	for ri, run := range s.Runs {
		if run.Tool.Driver.Name == "" {
			return nil, fmt.Errorf("sarif: run %d: tool.driver.name missing", ri)
		}
		ids := map[string]bool{}
		for _, rule := range run.Tool.Driver.Rules {
			if rule.ID == "" || ids[rule.ID] {
				return nil, fmt.Errorf("sarif: run %d: rule id %q missing or repeated", ri, rule.ID)
			}
			if rule.ShortDescription == nil || rule.ShortDescription.Text == "" {
				return nil, fmt.Errorf("sarif: rule %q: shortDescription.text missing", rule.ID)
			}
			ids[rule.ID] = true
		}
		for i, res := range run.Results {
			switch {
			case res.Message == nil || res.Message.Text == "":
				return nil, fmt.Errorf("sarif: result %d: message.text missing", i)
			case res.RuleID == "":
				return nil, fmt.Errorf("sarif: result %d: ruleId missing", i)
			case res.Level != "" && !sarifLevels[res.Level]:
				return nil, fmt.Errorf("sarif: result %d: level %q", i, res.Level)
			case !sarifBaselineStates[res.BaselineState]:
				return nil, fmt.Errorf("sarif: result %d: baselineState %q", i, res.BaselineState)
			case len(res.Locations) == 0:
				return nil, fmt.Errorf("sarif: result %d: no locations", i)
			}
			if res.RuleIndex != nil {
				if *res.RuleIndex < 0 || *res.RuleIndex >= len(run.Tool.Driver.Rules) || run.Tool.Driver.Rules[*res.RuleIndex].ID != res.RuleID {
					return nil, fmt.Errorf("sarif: result %d: ruleIndex %d does not name rule %q", i, *res.RuleIndex, res.RuleID)
				}
			}
			for _, l := range res.Locations {
				if p := l.PhysicalLocation; p != nil {
					if p.ArtifactLocation.URI == "" || (p.Region != nil && p.Region.StartLine < 1) {
						return nil, fmt.Errorf("sarif: result %d: bad physical location %+v", i, p)
					}
				} else if len(l.LogicalLocations) == 0 {
					return nil, fmt.Errorf("sarif: result %d: a location with neither physical nor logical part", i)
				}
			}
		}
	}
	return &s, nil
}

// ---- GitHub workflow commands ----

// Annotation is one ::error / ::warning / ::notice command.
type Annotation struct {
	Level      string
	Properties map[string]string
	Message    string
}

var ghLine = regexp.MustCompile(`^::(error|warning|notice)(?: ([^:]*))?::(.*)$`)

// ParseGitHub reads workflow-command lines, undoing their escapes; any
// other non-empty line is an error (the format is annotations only).
func ParseGitHub(r io.Reader) ([]Annotation, error) {
	var out []Annotation
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" {
			continue
		}
		m := ghLine.FindStringSubmatch(line)
		if m == nil {
			return nil, fmt.Errorf("github: line %d is not a workflow command: %q", n, line)
		}
		a := Annotation{Level: m[1], Properties: map[string]string{}, Message: ghUnescape(m[3])}
		if m[2] != "" {
			for _, kv := range strings.Split(m[2], ",") {
				k, v, ok := strings.Cut(kv, "=")
				if !ok || k == "" {
					return nil, fmt.Errorf("github: line %d: bad property %q", n, kv)
				}
				a.Properties[k] = ghUnescape(v)
			}
		}
		out = append(out, a)
	}
	return out, sc.Err()
}

func ghUnescape(s string) string {
	return strings.NewReplacer("%0D", "\r", "%0A", "\n", "%3A", ":", "%2C", ",", "%25", "%").Replace(s)
}

// ---- TAP 13 ----

// TAP is a parsed TAP 13 stream.
type TAP struct {
	Version  int
	Plan     int // N of 1..N
	Tests    []TAPTest
	Comments []string
	BailOut  string // the reason of a "Bail out!" line, which ends the stream
}

// TAPTest is one test line with its YAML block.
type TAPTest struct {
	OK          bool
	Number      int
	Description string // unescaped
	Directive   string // "TODO ..." or "SKIP ..."; "" when none
	YAML        map[string]any
}

var tapTest = regexp.MustCompile(`^(not ok|ok)\b ?(\d+)?(?: -)? ?(.*)$`)

// ParseTAP reads a TAP 13 stream: the version line first, test lines
// numbered in sequence, YAML diagnostic blocks (parsed) after their test,
// one plan at the start or the end that matches the number of tests.
func ParseTAP(r io.Reader) (*TAP, error) {
	t := &TAP{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var yamlLines []string
	inYAML, planAt, planLeading := false, 0, false
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if n == 1 {
			if line != "TAP version 13" {
				return nil, fmt.Errorf("tap: first line %q, want TAP version 13", line)
			}
			t.Version = 13
			continue
		}
		if inYAML {
			if strings.TrimSpace(line) == "..." {
				var m map[string]any
				if err := yaml.Unmarshal([]byte(strings.Join(yamlLines, "\n")), &m); err != nil {
					return nil, fmt.Errorf("tap: line %d: YAML block: %v", n, err)
				}
				t.Tests[len(t.Tests)-1].YAML = m
				inYAML, yamlLines = false, nil
			} else {
				yamlLines = append(yamlLines, line)
			}
			continue
		}
		switch {
		case strings.TrimSpace(line) == "---":
			if len(t.Tests) == 0 || t.Tests[len(t.Tests)-1].YAML != nil || !strings.HasPrefix(line, " ") {
				return nil, fmt.Errorf("tap: line %d: YAML block not after a test line", n)
			}
			inYAML = true
		case strings.HasPrefix(line, "1.."):
			if planAt != 0 {
				return nil, fmt.Errorf("tap: line %d: second plan", n)
			}
			p, err := strconv.Atoi(strings.TrimPrefix(line, "1.."))
			if err != nil {
				return nil, fmt.Errorf("tap: line %d: bad plan %q", n, line)
			}
			t.Plan, planAt, planLeading = p, n, len(t.Tests) == 0
		case strings.HasPrefix(line, "Bail out!"):
			t.BailOut = strings.TrimSpace(strings.TrimPrefix(line, "Bail out!"))
			return t, nil
		case strings.HasPrefix(line, "#"):
			t.Comments = append(t.Comments, strings.TrimSpace(strings.TrimPrefix(line, "#")))
		case strings.HasPrefix(line, "ok") || strings.HasPrefix(line, "not ok"):
			if planAt != 0 && !planLeading {
				return nil, fmt.Errorf("tap: line %d: test after a trailing plan", n)
			}
			m := tapTest.FindStringSubmatch(line)
			if m == nil {
				return nil, fmt.Errorf("tap: line %d: %q", n, line)
			}
			tt := TAPTest{OK: m[1] == "ok"}
			tt.Number, _ = strconv.Atoi(m[2])
			if tt.Number != len(t.Tests)+1 {
				return nil, fmt.Errorf("tap: line %d: test %d out of sequence", n, tt.Number)
			}
			tt.Description, tt.Directive = splitDirective(m[3])
			t.Tests = append(t.Tests, tt)
		case strings.TrimSpace(line) == "":
		default:
			return nil, fmt.Errorf("tap: line %d: not TAP: %q", n, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if inYAML {
		return nil, fmt.Errorf("tap: unterminated YAML block")
	}
	if planAt == 0 || t.Plan != len(t.Tests) {
		return nil, fmt.Errorf("tap: plan 1..%d for %d tests", t.Plan, len(t.Tests))
	}
	return t, nil
}

// splitDirective splits a description at its first unescaped #, and
// undoes the \# and \\ escapes.
func splitDirective(s string) (desc, directive string) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s):
			i++
			b.WriteByte(s[i])
		case s[i] == '#':
			return strings.TrimSpace(b.String()), strings.TrimSpace(s[i+1:])
		default:
			b.WriteByte(s[i])
		}
	}
	return strings.TrimSpace(b.String()), ""
}

// Failed reports whether a test counts as failed: not ok and not TODO.
func (t TAPTest) Failed() bool {
	return !t.OK && !strings.HasPrefix(strings.ToUpper(t.Directive), "TODO")
}
