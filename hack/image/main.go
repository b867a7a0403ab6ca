// Command image writes a container image of garden-apiserver as a tarball, without a container engine:
// an empty base, one layer with the static binary, user 65532, the binary as entrypoint and the
// OCI labels of version and revision. `make image` runs it; push the tarball with `crane push`.
package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	var o options
	flag.StringVar(&o.Binary, "binary", "", "static linux binary of the server")
	flag.StringVar(&o.Name, "name", "garden-apiserver", "image name the tarball is tagged with (the tag is the version)")
	flag.StringVar(&o.Out, "out", "_output/image/garden-apiserver.tar", "tarball to write")
	flag.StringVar(&o.Version, "version", "", "org.opencontainers.image.version")
	flag.StringVar(&o.Revision, "revision", "", "org.opencontainers.image.revision (git commit)")
	flag.StringVar(&o.Source, "source", "https://github.com/garden-apiserver/garden-apiserver", "org.opencontainers.image.source")
	flag.Parse()
	o.Created = time.Now().UTC()
	// Reproducible builds pass the commit time.
	if epoch, err := strconv.ParseInt(os.Getenv("SOURCE_DATE_EPOCH"), 10, 64); err == nil {
		o.Created = time.Unix(epoch, 0).UTC()
	}
	if o.Binary == "" || o.Version == "" {
		fmt.Fprintln(os.Stderr, "image: --binary and --version are required")
		os.Exit(2)
	}
	size, err := write(o)
	if err != nil {
		fmt.Fprintf(os.Stderr, "image: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("wrote %s (%s, %.1f MB compressed)\n", o.Out, o.reference(), float64(size)/1e6)
}

// reference is name:version with "+" (semver build metadata, invalid in a tag) as "_",
// as Kubernetes tags its images.
func (o options) reference() string {
	return o.Name + ":" + strings.ReplaceAll(o.Version, "+", "_")
}
