// Package procs starts and watches the real processes that the end-to-end suite and the
// benchmark run (etcd, kube-apiserver, garden-apiserver) on loopback.
package procs

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Process is a child process whose output is appended to a log file.
type Process struct {
	Name    string
	LogPath string
	Cmd     *exec.Cmd
	Started time.Time

	done chan struct{}
	err  error
}

// Start runs bin with args, its output appended to logPath. The child is killed if this
// process dies, so no test or benchmark leaves servers behind.
func Start(name, logPath, bin string, args ...string) (*Process, error) {
	log, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "=== %s %s %s\n", time.Now().Format(time.RFC3339), bin, strings.Join(args, " "))
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	p := &Process{Name: name, LogPath: logPath, Cmd: cmd, Started: time.Now(), done: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		_ = log.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	go func() {
		p.err = cmd.Wait()
		_ = log.Close()
		close(p.done)
	}()
	return p, nil
}

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Err is the process's exit error, once Done is closed.
func (p *Process) Err() error {
	<-p.done
	return p.err
}

// Exited reports whether the process has exited.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Stop sends SIGTERM and waits for the process, killing it after 20 s.
func (p *Process) Stop() {
	if p.Exited() {
		return
	}
	_ = p.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		p.Kill()
	}
}

// Kill sends SIGKILL and waits for the process.
func (p *Process) Kill() {
	_ = p.Cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// FreePort returns a TCP port free on 127.0.0.1 at the time of the call.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// WaitHealthy polls url (trusting caFile, with a bearer token if given) until it answers 200,
// p exits, or timeout passes.
func WaitHealthy(p *Process, url, caFile, token string, timeout time.Duration) error {
	tlsConfig := &tls.Config{}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return err
		}
		tlsConfig.RootCAs = x509.NewCertPool()
		tlsConfig.RootCAs.AppendCertsFromPEM(pem)
	}
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: tlsConfig}}
	defer client.CloseIdleConnections()
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		if p.Exited() {
			return fmt.Errorf("%s exited (%s) before %s answered; log %s:\n%s", p.Name, fmt.Sprint(p.err), url, p.LogPath, Tail(p.LogPath, 30))
		}
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Sprintf("%d: %s", resp.StatusCode, body)
		} else {
			last = err.Error()
		}
		time.Sleep(50 * time.Millisecond) // fine-grained: the benchmark times cold starts with it
	}
	return fmt.Errorf("%s: %s did not answer 200 within %s (last: %s); log %s", p.Name, url, timeout, last, p.LogPath)
}

// Tail returns the last n lines of the file at path.
func Tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error() + "\n"
	}
	lines := strings.SplitAfter(string(data), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "")
}

// Group starts processes with their logs in one directory and stops them together.
type Group struct {
	Dir string

	mu    sync.Mutex // StopAll may run from a signal handler
	procs []*Process
}

// Start runs bin with args, its output appended to <Dir>/<name>.log.
func (g *Group) Start(name, bin string, args ...string) (*Process, error) {
	p, err := Start(name, filepath.Join(g.Dir, name+".log"), bin, args...)
	if err != nil {
		return nil, err
	}
	g.mu.Lock()
	g.procs = append(g.procs, p)
	g.mu.Unlock()
	return p, nil
}

// StopAll stops every process in reverse start order: servers before the etcd they use.
func (g *Group) StopAll() {
	g.mu.Lock()
	all := slices.Clone(g.procs)
	g.mu.Unlock()
	for i := len(all) - 1; i >= 0; i-- {
		all[i].Stop()
	}
}

// StartEtcd runs a single-member etcd on loopback, its data in <Dir>/<name>-data, and waits
// until it is healthy. It returns the client URL.
func (g *Group) StartEtcd(bin, name string, extra ...string) (string, *Process, error) {
	clientPort, err := FreePort()
	if err != nil {
		return "", nil, err
	}
	peerPort, err := FreePort()
	if err != nil {
		return "", nil, err
	}
	client := fmt.Sprintf("http://127.0.0.1:%d", clientPort)
	peer := fmt.Sprintf("http://127.0.0.1:%d", peerPort)
	p, err := g.Start(name, bin, append([]string{"--name=" + name, "--data-dir=" + filepath.Join(g.Dir, name+"-data"),
		"--listen-client-urls=" + client, "--advertise-client-urls=" + client,
		"--listen-peer-urls=" + peer, "--initial-advertise-peer-urls=" + peer,
		"--initial-cluster=" + name + "=" + peer}, extra...)...)
	if err != nil {
		return "", nil, err
	}
	return client, p, WaitHealthy(p, client+"/health", "", "", 30*time.Second)
}
