package shootaccess

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ClusterCASource is one kind of object <shoot>.ca-cluster is read from.
type ClusterCASource string

// The cluster CA sources of --shoot-cluster-ca-sources. Each trusts whoever may write that
// object in the project namespace.
const (
	// SourceInternalSecret is the only object end users cannot write.
	SourceInternalSecret ClusterCASource = "internalsecret"
	// SourceConfigMap and SourceSecret are Gardener's sources; the default roles admin and edit
	// write them.
	SourceConfigMap ClusterCASource = "configmap"
	SourceSecret    ClusterCASource = "secret"
)

// ClusterCASources lists the valid sources.
var ClusterCASources = []ClusterCASource{SourceInternalSecret, SourceConfigMap, SourceSecret}

// DefaultClusterCASources trusts operators only.
var DefaultClusterCASources = []string{string(SourceInternalSecret)}

// ParseClusterCASources checks an ordered list of sources: known, not empty, no duplicates.
func ParseClusterCASources(list []string) ([]ClusterCASource, error) {
	if len(list) == 0 {
		return nil, fmt.Errorf("must name at least one of %s", joinSources(ClusterCASources))
	}
	out := make([]ClusterCASource, 0, len(list))
	for i, s := range list {
		src := ClusterCASource(s)
		switch {
		case s == "":
			return nil, fmt.Errorf("entry %d is empty", i+1)
		case !slices.Contains(ClusterCASources, src):
			return nil, fmt.Errorf("unknown source %q, want one of %s", s, joinSources(ClusterCASources))
		case slices.Contains(out, src):
			return nil, fmt.Errorf("source %q is listed twice", s)
		}
		out = append(out, src)
	}
	return out, nil
}

// NeedsCluster reports whether a source is read from the Kubernetes cluster.
func (s ClusterCASource) NeedsCluster() bool { return s == SourceConfigMap || s == SourceSecret }

// Kind is the object's kind, as error messages name it.
func (s ClusterCASource) Kind() string {
	switch s {
	case SourceConfigMap:
		return "ConfigMap"
	case SourceSecret:
		return "Secret"
	}
	return "InternalSecret"
}

func joinSources(list []ClusterCASource) string {
	names := make([]string, len(list))
	for i, s := range list {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

// clusterCA returns ca.crt (the whole bundle) of <shoot>.ca-cluster from the first source of
// --shoot-cluster-ca-sources that has the object. A failed read, or an object without a CA
// certificate, is an error: never a reason to try the next source.
func (i *Issuer) clusterCA(ctx context.Context, namespace, name string) ([]byte, string, error) {
	sources := i.clusterCASources()
	for _, src := range sources {
		data, found, err := i.readClusterCA(ctx, src, namespace, name)
		if transient(err) {
			// etcd or the cluster is unavailable or overloaded: keep the 503/504/429 and its Retry-After.
			return nil, ReasonError, err
		}
		if err != nil {
			return nil, ReasonError, apierrors.NewInternalError(fmt.Errorf("reading the cluster CA from %s %s/%s: %w", src.Kind(), namespace, name, err))
		}
		if !found {
			continue
		}
		if err := checkClusterCA(data); err != nil {
			// Name the object, never its contents.
			return nil, ReasonCAUnusable, apierrors.NewInternalError(fmt.Errorf("cannot use the cluster CA in %s %s/%s: %w", src.Kind(), namespace, name, err))
		}
		return data, "", nil
	}
	kinds := make([]string, len(sources))
	for j, s := range sources {
		kinds[j] = s.Kind()
	}
	return nil, ReasonCAMissing, apierrors.NewInternalError(fmt.Errorf("no cluster CA for the shoot: no %s %s/%s", strings.Join(kinds, " or "), namespace, name))
}

func (i *Issuer) clusterCASources() []ClusterCASource {
	if len(i.Options.ClusterCASources) == 0 {
		return []ClusterCASource{SourceInternalSecret}
	}
	sources := make([]ClusterCASource, len(i.Options.ClusterCASources))
	for j, s := range i.Options.ClusterCASources {
		sources[j] = ClusterCASource(s)
	}
	return sources
}

// readClusterCA reads ca.crt of one source; found is false only when the object does not exist.
// ConfigMaps and Secrets are read with a GET per issuance: no informer holds the cluster's
// objects in memory.
func (i *Issuer) readClusterCA(ctx context.Context, src ClusterCASource, namespace, name string) ([]byte, bool, error) {
	var data []byte
	var err error
	switch {
	case src == SourceInternalSecret:
		s, gerr := getInternalSecret(ctx, i.Secrets, namespace, name)
		if gerr == nil {
			data = s.Data[CACertKey]
		}
		err = gerr
	case i.Kube == nil:
		return nil, false, fmt.Errorf("the %s source needs a cluster (not available in standalone mode)", src)
	case src == SourceConfigMap:
		cm, gerr := i.Kube.CoreV1().ConfigMaps(namespace).Get(ctx, name, metav1.GetOptions{})
		if gerr == nil {
			data = []byte(cm.Data[CACertKey])
		}
		err = gerr
	default:
		s, gerr := i.Kube.CoreV1().Secrets(namespace).Get(ctx, name, metav1.GetOptions{})
		if gerr == nil {
			data = s.Data[CACertKey]
		}
		err = gerr
	}
	if apierrors.IsNotFound(err) {
		return nil, false, nil
	}
	return data, err == nil, err
}

// checkClusterCA accepts a PEM bundle of CA certificates only: at least one, every PEM block a
// certificate with IsCA and the cert-sign key usage, nothing but space after the last. Messages
// name certificates by their position, never by anything read from them.
func checkClusterCA(data []byte) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return fmt.Errorf("%s is missing or empty", CACertKey)
	}
	rest := data
	for n := 1; ; n++ {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			if n == 1 || len(bytes.TrimSpace(rest)) > 0 {
				return fmt.Errorf("%s is not a PEM bundle of CA certificates", CACertKey)
			}
			return nil
		}
		if block.Type != "CERTIFICATE" {
			return fmt.Errorf("PEM block %d of %s is not a certificate", n, CACertKey)
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return fmt.Errorf("certificate %d of %s does not parse", n, CACertKey)
		}
		if !cert.IsCA || cert.KeyUsage&x509.KeyUsageCertSign == 0 {
			return fmt.Errorf("certificate %d of %s is not a CA certificate (needs CA:TRUE and the certSign key usage)", n, CACertKey)
		}
	}
}
