// Package internalsecretreferenceprotection contains the InternalSecretReferenceProtection
// admission plugin: the CA InternalSecrets a Shoot's kubeconfigs are issued from cannot be
// deleted, nor their CA keys removed, while the Shoot exists.
package internalsecretreferenceprotection

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/admission"

	"github.com/garden-apiserver/garden-apiserver/pkg/admission/initializer"
	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core"
	"github.com/garden-apiserver/garden-apiserver/pkg/shootaccess"
)

// PluginName is the name of the plugin in --enable-admission-plugins and friends.
const PluginName = "InternalSecretReferenceProtection"

var (
	// Suffixes of the InternalSecrets a Shoot refers to by name (its CA secrets).
	protectedSuffixes = map[string]string{shootaccess.ClientCASuffix: "client CA", shootaccess.ClusterCASuffix: "cluster CA"}
	// Keys without which the kubeconfig subresources cannot issue credentials.
	protectedKeys = []string{shootaccess.CACertKey, shootaccess.CAKeyKey}
)

// Register registers the plugin.
func Register(plugins *admission.Plugins) {
	plugins.Register(PluginName, func(io.Reader) (admission.Interface, error) { return New(), nil })
}

// Plugin protects the CA InternalSecrets of existing Shoots.
type Plugin struct {
	*admission.Handler
	initializer.ShootReader
}

var (
	_ admission.ValidationInterface        = &Plugin{}
	_ initializer.WantsCoreInformerFactory = &Plugin{}
	_ initializer.WantsCoreClientSet       = &Plugin{}
)

// New returns the plugin; it needs the core informer factory and client before use.
func New() *Plugin {
	h := admission.NewHandler(admission.Update, admission.Delete)
	return &Plugin{Handler: h, ShootReader: initializer.NewShootReader(h)}
}

// Validate denies deleting <shoot>.ca-client / <shoot>.ca-cluster, or removing (or emptying)
// their ca.crt or ca.key, while the Shoot exists and is not being deleted.
func (p *Plugin) Validate(ctx context.Context, a admission.Attributes, _ admission.ObjectInterfaces) error {
	if a.GetResource().GroupResource() != core.Resource("internalsecrets") || a.GetSubresource() != "" {
		return nil
	}
	old, ok := a.GetOldObject().(*core.InternalSecret)
	if !ok {
		return apierrors.NewInternalError(fmt.Errorf("InternalSecretReferenceProtection: expected the stored InternalSecret, got %T", a.GetOldObject()))
	}
	shootName, what, ok := referencedShoot(old.Name)
	if !ok {
		return nil
	}

	var action string
	switch a.GetOperation() {
	case admission.Delete:
		action = "cannot be deleted"
	case admission.Update:
		removed := removedKeys(old, a.GetObject().(*core.InternalSecret))
		if len(removed) == 0 {
			return nil
		}
		action = fmt.Sprintf("cannot lose its %s keys (removed or emptied: %s)", strings.Join(protectedKeys, "/"), strings.Join(removed, ", "))
	default:
		return nil
	}

	// Collections have no name in the attributes: name the item.
	forbidden := func(err error) error { return apierrors.NewForbidden(a.GetResource().GroupResource(), old.Name, err) }
	if !p.WaitForReady() {
		return forbidden(errors.New("not yet ready to handle request"))
	}
	exists, err := p.shootExists(ctx, old.Namespace, shootName)
	if err != nil {
		return err
	}
	if !exists {
		return nil
	}
	return forbidden(fmt.Errorf("InternalSecret %s/%s is the %s of Shoot %q and %s while the Shoot exists; delete the Shoot first",
		old.Namespace, old.Name, what, shootName, action))
}

// referencedShoot returns the Shoot a CA secret belongs to. Shoot names have no dots, so the
// suffix is unambiguous.
func referencedShoot(secretName string) (shoot, what string, ok bool) {
	for suffix, what := range protectedSuffixes {
		if name, found := strings.CutSuffix(secretName, suffix); found && name != "" && !strings.Contains(name, ".") {
			return name, what, true
		}
	}
	return "", "", false
}

func removedKeys(old, updated *core.InternalSecret) []string {
	var removed []string
	for _, k := range protectedKeys {
		if len(old.Data[k]) > 0 && len(updated.Data[k]) == 0 {
			removed = append(removed, k)
		}
	}
	return slices.Clip(removed)
}

// shootExists asks the cache first and the storage on a miss, so a Shoot created a moment
// ago still protects its secrets. A Shoot being deleted no longer protects them, so its
// finalizers can clean them up.
func (p *Plugin) shootExists(ctx context.Context, namespace, name string) (bool, error) {
	cached, err := p.Lister.Shoots(namespace).Get(name)
	if err == nil {
		return cached.DeletionTimestamp == nil, nil
	}
	if !apierrors.IsNotFound(err) {
		return false, apierrors.NewInternalError(err)
	}
	live, err := p.Client.CoreV1beta1().Shoots(namespace).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, apierrors.NewInternalError(fmt.Errorf("looking up Shoot %s/%s: %w", namespace, name, err))
	}
	return live.DeletionTimestamp == nil, nil
}
