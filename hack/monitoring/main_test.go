package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"
)

const dir = "../../artifacts/monitoring"

// The PrometheusRule is exactly what the generator makes of the plain rule files.
func TestPrometheusRuleIsCurrent(t *testing.T) {
	want, err := Generate(dir)
	require.NoError(t, err)
	got, err := os.ReadFile(filepath.Join(dir, "prometheusrule.yaml"))
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got), "run make monitoring-generate")
}

type rule struct {
	Alert       string            `json:"alert"`
	Expr        string            `json:"expr"`
	For         string            `json:"for"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
}

// Every alert has a severity, a summary, a description and a runbook_url naming a section of
// docs/runbook.md, and the alert tests of test/monitoring mention every alert.
func TestEveryAlertHasARunbookSection(t *testing.T) {
	runbook, err := os.ReadFile("../../docs/runbook.md")
	require.NoError(t, err)
	anchors := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^#+ (.+)$`).FindAllStringSubmatch(string(runbook), -1) {
		anchors[anchor(m[1])] = true
	}
	tests, err := os.ReadFile("../../test/monitoring/alerts_test.yaml")
	require.NoError(t, err)

	b, err := os.ReadFile(filepath.Join(dir, "alerting-rules.yaml"))
	require.NoError(t, err)
	var f struct {
		Groups []struct {
			Name  string `json:"name"`
			Rules []rule `json:"rules"`
		} `json:"groups"`
	}
	require.NoError(t, yaml.UnmarshalStrict(b, &f))
	alerts := 0
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			alerts++
			assert.Contains(t, []string{"warning", "critical"}, r.Labels["severity"], r.Alert)
			assert.NotEmpty(t, r.Annotations["summary"], r.Alert)
			assert.NotEmpty(t, r.Annotations["description"], r.Alert)
			url := r.Annotations["runbook_url"]
			assert.Equal(t, "docs/runbook.md#"+strings.ToLower(r.Alert), url, r.Alert)
			assert.True(t, anchors[strings.TrimPrefix(url, "docs/runbook.md#")], "%s: docs/runbook.md has no section %s", r.Alert, url)
			assert.Contains(t, string(tests), "alertname: "+r.Alert+"}", "%s has no test where it does not fire", r.Alert)
			assert.Contains(t, string(tests), "alertname: "+r.Alert+"\n", "%s has no test where it fires", r.Alert)
		}
	}
	assert.Greater(t, alerts, 10)
}

// anchor is the GitHub-style anchor of a Markdown heading.
func anchor(heading string) string {
	s := strings.ToLower(strings.TrimSpace(heading))
	s = regexp.MustCompile("[^a-z0-9 _-]").ReplaceAllString(s, "")
	return strings.ReplaceAll(s, " ", "-")
}
