package robustness

import (
	"bytes"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/garden-apiserver/garden-apiserver/test/procs"
)

// Cluster is a 3-member etcd cluster and two garden-apiserver replicas on it, run as real
// processes from the binaries of `make tools build`.
type Cluster struct {
	Dir      string
	Etcd     []*EtcdMember
	Replicas []*Replica
	group    *procs.Group
	bins     Binaries
}

// Binaries are the executables the cluster runs.
type Binaries struct{ Etcd, Server string }

// EtcdMember is one etcd process with fixed ports and data directory, so it can be restarted.
type EtcdMember struct {
	Name, ClientURL string
	args            []string
	Proc            *procs.Process
}

// Replica is one garden-apiserver process.
type Replica struct {
	Name, StateDir string
	Port           int
	args           []string
	Proc           *procs.Process
}

// URL is the replica's base URL.
func (r *Replica) URL() string { return fmt.Sprintf("https://127.0.0.1:%d", r.Port) }

// FindBinaries locates etcd and the server below the repository root above dir.
func FindBinaries(dir string) (root string, b Binaries, err error) {
	for root = dir; ; root = filepath.Dir(root) {
		if _, err := os.Stat(filepath.Join(root, "cmd", "apiserver")); err == nil {
			break
		}
		if root == filepath.Dir(root) {
			return "", b, fmt.Errorf("no repository above %s", dir)
		}
	}
	b = Binaries{Etcd: filepath.Join(root, "_output", "tools", "bin", "etcd"), Server: filepath.Join(root, "_output", "bin", "garden-apiserver")}
	for _, p := range []string{b.Etcd, b.Server} {
		if _, err := os.Stat(p); err != nil {
			return "", b, fmt.Errorf("missing %s: run `make robustness` (it runs `make tools build` first)", p)
		}
	}
	return root, b, nil
}

// StartCluster starts the etcd members, then the replicas with serverArgs (encryption flags).
func StartCluster(dir string, bins Binaries, serverArgs ...string) (*Cluster, error) {
	c := &Cluster{Dir: dir, group: &procs.Group{Dir: dir}, bins: bins}
	if err := c.prepareEtcd(3); err != nil {
		return c, err
	}
	for _, m := range c.Etcd {
		if err := c.StartEtcd(m); err != nil {
			return c, err
		}
	}
	var urls []string
	for _, m := range c.Etcd {
		urls = append(urls, m.ClientURL)
	}
	for i := range 2 {
		port, err := procs.FreePort()
		if err != nil {
			return c, err
		}
		r := &Replica{Name: fmt.Sprintf("replica-%d", i), StateDir: filepath.Join(dir, fmt.Sprintf("replica-%d", i)), Port: port}
		r.args = append([]string{"--standalone", "--bind-address=127.0.0.1", fmt.Sprintf("--secure-port=%d", port),
			"--state-dir=" + r.StateDir, "--etcd-servers=" + strings.Join(urls, ","),
			"--shoot-kubeconfig-key-pool-size=0"}, serverArgs...) // no kubeconfigs issued here: no keys to generate
		c.Replicas = append(c.Replicas, r)
		if err := c.StartReplica(r); err != nil {
			return c, err
		}
	}
	return c, nil
}

// Stop stops every process.
func (c *Cluster) Stop() {
	for _, m := range c.Etcd {
		if m.Proc != nil {
			_ = m.Proc.Cmd.Process.Signal(syscall.SIGCONT) // a paused member cannot stop
		}
	}
	c.group.StopAll()
}

func (c *Cluster) prepareEtcd(n int) error {
	var cluster []string
	for i := range n {
		client, err := procs.FreePort()
		if err != nil {
			return err
		}
		peer, err := procs.FreePort()
		if err != nil {
			return err
		}
		m := &EtcdMember{Name: fmt.Sprintf("etcd-%d", i), ClientURL: fmt.Sprintf("http://127.0.0.1:%d", client)}
		peerURL := fmt.Sprintf("http://127.0.0.1:%d", peer)
		// A SIGKILL keeps the page cache: fsync would only add latency on a shared machine.
		m.args = []string{"--name=" + m.Name, "--data-dir=" + filepath.Join(c.Dir, m.Name+"-data"),
			"--listen-client-urls=" + m.ClientURL, "--advertise-client-urls=" + m.ClientURL,
			"--listen-peer-urls=" + peerURL, "--initial-advertise-peer-urls=" + peerURL,
			"--initial-cluster-token=robustness", "--unsafe-no-fsync"}
		cluster = append(cluster, m.Name+"="+peerURL)
		c.Etcd = append(c.Etcd, m)
	}
	for _, m := range c.Etcd {
		m.args = append(m.args, "--initial-cluster="+strings.Join(cluster, ","))
	}
	return nil
}

// StartEtcd starts (or restarts, on the same data) a member; the first start of a cluster
// does not wait for health, which needs a quorum.
func (c *Cluster) StartEtcd(m *EtcdMember) error {
	restart := m.Proc != nil
	p, err := c.group.Start(m.Name, c.bins.Etcd, m.args...)
	if err != nil {
		return err
	}
	m.Proc = p
	if restart {
		return procs.WaitHealthy(p, m.ClientURL+"/health", "", "", 60*time.Second)
	}
	if m == c.Etcd[len(c.Etcd)-1] {
		for _, o := range c.Etcd {
			if err := procs.WaitHealthy(o.Proc, o.ClientURL+"/health", "", "", 60*time.Second); err != nil {
				return err
			}
		}
	}
	return nil
}

// StartReplica starts (or restarts) a replica and waits until it is ready.
func (c *Cluster) StartReplica(r *Replica) error {
	p, err := c.group.Start(r.Name, c.bins.Server, r.args...)
	if err != nil {
		return err
	}
	r.Proc = p
	caFile := filepath.Join(r.StateDir, "pki", "serving-ca.crt")
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if _, err := os.Stat(caFile); err == nil {
			break
		}
		if p.Exited() || time.Now().After(deadline) {
			return fmt.Errorf("%s wrote no serving CA: %s", r.Name, procs.Tail(p.LogPath, 20))
		}
	}
	return procs.WaitHealthy(p, r.URL()+"/readyz", caFile, "", 90*time.Second)
}

// Leader is the member that leads, by the members' own status.
func (c *Cluster) Leader() (*EtcdMember, error) {
	for _, m := range c.Etcd {
		var st struct {
			Header struct {
				MemberID string `json:"member_id"`
			} `json:"header"`
			Leader string `json:"leader"`
		}
		if m.Proc.Exited() || etcdCall(m, "/v3/maintenance/status", struct{}{}, &st) != nil {
			continue
		}
		if st.Leader != "" && st.Leader == st.Header.MemberID {
			return m, nil
		}
	}
	return nil, fmt.Errorf("no etcd member reports itself leader")
}

// Revision is etcd's current revision, read from any running member.
func (c *Cluster) Revision() (int64, error) {
	var err error
	for _, m := range c.Etcd {
		var resp struct {
			Header struct {
				Revision string `json:"revision"`
			} `json:"header"`
		}
		if err = etcdCall(m, "/v3/kv/range", map[string]string{"key": base64.StdEncoding.EncodeToString([]byte("/robustness"))}, &resp); err == nil {
			var rev int64
			_, err = fmt.Sscan(resp.Header.Revision, &rev)
			return rev, err
		}
	}
	return 0, err
}

// Compact compacts etcd's history up to rev (physically, as kube-apiserver does).
func (c *Cluster) Compact(rev int64) error {
	var err error
	for _, m := range c.Etcd {
		if err = etcdCall(m, "/v3/kv/compaction", map[string]any{"revision": fmt.Sprint(rev), "physical": true}, nil); err == nil {
			return nil
		}
	}
	return err
}

// etcdCall posts to etcd's JSON gateway.
func etcdCall(m *EtcdMember, path string, body, out any) error {
	b, _ := json.Marshal(body)
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Post(m.ClientURL+path, "application/json", bytes.NewReader(b))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s%s: %s", m.ClientURL, path, resp.Status)
	}
	if out == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// insecureProbe reads health endpoints of replicas that may be restarting.
var insecureProbe = &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}

// Ready reports whether the replica answers /readyz with 200.
func (r *Replica) Ready() bool {
	resp, err := insecureProbe.Get(r.URL() + "/readyz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}
