package upgrade

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// previousCommit is the last commit whose stored protobuf values carry the earlier field
// numbers (before Gardener's).
const previousCommit = "7fe4763"

// repoRoot is the repository above the working directory.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for ; dir != filepath.Dir(dir); dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "cmd", "apiserver")); err == nil {
			return dir
		}
	}
	t.Fatal("no garden-apiserver repository above the working directory")
	return ""
}

// executable returns path if it is an executable file, else fails with how to build it.
func executable(t *testing.T, path string) string {
	t.Helper()
	if fi, err := os.Stat(path); err != nil || fi.Mode()&0o111 == 0 {
		t.Fatalf("missing executable %s: run this test with `make e2e` (it runs `make tools build` first)", path)
	}
	return path
}

// buildPrevious builds the server of previousCommit from git history into dir.
func buildPrevious(t *testing.T, root, dir string) string {
	t.Helper()
	src := filepath.Join(dir, "src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	archive := fmt.Sprintf("git -C %q archive %s | tar -x -C %q", root, previousCommit, src)
	if out, err := exec.Command("bash", "-o", "pipefail", "-c", archive).CombinedOutput(); err != nil {
		t.Fatalf("extracting %s from git history (a shallow clone needs `git fetch --unshallow`): %v\n%s", previousCommit, err, out)
	}
	bin := filepath.Join(dir, "garden-apiserver-"+previousCommit)
	// The flags of `make build`, so the compiled dependencies come from the same build cache.
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, "./cmd/apiserver")
	cmd.Dir, cmd.Env = src, append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building %s: %v\n%s", previousCommit, err, out)
	}
	return bin
}
