package framework

import (
	"io"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"k8s.io/client-go/rest"
	"k8s.io/component-base/metrics/testutil"
)

// Get fetches path as the admin and fails the test unless it answers 200.
func (s *Server) Get(t testing.TB, path string) []byte {
	t.Helper()
	hc, err := rest.HTTPClientFor(s.Admin)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := hc.Get(s.Admin.Host + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d: %s", path, resp.StatusCode, b)
	}
	return b
}

// Metric sums the samples of the metric name on /metrics whose labels match every
// filter `label="value"` (0 when there is none).
func (s *Server) Metric(t testing.TB, name string, filters ...string) float64 {
	t.Helper()
	return SumMetric(t, string(s.Get(t, "/metrics")), name, filters...)
}

// SumMetric sums the samples of name in the Prometheus text exposition whose labels match
// every filter `label="value"`.
func SumMetric(t testing.TB, exposition, name string, filters ...string) float64 {
	t.Helper()
	want := model.LabelSet{}
	for _, f := range filters {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			t.Fatalf("metric filter %q is not label=\"value\"", f)
		}
		want[model.LabelName(k)] = model.LabelValue(strings.Trim(v, `"`))
	}
	ms := testutil.NewMetrics()
	if err := testutil.ParseMetrics(exposition, &ms); err != nil {
		t.Fatalf("parsing /metrics: %v", err)
	}
	var sum float64
samples:
	for _, sample := range ms[name] {
		for k, v := range want {
			if sample.Metric[k] != v {
				continue samples
			}
		}
		sum += float64(sample.Value)
	}
	return sum
}
