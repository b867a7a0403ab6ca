package main

import (
	"archive/tar"
	"debug/elf"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// maxCompressed is the size budget of the image as pulled.
const maxCompressed = 40 << 20

// TestImage reads the image back (the one of `make image` when IMAGE_TAR is set, else one it
// builds itself), checks its configuration, and runs the binary of its layer with --version.
func TestImage(t *testing.T) {
	path, wantVersion := os.Getenv("IMAGE_TAR"), ""
	if path == "" {
		path, wantVersion = buildImage(t)
	}
	img, err := tarball.ImageFromPath(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Config.User != "65532:65532" || !slices.Equal(cfg.Config.Entrypoint, []string{"/garden-apiserver"}) || cfg.OS != "linux" {
		t.Errorf("config: user %q, entrypoint %q, os %q; want 65532:65532, [/garden-apiserver], linux",
			cfg.Config.User, cfg.Config.Entrypoint, cfg.OS)
	}
	labels := cfg.Config.Labels
	version := labels["org.opencontainers.image.version"]
	if version == "" || (wantVersion != "" && version != wantVersion) || len(labels["org.opencontainers.image.revision"]) != 40 ||
		labels["org.opencontainers.image.source"] == "" {
		t.Errorf("labels %v: want version %q, a 40-hex revision and the source", labels, wantVersion)
	}
	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("%d layers (%v), want 1", len(layers), err)
	}
	size, err := layers[0].Size()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("compressed layer: %.1f MB", float64(size)/1e6)
	if size > maxCompressed {
		t.Errorf("compressed layer is %d bytes, over the budget of %d", size, maxCompressed)
	}

	bin := extract(t, layers[0], "garden-apiserver")
	assertStatic(t, bin)
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if want := "garden-apiserver " + version + "\n"; err != nil || string(out) != want {
		t.Errorf("the image's binary --version: %v, printed %q, want %q", err, out, want)
	}
}

// buildImage builds the static binary with a known version and writes the image to a temp dir.
func buildImage(t *testing.T) (path, version string) {
	t.Helper()
	version = "v0.0.0-imagetest+0123456789abcd"
	dir := t.TempDir()
	stamp := exec.Command("../version.sh")
	stamp.Env = append(os.Environ(), "VERSION="+version)
	ldflags, err := stamp.Output()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w "+strings.TrimSpace(string(ldflags)),
		"-o", filepath.Join(dir, "garden-apiserver"), "../../cmd/apiserver")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	revision, err := exec.Command("../version.sh", "commit").Output()
	if err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(dir, "image.tar")
	o := options{Binary: filepath.Join(dir, "garden-apiserver"), Name: "garden-apiserver", Out: path,
		Version: version, Revision: strings.TrimSpace(string(revision)), Source: "https://example.com/src", Created: time.Now()}
	if _, err := write(o); err != nil {
		t.Fatal(err)
	}
	return path, version
}

// extract writes the layer's file name to a temp dir and returns its path.
func extract(t *testing.T, layer v1.Layer, name string) string {
	t.Helper()
	rc, err := layer.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			t.Fatalf("the layer has no %s", name)
		}
		if err != nil {
			t.Fatal(err)
		}
		if hdr.Name != name {
			continue
		}
		if hdr.Mode&0o111 == 0 {
			t.Errorf("%s in the layer has mode %o, not executable", name, hdr.Mode)
		}
		path := filepath.Join(t.TempDir(), name)
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o755)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(f, tr); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		return path
	}
}

// assertStatic: an empty base has no dynamic loader, so the binary must not ask for one.
func assertStatic(t *testing.T, path string) {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the image's binary is dynamically linked (has an ELF interpreter); build it with CGO_ENABLED=0")
		}
	}
}
