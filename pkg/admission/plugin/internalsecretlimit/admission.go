// Package internalsecretlimit contains the InternalSecretLimit admission plugin: an optional
// maximum number of InternalSecrets per namespace, set in the AdmissionConfiguration.
package internalsecretlimit

import (
	"context"
	"errors"
	"fmt"
	"io"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/client-go/metadata"

	"github.com/garden-apiserver/garden-apiserver/pkg/admission/initializer"
	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core"
	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core/v1beta1"
)

// PluginName is the name of the plugin in --enable-admission-plugins and friends.
const PluginName = "InternalSecretLimit"

// Register registers the plugin.
func Register(plugins *admission.Plugins) {
	plugins.Register(PluginName, func(config io.Reader) (admission.Interface, error) {
		cfg, err := LoadConfiguration(config)
		if err != nil {
			return nil, err
		}
		return New(cfg.MaxInternalSecretsPerNamespace), nil
	})
}

// Plugin denies creating an InternalSecret in a namespace that already has the maximum.
type Plugin struct {
	*admission.Handler
	max      *int32
	metadata metadata.Interface
}

var (
	_ admission.ValidationInterface   = &Plugin{}
	_ initializer.WantsMetadataClient = &Plugin{}
)

// New returns the plugin; a nil maximum handles nothing.
func New(maxPerNamespace *int32) *Plugin {
	ops := []admission.Operation{}
	if maxPerNamespace != nil {
		ops = append(ops, admission.Create)
	}
	return &Plugin{Handler: admission.NewHandler(ops...), max: maxPerNamespace}
}

// SetMetadataClient takes the client used to count: names only, never secret data.
func (p *Plugin) SetMetadataClient(c metadata.Interface) { p.metadata = c }

// ValidateInitialization checks that a configured plugin can count.
func (p *Plugin) ValidateInitialization() error {
	if p.max != nil && p.metadata == nil {
		return errors.New("missing metadata client")
	}
	return nil
}

// Validate counts with a live, consistent list rather than an informer cache, which could lag
// behind the creates just before this one. Concurrent creates can still both pass; there is
// no quota object to serialize them.
func (p *Plugin) Validate(ctx context.Context, a admission.Attributes, _ admission.ObjectInterfaces) error {
	if p.max == nil || a.GetResource().GroupResource() != core.Resource("internalsecrets") || a.GetSubresource() != "" {
		return nil
	}
	list, err := p.metadata.Resource(v1beta1.SchemeGroupVersion.WithResource("internalsecrets")).
		Namespace(a.GetNamespace()).List(ctx, metav1.ListOptions{})
	if err != nil {
		return apierrors.NewInternalError(fmt.Errorf("counting InternalSecrets in namespace %q: %w", a.GetNamespace(), err))
	}
	if count := len(list.Items); count >= int(*p.max) {
		return admission.NewForbidden(a, fmt.Errorf("exceeded the limit of %d InternalSecrets per namespace: namespace %q already has %d",
			*p.max, a.GetNamespace(), count))
	}
	return nil
}
