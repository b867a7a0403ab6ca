package shootaccess

import (
	"context"
	"crypto/sha256"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/lru"

	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core"
	"github.com/garden-apiserver/garden-apiserver/pkg/pki"
)

// Names of the shoot's CA objects and their keys.
const (
	ClientCASuffix  = ".ca-client"
	ClusterCASuffix = ".ca-cluster"
	CACertKey       = "ca.crt"
	CAKeyKey        = "ca.key"
)

// DefaultCACacheSize bounds the parsed client CAs kept in memory.
const DefaultCACacheSize = 1024

type cachedCA struct {
	version string
	ca      *pki.CA
}

func newCACache(size int) *lru.Cache {
	if size < 1 {
		size = DefaultCACacheSize
	}
	return lru.New(size)
}

// clientCA returns the parsed <shoot>.ca-client, cached per resourceVersion, UID and content.
func (i *Issuer) clientCA(ctx context.Context, namespace, name string) (*pki.CA, string, error) {
	key := namespace + "/" + name
	secret, err := getInternalSecret(ctx, i.Secrets, namespace, name)
	if apierrors.IsNotFound(err) {
		i.cas.Remove(key)
		return nil, ReasonCAMissing, apierrors.NewInternalError(fmt.Errorf("the client CA InternalSecret %s/%s does not exist", namespace, name))
	}
	if err != nil {
		return nil, ReasonError, err
	}
	// The version covers content too, so a recreated secret with a reset counter cannot hit a stale entry.
	version := secret.ResourceVersion + "/" + string(secret.UID) + "/" + fingerprint(secret.Data[CACertKey], secret.Data[CAKeyKey])
	if v, ok := i.cas.Get(key); ok && v.(cachedCA).version == version {
		ca := v.(cachedCA).ca
		// ParseCA checked the validity when the entry was made; a CA can expire while cached.
		if time.Now().After(ca.Cert.NotAfter) {
			i.cas.Remove(key)
			return nil, ReasonCAUnusable, apierrors.NewInternalError(fmt.Errorf("cannot use the client CA in InternalSecret %s/%s: the CA certificate %q expired at %s",
				namespace, name, ca.Cert.Subject.CommonName, ca.Cert.NotAfter.UTC().Format(time.RFC3339)))
		}
		return ca, "", nil
	}
	ca, err := pki.ParseCA(secret.Data[CACertKey], secret.Data[CAKeyKey])
	if err != nil {
		// Name the secret, never its contents.
		return nil, ReasonCAUnusable, apierrors.NewInternalError(fmt.Errorf("cannot use the client CA in InternalSecret %s/%s: %w", namespace, name, err))
	}
	i.cas.Add(key, cachedCA{version: version, ca: ca})
	return ca, "", nil
}

// ForgetCA drops the cached CA of a deleted InternalSecret.
func (i *Issuer) ForgetCA(obj runtime.Object) {
	if s, ok := obj.(*core.InternalSecret); ok {
		i.cas.Remove(s.Namespace + "/" + s.Name)
	}
}

func fingerprint(parts ...[]byte) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write(p)
		h.Write([]byte{0})
	}
	return fmt.Sprintf("%x", h.Sum(nil)[:8])
}

// transient reports errors a client should retry rather than report as a server fault.
func transient(err error) bool {
	return apierrors.IsServiceUnavailable(err) || apierrors.IsTimeout(err) || apierrors.IsServerTimeout(err) ||
		apierrors.IsTooManyRequests(err)
}
