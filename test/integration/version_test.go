package integration

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/garden-apiserver/garden-apiserver/pkg/cmd/server"
	"github.com/garden-apiserver/garden-apiserver/test/procs"
)

// TestBuildVersion builds the server as `make build` does, with a version set through
// hack/version.sh, and checks that --version prints it and that /version of the running
// server reports it with the commit. The binary started in standalone mode without
// --bind-address also shows that it listens on loopback only.
func TestBuildVersion(t *testing.T) {
	const version = "v1.2.3-versiontest+0123456789abcd"
	dir := t.TempDir()
	bin := buildStamped(t, dir, version)

	out, err := exec.Command(bin, "--version").CombinedOutput()
	if want := "garden-apiserver " + version + "\n"; err != nil || string(out) != want {
		t.Errorf("--version: %v, printed %q, want %q", err, out, want)
	}

	port, err := procs.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(dir, "state")
	// No --bind-address: standalone mode listens on loopback by default (checked below).
	p, err := procs.Start("garden-apiserver", filepath.Join(dir, "server.log"), bin, "--standalone", "--state-dir", state,
		fmt.Sprintf("--secure-port=%d", port))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	// The serving CA and the kubeconfig appear once the server has prepared its state directory.
	kubeconfig := filepath.Join(state, server.AdminKubeconfigFile)
	if err := wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, 90*time.Second, true,
		func(context.Context) (bool, error) {
			if p.Exited() {
				return false, fmt.Errorf("the server exited: %w", p.Err())
			}
			_, err := os.Stat(kubeconfig)
			return err == nil, nil
		}); err != nil {
		t.Fatalf("no %s: %v\n%s", kubeconfig, err, procs.Tail(filepath.Join(dir, "server.log"), 30))
	}
	if err := procs.WaitHealthy(p, fmt.Sprintf("https://127.0.0.1:%d/readyz", port), filepath.Join(state, "pki", "serving-ca.crt"), "", 90*time.Second); err != nil {
		t.Fatalf("%v\n%s", err, procs.Tail(filepath.Join(dir, "server.log"), 30))
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	info, err := dc.ServerVersion()
	if err != nil {
		t.Fatal(err)
	}
	if info.GitVersion != version || info.GitCommit != "0123456789abcdef0123456789abcdef01234567" || info.GitTreeState != "clean" ||
		info.Major != "1" || info.Minor != "2+" || info.BuildDate == "1970-01-01T00:00:00Z" {
		t.Errorf("/version = %+v, want the stamped %s, its commit, major 1 minor 2+ and a build date", info, version)
	}
	assertLoopbackOnly(t, port)
}

// buildStamped builds the server into dir as `make build` does, with version stamped through
// hack/version.sh and a fixed commit.
func buildStamped(t *testing.T, dir, version string) string {
	t.Helper()
	stamp := exec.Command("../../hack/version.sh")
	stamp.Env = append(os.Environ(), "VERSION="+version, "GIT_COMMIT=0123456789abcdef0123456789abcdef01234567", "GIT_TREE_STATE=clean")
	ldflags, err := stamp.Output()
	if err != nil {
		t.Fatalf("hack/version.sh: %v", err)
	}
	bin := filepath.Join(dir, "garden-apiserver")
	if out, err := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w "+strings.TrimSpace(string(ldflags)),
		"-o", bin, "../../cmd/apiserver").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// assertLoopbackOnly: the port is not reachable on this machine's other addresses.
func assertLoopbackOnly(t *testing.T, port int) {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, a := range addrs {
		ipNet, ok := a.(*net.IPNet)
		if !ok || ipNet.IP.IsLoopback() || ipNet.IP.IsLinkLocalUnicast() {
			continue
		}
		addr := net.JoinHostPort(ipNet.IP.String(), strconv.Itoa(port))
		if conn, err := net.DialTimeout("tcp", addr, 5*time.Second); err == nil {
			_ = conn.Close()
			t.Errorf("standalone mode without --bind-address accepts connections on %s", addr)
		}
		checked++
	}
	if checked == 0 {
		t.Log("no address besides loopback on this machine: the loopback-only check had nothing to dial")
	}
}
