package e2e

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// env is the running environment, set up once by TestMain.
var env *environment

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	start := time.Now()
	e, err := newEnvironment()
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		return 1
	}
	env = e
	code := 1
	defer func() {
		failed := code != 0
		if failed {
			e.dumpLogs(os.Stderr)
		}
		e.teardown()
		if failed || os.Getenv("E2E_KEEP_LOGS") != "" {
			fmt.Fprintf(os.Stderr, "e2e: logs, certificates and kubeconfigs kept in %s\n", e.dir)
		} else {
			_ = os.RemoveAll(e.dir)
		}
	}()
	if err := e.setup(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: setting up the environment: %v\n", err)
		return code
	}
	fmt.Fprintf(os.Stderr, "e2e: environment ready in %s (kube-apiserver https://127.0.0.1:%d, replicas :%d and :%d behind proxy :%d, shoot kube-apiserver :%d)\n",
		time.Since(start).Round(time.Second), e.kas.port, e.replicas[0].port, e.replicas[1].port, e.proxy.port(), e.shootKAS.port)
	code = m.Run()
	return code
}

// findRepo returns the repository root and checks that the binaries the suite runs exist.
func findRepo() (root string, bins binaries, err error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", bins, err
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			if _, err := os.Stat(filepath.Join(dir, "cmd", "apiserver")); err == nil {
				root = dir
				break
			}
		}
		if dir == filepath.Dir(dir) {
			return "", bins, fmt.Errorf("no garden-apiserver repository above %s", wd)
		}
	}
	bins = binaries{
		etcd:          filepath.Join(root, "_output", "tools", "bin", "etcd"),
		kubeAPIServer: filepath.Join(root, "_output", "tools", "bin", "kube-apiserver"),
		gardenAPI:     filepath.Join(root, "_output", "bin", "garden-apiserver"),
	}
	var missing []error
	for _, b := range []string{bins.etcd, bins.kubeAPIServer, bins.gardenAPI} {
		if fi, err := os.Stat(b); err != nil || fi.Mode()&0o111 == 0 {
			missing = append(missing, fmt.Errorf("missing executable %s", b))
		}
	}
	if _, err := exec.LookPath("kubectl"); err != nil {
		missing = append(missing, fmt.Errorf("kubectl is not on PATH"))
	}
	if len(missing) > 0 {
		return "", bins, fmt.Errorf("%w\nThe e2e suite builds nothing itself: run it with `make e2e` (it runs `make tools build` first)",
			errors.Join(missing...))
	}
	if newer := newerSource(root, bins.gardenAPI); newer != "" {
		fmt.Fprintf(os.Stderr, "e2e: WARNING: %s is newer than %s: the suite tests the old binary; run `make e2e` to rebuild it\n",
			newer, bins.gardenAPI)
	}
	return root, bins, nil
}

// newerSource returns a Go file of the server's sources that is newer than bin, if any.
func newerSource(root, bin string) string {
	fi, err := os.Stat(bin)
	if err != nil {
		return ""
	}
	var newer string
	for _, dir := range []string{"cmd", "pkg"} {
		_ = filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil || newer != "" || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			if info, err := d.Info(); err == nil && info.ModTime().After(fi.ModTime()) {
				newer = path
			}
			return nil
		})
	}
	return newer
}
