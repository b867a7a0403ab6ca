// Package shootvalidator contains the ShootValidator admission plugin: checks of a Shoot that
// need more than the object itself (the resources the cluster serves). Rules about the Shoot's
// own fields, such as the encryption update rules, are in its registry validation.
package shootvalidator

import (
	"context"
	"fmt"
	"io"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/client-go/discovery"

	"github.com/garden-apiserver/garden-apiserver/pkg/admission/initializer"
	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core"
)

// PluginName is the name of the plugin in --enable-admission-plugins and friends.
const PluginName = "ShootValidator"

var encryptionPath = field.NewPath("spec", "kubernetes", "kubeAPIServer", "encryptionConfig")

// Register registers the plugin.
func Register(plugins *admission.Plugins) {
	plugins.Register(PluginName, func(io.Reader) (admission.Interface, error) { return New(), nil })
}

// Plugin validates Shoot specs against the cluster.
type Plugin struct {
	*admission.Handler
	resources servedResources
}

var (
	_ admission.ValidationInterface     = &Plugin{}
	_ initializer.WantsClusterDiscovery = &Plugin{}
)

// New returns the plugin checking against the standalone allowlist until a cluster's
// discovery is set.
func New() *Plugin {
	return &Plugin{Handler: admission.NewHandler(admission.Create, admission.Update), resources: standaloneResources{}}
}

// SetClusterDiscovery checks resources against the kube-apiserver's discovery; nil (standalone
// mode) keeps the allowlist.
func (p *Plugin) SetClusterDiscovery(d discovery.ServerResourcesInterfaceWithContext) {
	if d != nil {
		p.resources = newClusterResources(d)
	}
}

// ValidateInitialization has nothing to check: both modes have a resource source.
func (p *Plugin) ValidateInitialization() error { return nil }

// Validate checks spec writes of Shoots (not shoots/status).
func (p *Plugin) Validate(ctx context.Context, a admission.Attributes, _ admission.ObjectInterfaces) error {
	if a.GetResource().GroupResource() != core.Resource("shoots") || a.GetSubresource() != "" {
		return nil
	}
	shoot, ok := a.GetObject().(*core.Shoot)
	if !ok {
		return apierrors.NewInternalError(fmt.Errorf("ShootValidator: expected a Shoot, got %T", a.GetObject()))
	}
	var old *core.Shoot
	if a.GetOperation() == admission.Update {
		if old, ok = a.GetOldObject().(*core.Shoot); !ok {
			return apierrors.NewInternalError(fmt.Errorf("ShootValidator: expected the stored Shoot, got %T", a.GetOldObject()))
		}
	}

	allErrs, err := p.validateServed(ctx, shoot, old)
	if err != nil {
		return err
	}
	if len(allErrs) > 0 {
		return apierrors.NewInvalid(core.Kind("Shoot"), shoot.Name, allErrs)
	}
	return nil
}

// validateServed checks the entries added by this write, so that a resource the cluster stops
// serving does not block unrelated updates.
func (p *Plugin) validateServed(ctx context.Context, shoot, old *core.Shoot) (field.ErrorList, error) {
	existing := sets.New[string]()
	if old != nil {
		existing.Insert(encryptionResources(old)...)
	}
	var allErrs field.ErrorList
	for i, r := range encryptionResources(shoot) {
		if existing.Has(r) {
			continue
		}
		served, err := p.resources.Served(ctx, r)
		if err != nil {
			return nil, apierrors.NewInternalError(fmt.Errorf("cannot verify %s: %w", encryptionPath.Child("resources").Index(i), err))
		}
		if !served {
			allErrs = append(allErrs, field.Invalid(encryptionPath.Child("resources").Index(i), r, p.resources.NotServedMessage()))
		}
	}
	return allErrs, nil
}

func encryptionResources(s *core.Shoot) []string {
	if k := s.Spec.Kubernetes.KubeAPIServer; k != nil && k.EncryptionConfig != nil {
		return k.EncryptionConfig.Resources
	}
	return nil
}
