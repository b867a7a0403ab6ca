package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

const (
	// BinaryPath is where the server lives in the image, and its entrypoint.
	BinaryPath = "/garden-apiserver"
	// User is distroless' "nonroot"; artifacts/deploy runs as it.
	User = "65532:65532"
)

type options struct {
	Binary, Name, Out         string
	Version, Revision, Source string
	Created                   time.Time
}

// build assembles the image: empty base, one gzip layer. (The tarball format records no media
// types; registries receive Docker schema 2, which every runtime pulls.)
func build(o options) (v1.Image, error) {
	layerTar, err := rootfs(o.Binary)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	}, tarball.WithCompressionLevel(gzip.BestCompression))
	if err != nil {
		return nil, err
	}
	img, err := mutate.Append(empty.Image,
		mutate.Addendum{Layer: layer, History: v1.History{CreatedBy: "hack/image", Created: v1.Time{Time: o.Created}}})
	if err != nil {
		return nil, err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture, cfg.Created = "linux", runtime.GOARCH, v1.Time{Time: o.Created}
	cfg.Config.User = User
	cfg.Config.Entrypoint = []string{BinaryPath}
	cfg.Config.WorkingDir = "/home/nonroot"
	cfg.Config.Env = []string{"HOME=/home/nonroot"}
	cfg.Config.Labels = map[string]string{
		"org.opencontainers.image.title":    "garden-apiserver",
		"org.opencontainers.image.version":  o.Version,
		"org.opencontainers.image.revision": o.Revision,
		"org.opencontainers.image.source":   o.Source,
		"org.opencontainers.image.created":  o.Created.Format(time.RFC3339),
	}
	return mutate.ConfigFile(img, cfg)
}

// write builds the image and writes it as a tarball that `crane push`, `docker load` and
// `podman load` read; it returns the compressed size of the layer.
func write(o options) (int64, error) {
	img, err := build(o)
	if err != nil {
		return 0, err
	}
	tag, err := name.NewTag(o.reference())
	if err != nil {
		return 0, fmt.Errorf("image name: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(o.Out), 0o755); err != nil {
		return 0, err
	}
	tmp := o.Out + ".tmp"
	if err := tarball.WriteToFile(tmp, tag, img); err != nil {
		return 0, err
	}
	if err := os.Rename(tmp, o.Out); err != nil {
		return 0, err
	}
	return compressedSize(img)
}

func compressedSize(img v1.Image) (int64, error) {
	layers, err := img.Layers()
	if err != nil {
		return 0, err
	}
	var total int64
	for _, l := range layers {
		size, err := l.Size()
		if err != nil {
			return 0, err
		}
		total += size
	}
	return total, nil
}
