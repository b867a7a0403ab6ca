package kubeconfig

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/client-go/kubernetes"

	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core"
	"github.com/garden-apiserver/garden-apiserver/pkg/pki"
)

// Organizations of issued certificates, as in Gardener.
const (
	AdminOrganization  = "system:masters"
	ViewerOrganization = "gardener.cloud:system:viewers"
)

// Names of the shoot's CA InternalSecrets and their keys.
const (
	ClientCASuffix  = ".ca-client"
	ClusterCASuffix = ".ca-cluster"
	CACertKey       = "ca.crt"
	CAKeyKey        = "ca.key"
)

// Issuer signs kubeconfigs. Shoots and InternalSecrets are read from the server's own
// storage (watch cache first), and parsed CAs are cached per resourceVersion, so a
// request costs one key generation and one signature.
type Issuer struct {
	Shoots, Secrets rest.Getter
	// Kube reads the <shoot>.ca-cluster ConfigMap when the InternalSecret is missing; nil in standalone mode.
	Kube          kubernetes.Interface
	KeyType       pki.KeyType
	MaxExpiration time.Duration

	mu  sync.Mutex
	cas map[string]cachedCA
}

type cachedCA struct {
	version string
	ca      *pki.CA
}

// Request is one issuance.
type Request struct {
	Namespace, Shoot string
	User             string
	Organization     string
	// ExpirationSeconds as requested (already defaulted).
	ExpirationSeconds int64
	// Kind names the request kind in errors.
	Kind string
}

// Result is the issued kubeconfig.
type Result struct {
	Kubeconfig []byte
	Expiration time.Time
	Granted    time.Duration
	Serial     string
}

// Issue validates the request against the shoot and signs a kubeconfig.
func (i *Issuer) Issue(ctx context.Context, r Request) (*Result, error) {
	shoot, err := getShoot(ctx, i.Shoots, r.Namespace, r.Shoot, false)
	if err != nil {
		return nil, err
	}
	addrs := UsableAddresses(shoot.Status.AdvertisedAddresses)
	if len(addrs) == 0 {
		// The watch cache may not have seen a status update made just before: confirm.
		if shoot, err = getShoot(ctx, i.Shoots, r.Namespace, r.Shoot, true); err != nil {
			return nil, err
		}
		addrs = UsableAddresses(shoot.Status.AdvertisedAddresses)
	}
	if len(addrs) == 0 {
		return nil, apierrors.NewInvalid(core.Kind("Shoot"), r.Shoot, field.ErrorList{field.Invalid(
			field.NewPath("status", "advertisedAddresses"), len(shoot.Status.AdvertisedAddresses),
			"the shoot has no advertised address of kind external, internal, wildcard-tls-seed-bound or unmanaged yet")})
	}
	ca, err := i.clientCA(ctx, r.Namespace, r.Shoot+ClientCASuffix)
	if err != nil {
		return nil, err
	}
	clusterCA, err := i.clusterCA(ctx, r.Namespace, r.Shoot+ClusterCASuffix)
	if err != nil {
		return nil, err
	}

	granted := time.Duration(r.ExpirationSeconds) * time.Second
	if r.ExpirationSeconds > int64(math.MaxInt64/time.Second) || granted > i.MaxExpiration {
		granted = i.MaxExpiration
	}
	// Whole seconds, so the reported timestamp equals the certificate's NotAfter.
	expiration := time.Now().Add(granted).Truncate(time.Second)

	key, err := pki.NewKey(i.KeyType)
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	cert, certPEM, err := ca.Issue(pki.Leaf{CommonName: r.User, Organizations: []string{r.Organization}, NotAfter: expiration}, key.Public())
	if err != nil {
		return nil, apierrors.NewInternalError(fmt.Errorf("signing with the client CA of shoot %s/%s: %w", r.Namespace, r.Shoot, err))
	}
	keyPEM, err := pki.EncodeKey(key)
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	kubeconfig, err := Build(shoot, addrs, clusterCA, certPEM, keyPEM)
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	return &Result{Kubeconfig: kubeconfig, Expiration: expiration, Granted: granted, Serial: cert.SerialNumber.Text(16)}, nil
}

func (i *Issuer) clientCA(ctx context.Context, namespace, name string) (*pki.CA, error) {
	secret, err := getSecret(ctx, i.Secrets, namespace, name)
	if err != nil {
		return nil, err
	}
	// The version covers content too, so a recreated secret with a reset counter cannot hit a stale entry.
	version := secret.ResourceVersion + "/" + string(secret.UID) + "/" + fingerprint(secret.Data[CACertKey], secret.Data[CAKeyKey])
	cacheKey := namespace + "/" + name
	i.mu.Lock()
	cached, ok := i.cas[cacheKey]
	i.mu.Unlock()
	if ok && cached.version == version {
		return cached.ca, nil
	}
	ca, err := pki.ParseCA(secret.Data[CACertKey], secret.Data[CAKeyKey])
	if err != nil {
		// Name the secret, never its contents.
		return nil, apierrors.NewInternalError(fmt.Errorf("cannot use the client CA in InternalSecret %s/%s: %w", namespace, name, err))
	}
	i.mu.Lock()
	if i.cas == nil {
		i.cas = map[string]cachedCA{}
	}
	i.cas[cacheKey] = cachedCA{version: version, ca: ca}
	i.mu.Unlock()
	return ca, nil
}

func fingerprint(parts ...[]byte) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write(p)
		h.Write([]byte{0})
	}
	return fmt.Sprintf("%x", h.Sum(nil)[:8])
}

func (i *Issuer) clusterCA(ctx context.Context, namespace, name string) ([]byte, error) {
	secret, err := getSecret(ctx, i.Secrets, namespace, name)
	if err == nil {
		if ca := secret.Data[CACertKey]; len(ca) > 0 {
			return ca, nil
		}
		return nil, apierrors.NewInternalError(fmt.Errorf("InternalSecret %s/%s has no %s", namespace, name, CACertKey))
	}
	if !apierrors.IsInternalError(err) || i.Kube == nil {
		return nil, err
	}
	cm, cmErr := i.Kube.CoreV1().ConfigMaps(namespace).Get(ctx, name, metav1.GetOptions{})
	if cmErr != nil || cm.Data[CACertKey] == "" {
		return nil, apierrors.NewInternalError(fmt.Errorf("no cluster CA for shoot: neither InternalSecret nor ConfigMap %s/%s has %s", namespace, name, CACertKey))
	}
	return []byte(cm.Data[CACertKey]), nil
}
