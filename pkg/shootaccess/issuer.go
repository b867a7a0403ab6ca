package shootaccess

import (
	"context"
	"crypto"
	"fmt"
	"math"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/lru"

	"github.com/garden-apiserver/garden-apiserver/pkg/apis/authentication"
	authvalidation "github.com/garden-apiserver/garden-apiserver/pkg/apis/authentication/validation"
	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core"
	"github.com/garden-apiserver/garden-apiserver/pkg/pki"
)

// Issuer signs kubeconfigs. Shoots and InternalSecrets are read from the server's own
// storage (watch cache first), and parsed CAs are cached per resourceVersion, so a
// request costs one key generation and one signature.
type Issuer struct {
	Shoots, Secrets rest.Getter
	// Kube reads <shoot>.ca-cluster from the cluster when a source of
	// Options.ClusterCASources needs it; nil otherwise.
	Kube       kubernetes.Interface
	Identities IdentityPolicy
	Options    Options
	// Keys holds client keys generated ahead of time; nil generates one per request.
	Keys *KeyPool

	cas *lru.Cache
}

// NewIssuer returns an issuer reading shoots and InternalSecrets from the given stores.
func NewIssuer(shoots, secrets rest.Getter, identities IdentityPolicy, opts Options) *Issuer {
	return &Issuer{Shoots: shoots, Secrets: secrets, Identities: identities, Options: opts, cas: newCACache(opts.CACacheSize)}
}

// Request is one issuance.
type Request struct {
	Kind             Kind
	Namespace, Shoot string
	User             user.Info
	// ExpirationSeconds as requested (defaulted, not yet validated).
	ExpirationSeconds int64
	// Admit runs admission's validation of the request body; nil admits.
	Admit func(context.Context) error
	// DryRun checks and decides everything but takes no key, signs nothing and counts nothing as issued.
	DryRun bool
}

// Result is the issued kubeconfig (none in a dry run).
type Result struct {
	Kubeconfig []byte
	Expiration time.Time
	Granted    time.Duration
	Serial     string
	Group      string
}

// Issue validates the request (body, admission, shoot) and signs a kubeconfig; every outcome
// is counted here, once.
func (i *Issuer) Issue(ctx context.Context, r Request) (*Result, error) {
	start := time.Now()
	res, reason, err := i.issue(ctx, r)
	if err != nil {
		recordRefused(r.Kind, reason)
		return nil, err
	}
	if !r.DryRun {
		recordIssued(r.Kind, res.Group, time.Since(start))
	}
	return res, nil
}

func (i *Issuer) issue(ctx context.Context, r Request) (*Result, string, error) {
	if err := r.validate(ctx); err != nil {
		return nil, ReasonInvalidRequest, err
	}
	shoot, addrs, reason, err := i.shootAddresses(ctx, r.Namespace, r.Shoot)
	if err != nil {
		return nil, reason, err
	}
	ca, reason, err := i.clientCA(ctx, r.Namespace, r.Shoot+ClientCASuffix)
	if err != nil {
		return nil, reason, err
	}
	clusterCA, reason, err := i.clusterCA(ctx, r.Namespace, r.Shoot+ClusterCASuffix)
	if err != nil {
		return nil, reason, err
	}
	id, err := i.Identities.For(ctx, r.Kind, r.User)
	if err != nil {
		return nil, ReasonError, apierrors.NewInternalError(err)
	}

	granted := grant(r.Kind, r.ExpirationSeconds)
	// The chain stops working when the CA expires: never report a later expiration.
	if untilCA := time.Until(ca.Cert.NotAfter); untilCA < granted {
		granted = untilCA
	}
	// Whole seconds, so the reported timestamp equals the certificate's NotAfter.
	expiration := time.Now().Add(granted).Truncate(time.Second)
	if r.DryRun {
		return &Result{Expiration: expiration, Granted: granted, Group: id.Organization}, "", nil
	}
	key, err := i.clientKey()
	if err != nil {
		return nil, ReasonError, apierrors.NewInternalError(err)
	}
	leaf := pki.Leaf{CommonName: id.CommonName, Organizations: []string{id.Organization}, NotAfter: expiration}
	cert, certPEM, err := ca.Issue(leaf, key.Public())
	if err != nil {
		return nil, ReasonCAUnusable, apierrors.NewInternalError(fmt.Errorf("signing with the client CA of shoot %s/%s: %w", r.Namespace, r.Shoot, err))
	}
	keyPEM, err := pki.EncodeKey(key)
	if err != nil {
		return nil, ReasonError, apierrors.NewInternalError(err)
	}
	kubeconfig, err := Build(shoot, addrs, clusterCA, certPEM, keyPEM)
	if err != nil {
		return nil, ReasonError, apierrors.NewInternalError(err)
	}
	return &Result{Kubeconfig: kubeconfig, Expiration: expiration, Granted: granted, Serial: cert.SerialNumber.Text(16), Group: id.Organization}, "", nil
}

func (i *Issuer) clientKey() (crypto.Signer, error) {
	if i.Keys != nil {
		return i.Keys.Key()
	}
	return pki.NewKey(pki.KeyType(i.Options.KeyType))
}

// validate checks the body: the requested validity, then admission.
func (r Request) validate(ctx context.Context) error {
	if errs := authvalidation.ValidateExpirationSeconds(r.ExpirationSeconds); len(errs) > 0 {
		return apierrors.NewInvalid(authentication.Kind(r.Kind.RequestKind), r.Shoot, errs)
	}
	if r.Admit != nil {
		return r.Admit(ctx)
	}
	return nil
}

// grant clamps the requested validity to the kind's maximum.
func grant(kind Kind, seconds int64) time.Duration {
	limit := kind.MaxExpiration
	if seconds > int64(math.MaxInt64/time.Second) || time.Duration(seconds)*time.Second > limit {
		return limit
	}
	return time.Duration(seconds) * time.Second
}

// shootAddresses reads the shoot and its usable advertised addresses.
func (i *Issuer) shootAddresses(ctx context.Context, namespace, name string) (*core.Shoot, []core.ShootAdvertisedAddress, string, error) {
	shoot, err := getShoot(ctx, i.Shoots, namespace, name, false)
	if err != nil {
		return nil, nil, notFoundOr(err), err
	}
	addrs := UsableAddresses(shoot.Status.AdvertisedAddresses)
	if len(addrs) == 0 {
		// The watch cache may not have seen a status update made just before: confirm.
		if shoot, err = getShoot(ctx, i.Shoots, namespace, name, true); err != nil {
			return nil, nil, notFoundOr(err), err
		}
		addrs = UsableAddresses(shoot.Status.AdvertisedAddresses)
	}
	if len(addrs) == 0 {
		return nil, nil, ReasonNoAddress, apierrors.NewInvalid(core.Kind("Shoot"), name, field.ErrorList{field.Invalid(
			field.NewPath("status", "advertisedAddresses"), len(shoot.Status.AdvertisedAddresses),
			"the shoot has no advertised address of kind external, internal, wildcard-tls-seed-bound or unmanaged yet")})
	}
	return shoot, addrs, "", nil
}

func notFoundOr(err error) string {
	if apierrors.IsNotFound(err) {
		return ReasonNotFound
	}
	return ReasonError
}
