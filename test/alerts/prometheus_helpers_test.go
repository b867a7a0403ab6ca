package alerts

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/garden-apiserver/garden-apiserver/test/procs"
)

type prometheus struct {
	url  string
	http *http.Client
}

// startPrometheus runs Debian's prometheus on a loopback port with the rules of
// artifacts/monitoring (for: shortened) and one scrape job per replica, both labelled
// job="garden-apiserver" as the rules expect. Each replica authorizes /metrics for its
// standalone admin certificate.
func startPrometheus(t *testing.T, e *env) *prometheus {
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		t.Fatalf("prometheus is not installed (make e2e installs it: hack/install-prometheus.sh): %v", err)
	}
	dir := filepath.Join(e.dir, "prometheus")
	var rules []string
	for _, f := range []string{"recording-rules.yaml", "alerting-rules.yaml"} {
		b, err := os.ReadFile(filepath.Join(e.root, "artifacts", "monitoring", f))
		if err != nil {
			t.Fatal(err)
		}
		rules = append(rules, writeFile(t, filepath.Join(dir, f), shortFor(b)))
	}
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "global: {scrape_interval: 1s, evaluation_interval: 1s, scrape_timeout: 1s}\nrule_files: [%s]\nscrape_configs:\n", strings.Join(rules, ", "))
	for _, r := range e.replicas {
		cert, key := adminCredentials(t, r, dir)
		fmt.Fprintf(&cfg, `- job_name: %s
  scheme: https
  tls_config: {ca_file: %s, cert_file: %s, key_file: %s}
  static_configs: [{targets: ["%s"]}]
  relabel_configs: [{target_label: job, replacement: garden-apiserver}]
`, r.name, filepath.Join(r.stateDir, "pki", "serving-ca.crt"), cert, key, r.addr())
	}
	config := writeFile(t, filepath.Join(dir, "prometheus.yml"), []byte(cfg.String()))
	port, err := procs.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.procs.Start("prometheus", bin, "--config.file="+config, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		fmt.Sprintf("--web.listen-address=127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	prom := &prometheus{url: fmt.Sprintf("http://127.0.0.1:%d", port), http: &http.Client{Timeout: 5 * time.Second}}
	if err := procs.WaitHealthy(p, prom.url+"/-/ready", "", "", 60*time.Second); err != nil {
		t.Fatal(err)
	}
	// Both replicas are scraped before any alert is checked for being silent.
	prom.wait(t, "both replicas scraped", time.Minute, func() (bool, string) {
		up := prom.query(t, `sum(up{job="garden-apiserver"})`)
		return up == "2", "sum(up) = " + up
	})
	return prom
}

// adminCredentials writes the client certificate and key of the replica's admin kubeconfig.
func adminCredentials(t *testing.T, r *replica, dir string) (string, string) {
	cfg, err := clientcmd.LoadFromFile(filepath.Join(r.stateDir, "admin.kubeconfig"))
	if err != nil {
		t.Fatal(err)
	}
	user := cfg.AuthInfos[cfg.Contexts[cfg.CurrentContext].AuthInfo]
	return writeFile(t, filepath.Join(dir, r.name+".crt"), user.ClientCertificateData),
		writeFile(t, filepath.Join(dir, r.name+".key"), user.ClientKeyData)
}

func writeFile(t *testing.T, path string, data []byte) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

type alert struct {
	Labels map[string]string `json:"labels"`
	State  string            `json:"state"`
}

// alerts returns the active (pending or firing) alerts of Prometheus' HTTP API.
func (p *prometheus) alerts(t *testing.T) []alert {
	t.Helper()
	var out struct {
		Data struct {
			Alerts []alert `json:"alerts"`
		} `json:"data"`
	}
	p.get(t, "/api/v1/alerts", &out)
	return out.Data.Alerts
}

// firingOn returns the instances (or "" for alerts without one) on which name fires.
func (p *prometheus) firingOn(t *testing.T, name string) []string {
	var on []string
	for _, a := range p.alerts(t) {
		if a.Labels["alertname"] == name && a.State == "firing" {
			on = append(on, a.Labels["instance"])
		}
	}
	return on
}

func (p *prometheus) firing(t *testing.T, name string) bool { return len(p.firingOn(t, name)) > 0 }

func (p *prometheus) waitFiring(t *testing.T, name string, timeout time.Duration) {
	p.waitFiringOn(t, name, timeout)
}

// waitFiringOn waits until name fires, on every given instance.
func (p *prometheus) waitFiringOn(t *testing.T, name string, timeout time.Duration, instances ...string) {
	t.Helper()
	start := time.Now()
	p.wait(t, name+" firing", timeout, func() (bool, string) {
		on := p.firingOn(t, name)
		for _, i := range instances {
			if !slices.Contains(on, i) {
				return false, fmt.Sprintf("firing on %v", on)
			}
		}
		return len(on) > 0, fmt.Sprintf("firing on %v", on)
	})
	t.Logf("%s firing after %s", name, time.Since(start).Round(time.Second))
}

func (p *prometheus) waitCleared(t *testing.T, name string, timeout time.Duration) {
	t.Helper()
	start := time.Now()
	p.wait(t, name+" cleared", timeout, func() (bool, string) {
		on := p.firingOn(t, name)
		return len(on) == 0, fmt.Sprintf("firing on %v", on)
	})
	t.Logf("%s cleared after %s", name, time.Since(start).Round(time.Second))
}

// wait polls cond every half second until it holds or timeout passes.
func (p *prometheus) wait(t *testing.T, what string, timeout time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: still %s after %s; alerts: %+v", what, state, timeout, p.alerts(t))
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// query returns the value of a PromQL expression with a single result, "" when it has none.
func (p *prometheus) query(t *testing.T, expr string) string {
	t.Helper()
	var out struct {
		Data struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	p.get(t, "/api/v1/query?query="+url.QueryEscape(expr), &out)
	if len(out.Data.Result) != 1 {
		return ""
	}
	s, _ := out.Data.Result[0].Value[1].(string)
	return s
}

func (p *prometheus) get(t *testing.T, path string, into any) {
	t.Helper()
	resp, err := p.http.Get(p.url + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", path, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}
